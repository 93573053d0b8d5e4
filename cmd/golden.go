package cmd

import (
	"bytes"
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// goldenFile is where a chart's render for one value case is kept under
// dir: the chart's path as given (relative to the working directory when
// inside it), then the case's name, "default" for the chart's own values.
func goldenFile(dir, chartDir, caseName string) string {
	rel := displayPath(chartDir)
	if strings.HasPrefix(rel, "..") || filepath.IsAbs(rel) {
		rel = filepath.Base(chartDir)
	}
	return filepath.Join(dir, rel, cmp.Or(caseName, "default")+".yaml")
}

// runGolden renders the chart offline and deterministically for its
// default values and every value case, and writes each render to its
// golden file, or with check compares them and fails on any difference,
// printing it, without writing anything.
func (o *showOptions) runGolden(r *run) error {
	w, err := r.workspace(true, map[string]any{})
	if err != nil {
		return err
	}
	o.deterministic = true
	cases := append([]string{""}, w.Config.CaseNames()...)
	want := map[string]bool{}
	stale := 0
	for _, name := range cases {
		cw := *w
		if name != "" {
			if cw.Config, err = withCase(w.Config, name); err != nil {
				return err
			}
		}
		var buf bytes.Buffer
		if err := o.print(r, &cw, &buf); err != nil {
			if name != "" {
				return fmt.Errorf("case %s: %w", name, err)
			}
			return err
		}
		path := goldenFile(o.golden, r.dir, name)
		want[path] = true
		if !o.check {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(r.streams.ErrOut, "cozyhr: wrote %s\n", path)
			continue
		}
		old, err := os.ReadFile(path)
		switch {
		case os.IsNotExist(err):
			stale++
			fmt.Fprintf(r.streams.Out, "%s: missing\n", path)
		case err != nil:
			return err
		case !bytes.Equal(old, buf.Bytes()):
			stale++
			text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{A: difflib.SplitLines(string(old)), B: difflib.SplitLines(buf.String()),
				FromFile: path + " (committed)", ToFile: path + " (rendered now)", Context: 3})
			fmt.Fprint(r.streams.Out, text)
		}
	}
	if o.check {
		// A golden file of a case that no longer exists is stale too.
		others, _ := filepath.Glob(filepath.Join(filepath.Dir(goldenFile(o.golden, r.dir, "")), "*.yaml"))
		for _, f := range others {
			if !want[f] {
				stale++
				fmt.Fprintf(r.streams.Out, "%s: no such value case any more\n", f)
			}
		}
		if stale > 0 {
			return &ExitError{Code: ExitChanges, Err: fmt.Errorf("%d golden file(s) under %s are stale: run cozyhr show --golden %s to write them again", stale, o.golden, o.golden)}
		}
		fmt.Fprintf(r.streams.ErrOut, "cozyhr: %d golden file(s) of %s up to date\n", len(cases), displayPath(r.dir))
	}
	return nil
}
