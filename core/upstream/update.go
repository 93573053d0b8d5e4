package upstream

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"

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

// NoVersionError is an upstream whose URL needs a version that neither
// .cozyhr.yaml nor the options give.
type NoVersionError struct{}

func (e *NoVersionError) Error() string {
	return "set upstream.tarball.version"
}

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
