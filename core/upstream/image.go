package upstream

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/template"
	"time"

	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/iox"
	"github.com/cozyhr/cozyhr/plugins/host"
	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// Builders starts image builder plugins; plugins/host.Host implements it.
type Builders interface {
	ImageBuilder(ctx context.Context, spec host.Spec) (sdk.ImageBuilder, error)
}

// Default call timeout for image builder plugins that set none.
const DefaultImageBuildTimeout = 30 * time.Minute

// BuiltinImageBuilders are the image builders .cozyhr.yaml can name.
func BuiltinImageBuilders() []string { return []string{BuiltinBuildah, BuiltinBuildx} }

// ImageOptions are the flags of cozyhr image.
type ImageOptions struct {
	// Names limits the build to these images; empty builds all.
	Names []string
	// Push pushes and writes the digest into values.yaml; without it the
	// image is only built (and loaded with Load) and nothing is written.
	Push      bool
	Load      bool
	PlainHTTP bool
}

// ImageResult is one built image.
type ImageResult struct {
	Name      string `json:"name"`
	Reference string `json:"reference"`
	Digest    string `json:"digest,omitempty"`
	// Written lists values.yaml paths and files that received the result.
	Written []string `json:"written,omitempty"`
}

// Default builder for images that name none: daemonless, works without Docker.
const DefaultImageBuilder = BuiltinBuildah

// BuildImages builds, pushes and records each image. values.yaml and tag
// files are written once, after every image has been pushed: a failed build
// leaves them untouched.
func BuildImages(ctx context.Context, cfg *config.Chart, plugins Builders, opts ImageOptions, logs io.Writer) ([]ImageResult, error) {
	images, err := selectImages(cfg, opts.Names)
	if err != nil {
		return nil, err
	}
	data := imageTemplateData(cfg)
	valuesFile := filepath.Join(cfg.Dir, "values.yaml")
	var edits []PathValue
	files := map[string][]byte{}
	var results []ImageResult
	for _, i := range images {
		img := cfg.Images[i]
		field := fmt.Sprintf("%s: images[%d]", cfg.Source(), i)
		req, err := buildRequest(cfg, img, field, data, opts)
		if err != nil {
			return nil, err
		}
		builder, builderConfig, err := imageBuilderFor(ctx, cfg, img.Builder, field, plugins)
		if err != nil {
			return nil, err
		}
		req.Config = builderConfig
		fmt.Fprintf(logs, "Building image %s (%s:%s) with %s\n", img.Name, req.Repository, req.Tag, cmp.Or(img.Builder, DefaultImageBuilder))
		buildLog := iox.PrefixLines(logs, "["+img.Name+"] ")
		res, err := builder.Build(ctx, req, buildLog)
		_ = buildLog.Flush()
		if err != nil {
			return nil, fmt.Errorf("build image %s: %w", img.Name, err)
		}
		r := ImageResult{Name: img.Name, Reference: res.Reference, Digest: res.Digest}
		if opts.Push {
			if !strings.HasPrefix(res.Digest, "sha256:") {
				return nil, fmt.Errorf("build image %s: the builder returned no sha256 digest (%q)", img.Name, res.Digest)
			}
			e, written := imageValueEdits(img, req, res.Digest)
			edits = append(edits, e...)
			r.Written = written
			if img.TagFile != "" {
				files[filepath.Join(cfg.Dir, img.TagFile)] = []byte(req.Repository + ":" + req.Tag + "@" + res.Digest + "\n")
				r.Written = append(r.Written, img.TagFile)
			}
		}
		results = append(results, r)
	}
	if len(edits) > 0 {
		src, err := os.ReadFile(valuesFile)
		if err != nil {
			return nil, err
		}
		out, err := EditYAML(src, edits)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", valuesFile, err)
		}
		files[valuesFile] = out
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		if err := iox.WriteFileAtomic(p, files[p]); err != nil {
			return nil, fmt.Errorf("write %s: %w", p, err)
		}
	}
	return results, nil
}

func selectImages(cfg *config.Chart, names []string) ([]int, error) {
	if len(cfg.Images) == 0 {
		return nil, fmt.Errorf("%s declares no images: add an images: list (see .cozyhr.yaml.example)", cfg.Source())
	}
	var out []int
	for i, img := range cfg.Images {
		if len(names) == 0 || slices.Contains(names, img.Name) {
			out = append(out, i)
		}
	}
	for _, n := range names {
		found := false
		for _, img := range cfg.Images {
			found = found || img.Name == n
		}
		if !found {
			var known []string
			for _, img := range cfg.Images {
				known = append(known, img.Name)
			}
			return nil, fmt.Errorf("no image named %q in %s (images: %s)", n, cfg.Source(), strings.Join(known, ", "))
		}
	}
	return out, nil
}

// imageTemplateData is what image fields may use: the vendored upstream
// chart's versions (the chart's own without one) and the environment.
func imageTemplateData(cfg *config.Chart) map[string]any {
	data := map[string]any{"Env": iox.Environ(), "AppVersion": "", "ChartVersion": ""}
	chartFile := filepath.Join(cfg.Dir, "Chart.yaml")
	if up := cfg.Upstream; up != nil {
		if up.Dest != "" {
			chartFile = filepath.Join(cfg.Dir, up.Dest, "Chart.yaml")
		} else if m, _ := filepath.Glob(filepath.Join(cfg.Dir, "charts", "*", "Chart.yaml")); len(m) == 1 {
			chartFile = m[0]
		}
	}
	if md, err := chartutil.LoadChartfile(chartFile); err == nil {
		data["AppVersion"], data["ChartVersion"] = md.AppVersion, md.Version
	}
	return data
}

func expand(field, text string, data map[string]any) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	tmpl, err := template.New(field).Option("missingkey=error").Parse(text)
	if err != nil {
		return "", fmt.Errorf("%s: %w", field, err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, data); err != nil {
		return "", fmt.Errorf("%s: %w (is the variable set?)", field, err)
	}
	return b.String(), nil
}

func buildRequest(cfg *config.Chart, img config.Image, field string, data map[string]any, opts ImageOptions) (*sdk.BuildRequest, error) {
	req := &sdk.BuildRequest{Name: img.Name, ChartDir: cfg.Dir, Target: img.Target, Platforms: img.Platforms,
		Push: opts.Push, Load: opts.Load, PlainHTTP: opts.PlainHTTP, BuildArgs: map[string]string{}}
	var err error
	ctxDir := cmp.Or(img.Context, filepath.Join("images", img.Name))
	req.ContextDir = filepath.Join(cfg.Dir, ctxDir)
	if st, err := os.Stat(req.ContextDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%s.context: %s is not a directory", field, req.ContextDir)
	}
	req.Dockerfile = filepath.Join(req.ContextDir, cmp.Or(img.Dockerfile, "Dockerfile"))
	registry, err := expand(field+".registry", img.Registry, data)
	if err != nil {
		return nil, err
	}
	repo, err := expand(field+".repository", cmp.Or(img.Repository, img.Name), data)
	if err != nil {
		return nil, err
	}
	if registry != "" {
		repo = strings.TrimSuffix(registry, "/") + "/" + repo
	}
	req.Repository = repo
	if req.Tag, err = expand(field+".tag", cmp.Or(img.Tag, "{{ .AppVersion }}"), data); err != nil {
		return nil, err
	}
	if req.Tag == "" {
		return nil, fmt.Errorf("%s.tag is empty: set it, or vendor a chart with an appVersion", field)
	}
	for k, v := range img.BuildArgs {
		if req.BuildArgs[k], err = expand(field+".buildArgs."+k, v, data); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// imageValueEdits says what values.yaml receives, as the Makefiles' yq did:
// the registry and repository, and TAG@DIGEST (or the digest apart).
func imageValueEdits(img config.Image, req *sdk.BuildRequest, digest string) ([]PathValue, []string) {
	var edits []PathValue
	v := img.Values
	repo := req.Repository
	if v.Registry != "" {
		i := strings.LastIndex(repo, "/")
		edits = append(edits, PathValue{v.Registry, repo[:max(i, 0)]})
		repo = repo[i+1:]
	}
	if v.Repository != "" {
		edits = append(edits, PathValue{v.Repository, repo})
	}
	if v.Tag != "" {
		tag := req.Tag + "@" + digest
		if v.Digest != "" {
			tag = req.Tag
		}
		edits = append(edits, PathValue{v.Tag, tag})
	}
	if v.Digest != "" {
		edits = append(edits, PathValue{v.Digest, digest})
	}
	var written []string
	for _, e := range edits {
		written = append(written, "values.yaml "+e.Path)
	}
	return edits, written
}

// imageBuilderFor resolves an image's builder: a built-in unless
// plugins.imageBuilders declares the name with a path, else a plugin.
func imageBuilderFor(ctx context.Context, cfg *config.Chart, name, field string, plugins Builders) (sdk.ImageBuilder, json.RawMessage, error) {
	name = cmp.Or(name, DefaultImageBuilder)
	var pc *config.Plugin
	pcField := field + ".builder"
	for i := range cfg.Plugins.ImageBuilders {
		if b := cfg.Plugins.ImageBuilders[i]; b.Name == name || (b.Name == "" && b.Path == name) {
			pc = &cfg.Plugins.ImageBuilders[i]
			pcField = fmt.Sprintf("%s: plugins.imageBuilders[%d]", cfg.Source(), i)
		}
	}
	var configJSON json.RawMessage = []byte("null")
	if pc != nil && pc.Config != nil {
		var err error
		if configJSON, err = json.Marshal(pc.Config); err != nil {
			return nil, nil, fmt.Errorf("%s.config: %w", pcField, err)
		}
	}
	if pc == nil || pc.Path == "" {
		if b := builtinImageBuilder(name); b != nil {
			return b, configJSON, nil
		}
	}
	spec := host.Spec{Name: name, BaseDir: cfg.Dir, Stage: "image", Field: pcField, Timeout: DefaultImageBuildTimeout}
	if pc != nil {
		timeout, err := host.ParseTimeout(pc.Timeout, DefaultImageBuildTimeout, pcField)
		if err != nil {
			return nil, nil, err
		}
		spec.Path, spec.SHA256, spec.Timeout = pc.Path, pc.SHA256, timeout
	}
	if plugins == nil {
		return nil, nil, fmt.Errorf("%s: plugins are not available here", pcField)
	}
	b, err := plugins.ImageBuilder(ctx, spec)
	return b, configJSON, err
}
