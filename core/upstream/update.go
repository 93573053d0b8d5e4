package upstream

import (
	"archive/tar"
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/cli"
	"helm.sh/helm/v4/pkg/getter"
	"helm.sh/helm/v4/pkg/registry"
	"helm.sh/helm/v4/pkg/repo/v1"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/iox"
	"github.com/cozyhr/cozyhr/plugins/host"
)

// UpdateOptions are the flags of cozyhr update.
type UpdateOptions struct {
	// Version overrides the configured version (or range).
	Version string
	DryRun  bool
	// PlainHTTP talks HTTP to an OCI registry, for local registries.
	PlainHTTP          bool
	Username, Password string
	InsecureSkipTLS    bool
}

// UpdateResult is what cozyhr update did (or would do, with --dry-run).
type UpdateResult struct {
	Chart      string
	Dest       string
	OldVersion string
	NewVersion string
	AppVersion string
	Added      []string
	Removed    []string
	Changed    []string
	Patches    []string
	// Fuzzy lists patch's own lines for hunks that applied only with fuzz
	// or at an offset: the patch is stale and worth refreshing.
	Fuzzy []string
	// Propagated lists the files written from the new version.
	Propagated []string
	DryRun     bool
}

// ErrNoVersion is an upstream whose URL needs a version that neither
// .cozyhr.yaml nor the options give.
var ErrNoVersion = errors.New("set upstream.tarball.version")

// PatchError is a patch that does not apply; nothing was changed.
type PatchError struct {
	Patch   string
	Output  string
	Command string
	// KeptDir holds the fetched chart with the patches before this one
	// applied, to reproduce the failure.
	KeptDir string
}

func (e *PatchError) Error() string {
	return fmt.Sprintf("patch %s does not apply; nothing was changed.\n%s\nTo reproduce on the fetched chart (kept in %s):\n  %s",
		e.Patch, strings.TrimRight(indent(e.Output, "  "), "\n"), e.KeptDir, e.Command)
}

func indent(s, prefix string) string {
	if s == "" {
		return s
	}
	return prefix + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix) + "\n"
}

// Update fetches the upstream chart, applies the patches and propagates the
// version, all or nothing: until every step has succeeded on a staged copy,
// the chart directory is not touched.
func Update(ctx context.Context, cfg *config.Chart, opts UpdateOptions, log io.Writer) (*UpdateResult, error) {
	up := cfg.Upstream
	if up == nil {
		return nil, fmt.Errorf("%s has no upstream: declare where the chart comes from (upstream.helm, upstream.oci or upstream.tarball); see .cozyhr.yaml.example", cfg.Source())
	}
	stage, err := os.MkdirTemp("", "cozyhr-update-")
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			os.RemoveAll(stage)
		}
	}()

	fetched := filepath.Join(stage, "fetched")
	if err := fetchChart(ctx, up, opts, fetched, log); err != nil {
		return nil, err
	}
	newChart, err := loader.LoadDir(fetched)
	if err != nil {
		return nil, fmt.Errorf("the fetched chart does not load: %w", err)
	}
	res := &UpdateResult{Chart: newChart.Name(), NewVersion: newChart.Metadata.Version, AppVersion: newChart.Metadata.AppVersion, DryRun: opts.DryRun}
	res.Dest = up.Dest
	if res.Dest == "" {
		res.Dest = filepath.Join("charts", newChart.Name())
	}
	destAbs := filepath.Join(cfg.Dir, res.Dest)
	if old, err := chartutil.LoadChartfile(filepath.Join(destAbs, "Chart.yaml")); err == nil {
		res.OldVersion = old.Version
	}

	// The staged tree mirrors the chart directory, so patches written
	// against it (git diff in the chart repo) apply with their strip level.
	root := filepath.Join(stage, "tree")
	stagedDest := filepath.Join(root, res.Dest)
	if err := os.MkdirAll(filepath.Dir(stagedDest), 0o755); err != nil {
		return nil, err
	}
	if err := os.Rename(fetched, stagedDest); err != nil {
		return nil, err
	}
	patches, err := patchFiles(cfg)
	if err != nil {
		return nil, err
	}
	strip := 1
	if up.Patches.Strip != nil {
		strip = *up.Patches.Strip
	}
	for _, p := range patches {
		rel, _ := filepath.Rel(cfg.Dir, p)
		out, err := applyPatch(ctx, root, p, strip)
		if err != nil {
			keep = true
			return nil, &PatchError{Patch: rel, Output: out, KeptDir: root,
				Command: fmt.Sprintf("cd %s && patch -p%d < %s", root, strip, p)}
		}
		res.Patches = append(res.Patches, rel)
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, "with fuzz") || strings.Contains(line, "offset") {
				res.Fuzzy = append(res.Fuzzy, rel+": "+strings.TrimSpace(line))
			}
		}
	}

	writes, err := propagate(cfg, up.Propagate, newChart.Metadata.Version, newChart.Metadata.AppVersion)
	if err != nil {
		return nil, err
	}
	if res.Added, res.Removed, res.Changed, err = compareTrees(destAbs, stagedDest); err != nil {
		return nil, err
	}
	for _, w := range writes {
		rel, _ := filepath.Rel(cfg.Dir, w.path)
		res.Propagated = append(res.Propagated, rel)
	}
	if opts.DryRun {
		return res, nil
	}
	if err := replaceDir(destAbs, stagedDest); err != nil {
		return nil, err
	}
	for _, w := range writes {
		if err := iox.WriteFileAtomic(w.path, w.data); err != nil {
			return nil, fmt.Errorf("write %s: %w", w.path, err)
		}
	}
	return res, nil
}

// fetchChart puts the upstream chart, unpacked, at dest.
func fetchChart(ctx context.Context, up *config.Upstream, opts UpdateOptions, dest string, log io.Writer) error {
	switch {
	case up.Helm != nil, up.OCI != nil:
		return pullChart(up, opts, dest, log)
	case up.Tarball != nil:
		return fetchTarball(ctx, up.Tarball, opts, dest, log)
	}
	return fmt.Errorf("upstream: set one of helm, oci or tarball")
}

// chartGetters are how update fetches a chart: from HTTP(S) repositories
// and OCI registries, the sources .cozyhr.yaml takes. Helm's getter
// plugins are not looked for: finding them links Helm's WebAssembly plugin
// runtime, about 4 MiB of the binary, for schemes no .cozyhr.yaml names.
func chartGetters() getter.Providers {
	return getter.Providers{
		{Schemes: []string{"http", "https"}, New: getter.NewHTTPGetter},
		{Schemes: []string{registry.OCIScheme}, New: getter.NewOCIGetter},
	}
}

// pullChart fetches the upstream chart, as helm pull does, and unpacks it
// at dest.
func pullChart(up *config.Upstream, opts UpdateOptions, dest string, log io.Writer) error {
	settings := cli.New()
	regOpts := []registry.ClientOption{registry.ClientOptCredentialsFile(settings.RegistryConfig), registry.ClientOptWriter(io.Discard)}
	if opts.PlainHTTP {
		regOpts = append(regOpts, registry.ClientOptPlainHTTP())
	}
	if opts.Username != "" {
		regOpts = append(regOpts, registry.ClientOptBasicAuth(opts.Username, opts.Password))
	}
	rc, err := registry.NewClient(regOpts...)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "cozyhr-pull-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	var ref, repoURL, version, what string
	if h := up.Helm; h != nil {
		ref, repoURL, version = h.Chart, h.Repo, cmp.Or(opts.Version, h.Version)
		what = fmt.Sprintf("%s from %s", h.Chart, h.Repo)
	} else {
		ref, version = up.OCI.URL, cmp.Or(opts.Version, up.OCI.Version)
		what = up.OCI.URL
	}
	if version != "" {
		what += " version " + version
	}
	fmt.Fprintf(log, "Fetching %s\n", what)
	getterOpts := []getter.Option{
		getter.WithBasicAuth(opts.Username, opts.Password),
		getter.WithInsecureSkipVerifyTLS(opts.InsecureSkipTLS),
		getter.WithPlainHTTP(opts.PlainHTTP),
		getter.WithRegistryClient(rc),
		getter.WithAcceptHeader("application/gzip,application/octet-stream"),
	}
	// Where this version's archive is: the repository's index says, or the
	// registry's tags do (a version may be a constraint), as helm pull finds
	// it. Provenance is not verified (helm pull's default), so Helm's
	// downloader and its OpenPGP code are not needed.
	var u *url.URL
	if repoURL != "" {
		source, err := repo.FindChartInRepoURL(repoURL, ref, chartGetters(),
			repo.WithChartVersion(version),
			repo.WithUsernamePassword(opts.Username, opts.Password),
			repo.WithInsecureSkipTLSVerify(opts.InsecureSkipTLS))
		if err == nil {
			u, err = url.Parse(source)
		}
		if err != nil {
			return fmt.Errorf("fetch %s: %w", what, err)
		}
	} else {
		parsed, err := url.Parse(ref)
		if err == nil {
			_, u, err = rc.ValidateReference(ref, version, parsed)
		}
		if err != nil {
			return fmt.Errorf("fetch %s: %w", what, err)
		}
	}
	g, err := chartGetters().ByScheme(u.Scheme)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", what, err)
	}
	data, err := g.Get(u.String(), getterOpts...)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", what, err)
	}
	archive := filepath.Join(tmp, "chart.tgz")
	if err := os.WriteFile(archive, data.Bytes(), 0o644); err != nil {
		return err
	}
	unpacked := filepath.Join(tmp, "unpacked")
	if err := chartutil.ExpandFile(unpacked, archive); err != nil {
		return err
	}
	entries, err := os.ReadDir(unpacked)
	if err != nil || len(entries) != 1 {
		return fmt.Errorf("fetch %s: the archive does not hold one chart directory", what)
	}
	return os.Rename(filepath.Join(unpacked, entries[0].Name()), dest)
}

// fetchTarball downloads a .tar.gz and unpacks the chart at its path.
func fetchTarball(ctx context.Context, tb *config.TarballSource, opts UpdateOptions, dest string, log io.Writer) error {
	version := cmp.Or(opts.Version, tb.Version)
	tmpl, err := template.New("url").Option("missingkey=error").Parse(tb.URL)
	if err != nil {
		return fmt.Errorf("upstream.tarball.url: %w", err)
	}
	var url bytes.Buffer
	if err := tmpl.Execute(&url, map[string]string{"Version": version}); err != nil {
		return fmt.Errorf("upstream.tarball.url: %w", err)
	}
	if strings.Contains(tb.URL, ".Version") && version == "" {
		return fmt.Errorf("upstream.tarball.url uses {{ .Version }}: %w", ErrNoVersion)
	}
	fmt.Fprintf(log, "Fetching %s\n", url.String())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url.String(), nil)
	if err != nil {
		return err
	}
	if opts.Username != "" {
		req.SetBasicAuth(opts.Username, opts.Password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch %s: %w", url.String(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch %s: %s", url.String(), resp.Status)
	}
	return untarPath(resp.Body, tb.Path, dest)
}

// untarPath extracts the entries under dir of a gzipped tarball into dest.
// A single top-level directory (GitHub's NAME-VERSION/) may be left out of
// dir.
func untarPath(r io.Reader, dir, dest string) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("not a .tar.gz: %w", err)
	}
	dir = strings.Trim(path.Clean("/"+dir), "/")
	tr := tar.NewReader(gz)
	found := false
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read tarball: %w", err)
		}
		name := strings.Trim(path.Clean("/"+hdr.Name), "/")
		rel, ok := under(name, dir)
		if !ok {
			// GitHub archives put everything under NAME-VERSION/.
			if _, rest, cut := strings.Cut(name, "/"); cut {
				rel, ok = under(rest, dir)
			}
		}
		if !ok {
			continue
		}
		found = true
		target := filepath.Join(dest, filepath.FromSlash(rel))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := iox.WriteFrom(target, tr, fs.FileMode(hdr.Mode)|0o600); err != nil {
				return err
			}
		}
	}
	if !found {
		return fmt.Errorf("upstream.tarball.path %q is not in the tarball", dir)
	}
	return nil
}

// under returns name relative to dir when it is inside it.
func under(name, dir string) (string, bool) {
	if name == dir {
		return ".", true
	}
	if rel, ok := strings.CutPrefix(name, dir+"/"); ok && !strings.HasPrefix(rel, "../") {
		return rel, true
	}
	return "", false
}

// patchFiles lists the patches: upstream.patches.files in order, or every
// *.diff and *.patch in upstream.patches.dir (default patches/) by name.
func patchFiles(cfg *config.Chart) ([]string, error) {
	p := cfg.Upstream.Patches
	dir := filepath.Join(cfg.Dir, cmp.Or(p.Dir, "patches"))
	if len(p.Files) > 0 {
		var out []string
		for _, f := range p.Files {
			full := filepath.Join(dir, f)
			if _, err := os.Stat(full); err != nil {
				return nil, fmt.Errorf("%s: upstream.patches.files: %w", cfg.Source(), err)
			}
			out = append(out, full)
		}
		return out, nil
	}
	var out []string
	for _, glob := range []string{"*.diff", "*.patch"} {
		m, _ := filepath.Glob(filepath.Join(dir, glob))
		out = append(out, m...)
	}
	sort.Strings(out)
	return out, nil
}

// applyPatch runs GNU patch in root; patch's own output explains a failure
// (file and hunk).
func applyPatch(ctx context.Context, root, patchFile string, strip int) (string, error) {
	if _, err := exec.LookPath("patch"); err != nil {
		return "", fmt.Errorf("applying %s needs GNU patch: apt-get install patch", patchFile)
	}
	before, err := patchLeftovers(root)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "patch", fmt.Sprintf("-p%d", strip), "--batch", "--forward",
		"--no-backup-if-mismatch", "--reject-file=-", "-i", patchFile)
	cmd.Dir = root
	host.DieWithParent(cmd)
	out, err := cmd.CombinedOutput()
	// Nothing but the patched files may change: no backups or rejects left.
	after, lerr := patchLeftovers(root)
	if lerr != nil {
		return string(out), lerr
	}
	for f := range after {
		if !before[f] {
			if rerr := os.Remove(f); rerr != nil {
				return string(out), rerr
			}
		}
	}
	return string(out), err
}

// patchLeftovers lists the .orig and .rej files under root.
func patchLeftovers(root string) (map[string]bool, error) {
	found := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".orig") || strings.HasSuffix(p, ".rej")) {
			found[p] = true
		}
		return nil
	})
	return found, err
}

type fileWrite struct {
	path string
	data []byte
}

// propagate computes the files that receive the new version: a regexp
// replacement in a file, or a values.yaml key.
func propagate(cfg *config.Chart, props []config.Propagation, version, appVersion string) ([]fileWrite, error) {
	data := map[string]string{"Version": version, "AppVersion": appVersion}
	pending := map[string][]byte{}
	var order []string
	read := func(p string) ([]byte, error) {
		if b, ok := pending[p]; ok {
			return b, nil
		}
		b, err := os.ReadFile(p)
		if err == nil {
			order = append(order, p)
		}
		return b, err
	}
	for i, pr := range props {
		field := fmt.Sprintf("%s: upstream.propagate[%d]", cfg.Source(), i)
		value := version
		if pr.From == "appVersion" {
			value = appVersion
		}
		switch {
		case pr.ValuesPath != "":
			file := filepath.Join(cfg.Dir, cmp.Or(pr.File, "values.yaml"))
			src, err := read(file)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			out, err := EditYAML(src, []PathValue{{Path: pr.ValuesPath, Value: value}})
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", field, file, err)
			}
			pending[file] = out
		case pr.File != "" && pr.Match != "":
			file := filepath.Join(cfg.Dir, pr.File)
			src, err := read(file)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", field, err)
			}
			re, err := regexp.Compile("(?m)" + pr.Match)
			if err != nil {
				return nil, fmt.Errorf("%s.match: %w", field, err)
			}
			if !re.Match(src) {
				return nil, fmt.Errorf("%s: no line of %s matches %q", field, pr.File, pr.Match)
			}
			tmpl, err := template.New("replace").Option("missingkey=error").Parse(cmp.Or(pr.Replace, "{{ .Version }}"))
			if err != nil {
				return nil, fmt.Errorf("%s.replace: %w", field, err)
			}
			var repl bytes.Buffer
			if err := tmpl.Execute(&repl, data); err != nil {
				return nil, fmt.Errorf("%s.replace: %w", field, err)
			}
			pending[file] = re.ReplaceAllLiteral(src, repl.Bytes())
		default:
			return nil, fmt.Errorf("%s: set valuesPath, or file and match", field)
		}
	}
	var out []fileWrite
	for _, p := range order {
		out = append(out, fileWrite{path: p, data: pending[p]})
	}
	return out, nil
}

// compareTrees lists files added, removed and changed from old to new.
func compareTrees(oldDir, newDir string) (added, removed, changed []string, err error) {
	oldFiles, err := hashTree(oldDir)
	if err != nil {
		return nil, nil, nil, err
	}
	newFiles, err := hashTree(newDir)
	if err != nil {
		return nil, nil, nil, err
	}
	for f, h := range newFiles {
		if oh, ok := oldFiles[f]; !ok {
			added = append(added, f)
		} else if oh != h {
			changed = append(changed, f)
		}
	}
	for f := range oldFiles {
		if _, ok := newFiles[f]; !ok {
			removed = append(removed, f)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	sort.Strings(changed)
	return added, removed, changed, nil
}

func hashTree(dir string) (map[string][32]byte, error) {
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = sha256.Sum256(b)
		return nil
	})
	return out, err
}

// replaceDir puts the staged tree at dest: copied beside it first (the
// stage may be on another file system), then swapped with two renames, the
// old tree removed last.
func replaceDir(dest, staged string) error {
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	next, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".new-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(next)
	if err := os.CopyFS(next, os.DirFS(staged)); err != nil {
		return fmt.Errorf("copy the updated chart into place: %w", err)
	}
	old := next + ".old"
	hadOld := true
	if err := os.Rename(dest, old); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		hadOld = false
	}
	if err := os.Rename(next, dest); err != nil {
		if hadOld {
			_ = os.Rename(old, dest)
		}
		return err
	}
	return os.RemoveAll(old)
}
