package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/post"
	"github.com/cozyhr/cozyhr/core/review"
)

// runReview compares the chart at --base with the chart at --head (the
// working tree by default), rendered offline as helm-controller would as
// far as the files say, with no cluster; a chart with value cases is
// compared once per case, each report under its case's name.
func (o *diffOptions) runReview(r *run) error {
	rev, err := o.reviewChart(r)
	if err != nil {
		return err
	}
	if len(rev.Cases) == 1 {
		return o.print(r, rev.Cases[0].Result, 0)
	}
	quiet := *o
	quiet.exitCode = false // said once, over every case
	for _, c := range rev.Cases {
		c.Result.Case = cmp.Or(c.Name, "default")
		if o.format == output.Dyff || o.format == output.Brief || o.format == output.Unified {
			fmt.Fprintf(r.streams.Out, "# case %s\n", c.Result.Case)
		}
		if err := quiet.print(r, c.Result, 0); err != nil {
			return err
		}
	}
	changes := rev.Changes()
	r.result = "no changes"
	if add, change, remove := changes.Counts(); add+change+remove > 0 {
		r.result = fmt.Sprintf("%d to add, %d to change, %d to delete over %d value cases", add, change, remove, len(rev.Cases))
	}
	if o.exitCode && changes.HasChanges() {
		return errChanges()
	}
	return nil
}

// reviewOptions are the options of this run's review of a chart.
func (o *diffOptions) reviewOptions(r *run) review.Options {
	return review.Options{Base: o.base, Head: o.head, Render: o.render.options(r.streams.In), Diff: o.diff,
		Load: func(dir string) (*config.Chart, error) { return r.config(dir, nil) }, Plugins: r.g.pluginHost(), Debug: r.debugWriter()}
}

// reviewChart reviews the run's chart between the two revisions, saying on
// stderr which revisions it compares.
func (o *diffOptions) reviewChart(r *run) (*review.Chart, error) {
	rev, err := r.g.trees.Review(r.ctx, r.dir, o.reviewOptions(r))
	if rev != nil {
		if rev.Head.Ref == "" {
			fmt.Fprintf(r.streams.ErrOut, "cozyhr: comparing %s (%s) with the working tree, uncommitted changes included\n", rev.Base.Ref, review.Short(rev.Base.Commit))
		} else {
			fmt.Fprintf(r.streams.ErrOut, "cozyhr: comparing %s (%s) with %s (%s)\n", rev.Base.Ref, review.Short(rev.Base.Commit), rev.Head.Ref, review.Short(rev.Head.Commit))
		}
		for _, w := range rev.Warnings {
			fmt.Fprintln(r.streams.ErrOut, "cozyhr: warning:", w)
		}
	}
	if err != nil {
		return nil, err
	}
	return rev, rev.Err()
}

// caseLabel names a value case in a report: nothing when the chart has
// none, "default" for its own values.
func caseLabel(name string, cases int) string {
	if cases < 2 {
		return ""
	}
	return cmp.Or(name, "default")
}

// diffMarkdown prints one review comment for every selected chart: the
// diff between revisions with --base, else against the cluster. Each chart
// runs as it would alone (hooks, notices on stderr), one after another;
// the comment collects them. Exit code 1 when a chart failed, else 2 with
// --exit-code when any changes.
func (g *globalOptions) diffMarkdown(cmd *cobra.Command, s *spec, o *diffOptions) error {
	defer g.sayUnplaced()
	dirs := g.charts
	if dirs == nil {
		dirs = []string{g.chartDir}
	}
	cluster := kube.NewCluster(g.kube)
	found := make([][]output.Section, len(dirs))
	step := func(ctx context.Context, i int) error {
		dir := dirs[i]
		r := &run{g: g, ctx: ctx, spec: s, dir: dir, cluster: cluster,
			streams: IOStreams{In: g.streams.In, Out: io.Discard, ErrOut: g.streams.ErrOut}}
		oc := *o
		err := func() error {
			if oc.base != "" {
				rev, err := oc.reviewChart(r)
				if rev != nil {
					for _, c := range rev.Cases {
						found[i] = append(found[i], output.Section{Chart: config.DisplayPath(dir), Case: caseLabel(c.Name, len(rev.Cases)), Result: c.Result, Release: rev.Namespace + "/" + rev.Release})
					}
				}
				return err
			}
			w, err := oc.workspace(r)
			if err != nil {
				return err
			}
			res, err := oc.liveResult(r, w, oc.diff)
			found[i] = append(found[i], output.Section{Chart: config.DisplayPath(dir), Result: res})
			return err
		}()
		if err = r.finish(ctx, err); err != nil {
			found[i] = []output.Section{{Chart: config.DisplayPath(dir), Err: errors.New(userMessage(explainTimeout(g.timeouts, err)))}}
		}
		return nil
	}
	// One at a time, in the given order: each chart's notices go straight
	// to stderr.
	if _, err := batch.RunJobs(cmd.Context(), batch.Named(dirs), batch.Options{Concurrency: 1}, nil, step); err != nil {
		return err
	}
	if err := cmd.Context().Err(); err != nil {
		return err // a stopped run posts no half a report
	}
	sections := output.Joined(found)
	title := "cozyhr diff against the cluster"
	if o.base != "" {
		title = "cozyhr diff: " + o.base + " → " + cmp.Or(o.head, "the working tree")
	}
	report := output.MarkdownReport{Title: title, Sections: sections, Limit: output.CommentLimit}
	if o.parts != "" {
		if err := writeParts(g.streams.ErrOut, o.parts, report); err != nil {
			return err
		}
	} else if err := output.DiffMarkdown(g.streams.Out, report); err != nil {
		return err
	}
	if err := o.failOnFindings(output.Results(sections)...); err != nil {
		return err
	}
	failed := slices.ContainsFunc(sections, func(s output.Section) bool { return s.Err != nil })
	changed := slices.ContainsFunc(sections, func(s output.Section) bool { return s.Result != nil && s.Result.HasChanges() })
	switch {
	case failed:
		code := map[bool]int{false: ExitFailure, true: ExitChangesAndFailure}[changed && o.exitCode]
		return &ExitError{Code: code, Err: errors.New("a chart could not be diffed"), Silent: true}
	case changed && o.exitCode:
		return errChanges()
	}
	return nil
}

// writeParts writes the review into dir as numbered comments (post.WriteParts).
func writeParts(log io.Writer, dir string, report output.MarkdownReport) error {
	parts, err := output.MarkdownParts(report)
	if err == nil {
		err = post.WriteParts(dir, parts)
	}
	if err != nil {
		return fmt.Errorf("--parts %s: %w", dir, err)
	}
	fmt.Fprintf(log, "cozyhr: wrote the review as %d comment(s) to %s (part-1.md to part-%d.md)\n", len(parts), dir, len(parts))
	return nil
}
