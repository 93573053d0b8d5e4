package core

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"github.com/cozyhr/cozyhr/core/iox"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/seeded"
	"github.com/cozyhr/cozyhr/core/snapshot"
	"github.com/cozyhr/cozyhr/core/values"
	"helm.sh/helm/v4/pkg/action"
	ci "helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartv2util "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
)

// RenderRequest is everything a renderer needs; it is plain data so that a
// plugin could serve it too.
type RenderRequest struct {
	Chart        *chart.Chart
	ReleaseName  string
	Namespace    string
	Values       map[string]any
	Capabilities *common.Capabilities
	// Lookup answers the lookup template function (the cluster, a
	// snapshot's records, a file of objects); nil renders offline, where
	// lookup returns nothing (as helm template).
	Lookup snapshot.LookupFunc
	// Revision and IsUpgrade fill .Release as the next helm upgrade would.
	Revision             int
	IsUpgrade            bool
	SkipSchemaValidation bool
	// Deterministic seeds the random template functions and fixes now
	// (seeded.Funcs): for review and golden files, never for apply.
	Deterministic bool
}

// Rendered is a chart's output. The render stage fills Files; the
// post-process stage runs over them as Helm's post-render does and then
// splits them into Manifests and Hooks (Sort).
type Rendered struct {
	// CRDs come from the chart's crds/ directories; Helm installs them
	// before everything else and never post-renders them.
	CRDs []manifest.Object
	// Files are the rendered templates by path, before Helm splits them
	// into resources and hooks; nil once sorted.
	Files map[string]string
	// Manifests are the release's resources, in Helm's install order. They
	// and Hooks may be unparsed (see ParseObjects).
	Manifests []manifest.Object
	// Hooks are resources with helm.sh/hook annotations.
	Hooks []manifest.Object
	Notes string
}

// Renderer turns a chart and values into rendered templates.
type Renderer interface {
	Render(ctx context.Context, req RenderRequest) (*Rendered, error)
}

// HelmRenderer renders with Helm v4's template engine, as helm-controller
// (1.5 and later) and helm install and upgrade do.
type HelmRenderer struct{}

// LoadChart loads the chart in dir and checks its dependencies are vendored.
func LoadChart(dir string) (*chart.Chart, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		// A file too large for Helm is said before anything is parsed
		// again: a huge values.yaml would take seconds and hundreds of MB.
		if strings.Contains(err.Error(), "is larger than the maximum file size") {
			if fi, serr := os.Stat(filepath.Join(dir, "values.yaml")); serr == nil && fi.Size() > archive.MaxDecompressedFileSize {
				return nil, fmt.Errorf("load chart %s: values.yaml is %d MiB, larger than the %d MiB Helm loads from a chart: keep large data out of the chart (in a values file outside it)", dir, fi.Size()>>20, archive.MaxDecompressedFileSize>>20)
			}
			// A plugin or image build left inside the chart, usually.
			// The chart's own .helmignore, by name: dir may be a review's
			// temporary copy of the chart.
			return nil, fmt.Errorf("load chart %s: %w; if the file is not part of the chart (a plugin binary, a build output), list it in the chart's .helmignore", dir, err)
		}
		if link, target, ok := iox.SymlinkLoop(dir); ok {
			return nil, fmt.Errorf("load chart %s: %s is a symbolic link to %s, a directory that holds it, so the chart would hold itself without end: remove the link, or list it in the chart's .helmignore", dir, link, target)
		}
		// Helm's own message for a values.yaml that is not a mapping is Go's
		// JSON decoder's; say it in the file's terms. Read again only then.
		if _, verr := values.ReadFile(filepath.Join(dir, "values.yaml")); verr != nil && !errors.Is(verr, fs.ErrNotExist) {
			return nil, fmt.Errorf("chart %s: %w", dir, verr)
		}
		return nil, fmt.Errorf("load chart %s: %w", dir, err)
	}
	// cozyhr's own file is not part of the chart (.Files, helm package:
	// add .cozyhr.yaml to .helmignore for the latter).
	ch.Files = slices.DeleteFunc(ch.Files, func(f *common.File) bool { return f.Name == ".cozyhr.yaml" })
	if err := checkDependencies(ch, dir); err != nil {
		return nil, err
	}
	return ch, nil
}

// checkDependencies checks that the dependencies the chart in dir declares
// are in its charts/ directory, and theirs in theirs: helm checks only the
// top chart's, and a sub-chart's missing one renders nothing of it, without
// a word.
func checkDependencies(ch *chart.Chart, dir string) error {
	if deps := ch.Metadata.Dependencies; len(deps) > 0 {
		reqs := make([]ci.Dependency, len(deps))
		for i, d := range deps {
			reqs[i] = d
		}
		if err := action.CheckDependencies(ch, reqs); err != nil {
			return &DependenciesError{Chart: dir, Err: err}
		}
	}
	for _, sub := range ch.Dependencies() {
		if err := checkDependencies(sub, filepath.Join(dir, "charts", sub.Name())); err != nil {
			return err
		}
	}
	return nil
}

// Render implements Renderer.
func (HelmRenderer) Render(ctx context.Context, req RenderRequest) (*Rendered, error) {
	ch, caps := req.Chart, req.Capabilities
	if caps == nil {
		caps = common.DefaultCapabilities
	}
	if ch.Metadata.KubeVersion != "" && !chartv2util.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, &KubeVersionError{Chart: ch.Name(), Requires: ch.Metadata.KubeVersion, Kubernetes: caps.KubeVersion.String()}
	}
	vals := req.Values
	if vals == nil {
		vals = map[string]any{}
	}
	if err := chartv2util.ProcessDependencies(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s dependencies: %w", ch.Name(), err)
	}
	revision := req.Revision
	if revision == 0 {
		revision = 1
	}
	opts := common.ReleaseOptions{
		Name: req.ReleaseName, Namespace: req.Namespace, Revision: revision,
		IsInstall: !req.IsUpgrade, IsUpgrade: req.IsUpgrade,
	}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, caps, req.SkipSchemaValidation)
	if err != nil {
		return nil, fmt.Errorf("chart %s values: %w", ch.Name(), err)
	}

	var funcs template.FuncMap
	if req.Deterministic {
		funcs = seeded.Funcs(ch.Name())
	}
	files, err := renderTemplates(ctx, ch, top, req.Lookup, funcs)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", ch.Name(), err)
	}

	out := &Rendered{}
	var notes []string
	for name, content := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			if name == path.Join(ch.Name(), "templates", "NOTES.txt") {
				notes = append(notes, content)
			}
			delete(files, name)
		}
	}
	out.Notes = strings.Join(notes, "\n")
	out.Files = files

	for _, crd := range ch.CRDObjects() {
		objs, err := manifest.ParseManifests(crd.File.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", crd.Filename, err)
		}
		// helm template prints a crds/ file whole, once, as it is on disk.
		for i, o := range objs {
			o.Source = crd.Filename
			if i == 0 {
				o.Raw = crd.File.Data
			} else {
				o.Raw, o.InPrevious = nil, true
			}
			out.CRDs = append(out.CRDs, o)
		}
	}
	return out, nil
}

// Sort splits the rendered files into resources in Helm's install order and
// hooks, exactly as Helm does before it stores a release.
func (r *Rendered) Sort() error {
	if r.Files == nil {
		return nil
	}
	hooks, manifests, err := releaseutil.SortManifests(r.Files, nil, releaseutil.InstallOrder)
	if err != nil {
		return fmt.Errorf("split rendered templates: %w", err)
	}
	// Manifests and hooks stay text until something needs them parsed
	// (ParseObjects); Helm has already decoded each document's head.
	r.Manifests = make([]manifest.Object, 0, len(manifests))
	for _, m := range manifests {
		o := manifest.Object{Source: m.Name, Raw: []byte(m.Content)}
		if m.Head != nil {
			o.Head = manifest.Head{APIVersion: m.Head.Version, Kind: m.Head.Kind}
		}
		r.Manifests = append(r.Manifests, o)
	}
	r.Hooks = make([]manifest.Object, 0, len(hooks))
	for _, h := range hooks {
		r.Hooks = append(r.Hooks, manifest.Object{Source: h.Path, Raw: []byte(h.Manifest), Head: manifest.Head{Kind: h.Kind}, Hook: true})
	}
	r.Files = nil
	return nil
}

// renderTemplates runs Helm's engine, which takes no context, so that
// Ctrl-C still ends a long render at once: the command returns and the
// process exits while the abandoned render is still running.
func renderTemplates(ctx context.Context, ch *chart.Chart, top common.Values, lookup snapshot.LookupFunc, funcs template.FuncMap) (map[string]string, error) {
	if lookup != nil {
		// The engine's own lookup needs a client; a function given as a
		// custom one takes its place, whatever answers it.
		funcs = maps.Clone(funcs)
		if funcs == nil {
			funcs = template.FuncMap{}
		}
		funcs["lookup"] = lookup
	}
	type result struct {
		files map[string]string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		var r result
		r.files, r.err = engine.Engine{CustomTemplateFuncs: funcs}.Render(ch, top)
		done <- r
	}()
	select {
	case r := <-done:
		return r.files, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
