package review

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/cozyhr/cozyhr/config"
	"github.com/pmezard/go-difflib/difflib"
)

// GoldenFile is where a chart's render for one value case is kept under
// dir: the chart's path as given (relative to the working directory when
// inside it), then the case's name, "default" for the chart's own values.
func GoldenFile(dir, chartDir, caseName string) string {
	rel := config.DisplayPath(chartDir)
	if strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
		rel = filepath.Base(chartDir)
	}
	return filepath.Join(dir, rel, cmp.Or(caseName, "default")+".yaml")
}

// WriteGolden writes a render to its golden file, making its directory.
func WriteGolden(path string, render []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, render, 0o644)
}

// GoldenStale is how a golden file differs from the render: Missing, or a
// unified diff from the committed file to the render; zero when it is up
// to date.
type GoldenStale struct {
	Missing bool
	Diff    string
}

// Stale reports whether the golden file needs writing again.
func (g GoldenStale) Stale() bool { return g.Missing || g.Diff != "" }

// CheckGolden compares the golden file at path with a render.
func CheckGolden(path string, render []byte) (GoldenStale, error) {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return GoldenStale{Missing: true}, nil
	case err != nil:
		return GoldenStale{}, err
	case bytes.Equal(old, render):
		return GoldenStale{}, nil
	}
	text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(old)), B: difflib.SplitLines(string(render)),
		FromFile: path + " (committed)", ToFile: path + " (rendered now)", Context: 3})
	return GoldenStale{Diff: text}, err
}

// OrphanGolden are the golden files of the chart under dir that belong to
// no value case it has now (want holds the paths of those it has).
func OrphanGolden(dir, chartDir string, want map[string]bool) []string {
	others, _ := filepath.Glob(filepath.Join(filepath.Dir(GoldenFile(dir, chartDir, "")), "*.yaml"))
	var out []string
	for _, f := range others {
		if !want[f] {
			out = append(out, f)
		}
	}
	return out
}

// PruneGolden removes the golden files of the chart under dir that belong
// to no value case it has now (want holds the paths of those it has), so
// that writing the golden files again leaves none stale; it returns those
// it removed.
func PruneGolden(dir, chartDir string, want map[string]bool) ([]string, error) {
	orphans := OrphanGolden(dir, chartDir, want)
	for _, f := range orphans {
		if err := os.Remove(f); err != nil {
			return nil, err
		}
	}
	return orphans, nil
}

// Golden keeps, or with Check compares, one golden file per value case of
// a chart: Render gives a case's render ("" the chart's own values).
type Golden struct {
	Dir, ChartDir string
	Cases         []string
	Check         bool
	Render        func(caseName string) ([]byte, error)
	// Log hears each file written or removed, as it is.
	Log func(format string, args ...any)
}

// GoldenFinding is one golden file that --check finds stale.
type GoldenFinding struct {
	Path string
	GoldenStale
	// Orphan says no value case has the file any more.
	Orphan bool
}

// Run writes every case's golden file and removes those of cases that no
// longer exist; with Check it writes nothing and returns what is stale.
func (g Golden) Run() ([]GoldenFinding, error) {
	want := map[string]bool{}
	var stale []GoldenFinding
	for _, name := range g.Cases {
		render, err := g.Render(name)
		if err != nil {
			if name != "" {
				return stale, fmt.Errorf("case %s: %w", name, err)
			}
			return stale, err
		}
		path := GoldenFile(g.Dir, g.ChartDir, name)
		want[path] = true
		if !g.Check {
			if err := WriteGolden(path, render); err != nil {
				return stale, err
			}
			g.Log("wrote %s", path)
			continue
		}
		st, err := CheckGolden(path, render)
		if err != nil {
			return stale, err
		}
		if st.Stale() {
			stale = append(stale, GoldenFinding{Path: path, GoldenStale: st})
		}
	}
	if g.Check {
		for _, f := range OrphanGolden(g.Dir, g.ChartDir, want) {
			stale = append(stale, GoldenFinding{Path: f, Orphan: true})
		}
		return stale, nil
	}
	// A golden file of a case that no longer exists goes, so that the
	// advice a check gives leaves nothing stale.
	removed, err := PruneGolden(g.Dir, g.ChartDir, want)
	for _, f := range removed {
		g.Log("removed %s: no such value case any more", f)
	}
	return nil, err
}
