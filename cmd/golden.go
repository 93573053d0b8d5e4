package cmd

import (
	"bytes"
	"fmt"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/review"
)

// runGolden renders the chart offline and deterministically for its
// default values and every value case, and writes each render to its
// golden file, or with check compares them and fails on any difference,
// printing it, without writing anything.
func (o *showOptions) runGolden(r *run) error {
	w, err := r.workspace(true, map[string]any{})
	if err != nil {
		return err
	}
	cases := append([]string{""}, w.Config.CaseNames()...)
	want := map[string]bool{}
	stale := 0
	for _, name := range cases {
		cw := *w
		if name != "" {
			if cw.Config, err = core.WithCase(w.Config, name); err != nil {
				return err
			}
		}
		var buf bytes.Buffer
		if err := o.print(r, &cw, &buf, true); err != nil {
			if name != "" {
				return fmt.Errorf("case %s: %w", name, err)
			}
			return err
		}
		path := review.GoldenFile(o.golden, r.dir, name)
		want[path] = true
		if !o.check {
			if err := review.WriteGolden(path, buf.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(r.streams.ErrOut, "cozyhr: wrote %s\n", path)
			continue
		}
		st, err := review.CheckGolden(path, buf.Bytes())
		if err != nil {
			return err
		}
		if st.Missing {
			fmt.Fprintf(r.streams.Out, "%s: missing\n", path)
		}
		fmt.Fprint(r.streams.Out, st.Diff)
		if st.Stale() {
			stale++
		}
	}
	if !o.check {
		// A golden file of a case that no longer exists goes, so that the
		// advice --check gives leaves nothing stale.
		removed, err := review.PruneGolden(o.golden, r.dir, want)
		for _, f := range removed {
			fmt.Fprintf(r.streams.ErrOut, "cozyhr: removed %s: no such value case any more\n", f)
		}
		return err
	}
	// A golden file of a case that no longer exists is stale too.
	for _, f := range review.OrphanGolden(o.golden, r.dir, want) {
		stale++
		fmt.Fprintf(r.streams.Out, "%s: no such value case any more\n", f)
	}
	if stale > 0 {
		return &ExitError{Code: ExitChanges, Err: fmt.Errorf("%d golden file(s) under %s are stale: run cozyhr show --golden %s to write them again", stale, o.golden, o.golden)}
	}
	fmt.Fprintf(r.streams.ErrOut, "cozyhr: %d golden file(s) of %s up to date\n", len(cases), config.DisplayPath(r.dir))
	return nil
}
