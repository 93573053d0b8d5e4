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
	stale, err := review.Golden{Dir: o.golden, ChartDir: r.dir, Cases: cases, Check: o.check,
		Log: func(format string, args ...any) { fmt.Fprintf(r.streams.ErrOut, "cozyhr: "+format+"\n", args...) },
		Render: func(name string) ([]byte, error) {
			cw := *w
			if name != "" {
				if cw.Config, err = core.WithCase(w.Config, name); err != nil {
					return nil, err
				}
			}
			var buf bytes.Buffer
			err := o.print(r, &cw, &buf, true)
			return buf.Bytes(), err
		}}.Run()
	for _, f := range stale {
		switch {
		case f.Missing:
			fmt.Fprintf(r.streams.Out, "%s: missing\n", f.Path)
		case f.Orphan:
			fmt.Fprintf(r.streams.Out, "%s: no such value case any more\n", f.Path)
		}
		fmt.Fprint(r.streams.Out, f.Diff)
	}
	switch {
	case err != nil || !o.check:
		return err
	case len(stale) > 0:
		return &ExitError{Code: ExitChanges, Err: fmt.Errorf("%d golden file(s) under %s are stale: run cozyhr show --golden %s to write them again", len(stale), o.golden, o.golden)}
	}
	fmt.Fprintf(r.streams.ErrOut, "cozyhr: %d golden file(s) of %s up to date\n", len(cases), config.DisplayPath(r.dir))
	return nil
}
