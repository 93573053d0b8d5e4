package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/gitrev"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/spf13/cobra"
)

// revisionTrees are the trees of the revisions a run compares, each
// written once from git's objects into a directory of its own and shared
// by every chart of the run; removed when the run ends.
type revisionTrees struct {
	mu    sync.Mutex
	trees map[string]string // commit → directory
	dirs  []string
}

// tree is the directory holding commit's tree, written on first use.
func (t *revisionTrees) tree(ctx context.Context, repo *gitrev.Repo, commit string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if dir, ok := t.trees[commit]; ok {
		return dir, nil
	}
	parent, err := os.MkdirTemp("", "cozyhr-rev-")
	if err != nil {
		return "", err
	}
	t.dirs = append(t.dirs, parent)
	dir := filepath.Join(parent, "tree")
	if err := repo.Extract(ctx, commit, dir); err != nil {
		return "", err
	}
	if t.trees == nil {
		t.trees = map[string]string{}
	}
	t.trees[commit] = dir
	return dir, nil
}

func (t *revisionTrees) remove() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.dirs {
		os.RemoveAll(d)
	}
	t.dirs, t.trees = nil, nil
}

// revisionSide is one side of a diff between revisions: the chart as the
// revision has it, or nil where the chart does not exist there.
type revisionSide struct {
	name    string // base or head
	ref     string // as the user gave it, "" for the working tree
	commit  string
	desired *core.Desired
}

// runReview compares the chart at --base with the chart at --head (the
// working tree by default), rendered offline as helm-controller would as
// far as the files say, with no cluster.
func (o *diffOptions) runReview(r *run) error {
	res, err := o.reviewResult(r)
	if err != nil {
		return err
	}
	return o.print(r, res, 0)
}

// reviewResult compares the two revisions of the run's chart.
func (o *diffOptions) reviewResult(r *run) (*core.DiffResult, error) {
	ctx := r.cmd.Context()
	chartDir, err := filepath.Abs(r.dir)
	if err != nil {
		return nil, err
	}
	if chartDir, err = filepath.EvalSymlinks(chartDir); err != nil {
		return nil, fmt.Errorf("-C %s: %w", r.dir, err)
	}
	repo, err := gitrev.Open(ctx, chartDir)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(repo.Root, chartDir)
	if err != nil {
		return nil, err
	}
	base, err := o.side(r, repo, rel, "base", o.base)
	if err != nil {
		return nil, err
	}
	head, err := o.side(r, repo, rel, "head", o.head)
	if err != nil {
		return nil, err
	}
	if head.ref == "" {
		fmt.Fprintf(r.streams.ErrOut, "cozyhr: comparing %s (%s) with the working tree, uncommitted changes included\n", base.ref, short(base.commit))
	} else {
		fmt.Fprintf(r.streams.ErrOut, "cozyhr: comparing %s (%s) with %s (%s)\n", base.ref, short(base.commit), head.ref, short(head.commit))
	}
	if base.desired == nil && head.desired == nil {
		return nil, fmt.Errorf("%s is a chart at neither %s nor %s", rel, base.ref, sideName(head))
	}
	return core.CompareRenders(base.desired, head.desired, o.diff)
}

// side renders the chart at ref ("" for the working tree).
func (o *diffOptions) side(r *run, repo *gitrev.Repo, rel, name, ref string) (*revisionSide, error) {
	ctx := r.cmd.Context()
	s := &revisionSide{name: name, ref: ref}
	dir := filepath.Join(repo.Root, rel)
	if ref != "" {
		var err error
		if s.commit, err = repo.Resolve(ctx, ref); err != nil {
			return nil, err
		}
		tree, err := r.g.trees.tree(ctx, repo, s.commit)
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(tree, rel)
	}
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); errors.Is(err, fs.ErrNotExist) {
		return s, nil // the chart is added or removed between the revisions
	}
	cfg, err := r.config(dir, nil)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", name, sideName(s), err)
	}
	// The offline notices say the same for both sides of every chart.
	w := &core.Workspace{Config: cfg, Notices: io.Discard, Plugins: r.g.pluginHost()}
	// Random template functions are seeded on both sides, so that only
	// real changes show.
	opts := o.render.options(r.streams.In)
	opts.Deterministic = true
	if s.desired, err = w.Desired(ctx, opts, r.debugWriter()); err != nil {
		return nil, fmt.Errorf("%s (%s) does not render: %w", name, sideName(s), err)
	}
	return s, nil
}

func sideName(s *revisionSide) string {
	if s.ref == "" {
		return "the working tree"
	}
	return s.ref + ", " + short(s.commit)
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// diffMarkdown prints one review comment for every selected chart: the
// diff between revisions with --base, else against the cluster. Each chart
// runs as it would alone (hooks, notices on stderr); the comment collects
// them. Exit code 1 when a chart failed, else 2 with --exit-code when any
// changes.
func (g *globalOptions) diffMarkdown(cmd *cobra.Command, o *diffOptions) error {
	dirs := g.charts
	if dirs == nil {
		dirs = []string{g.chartDir}
	}
	cluster := kube.NewCluster(g.kube)
	sections := make([]output.Section, len(dirs))
	for i, dir := range dirs {
		r := &run{g: g, cmd: cmd, dir: dir, cluster: cluster,
			streams: IOStreams{In: g.streams.In, Out: io.Discard, ErrOut: g.streams.ErrOut}}
		oc := *o
		var res *core.DiffResult
		err := func() error {
			var err error
			if oc.base != "" {
				res, err = oc.reviewResult(r)
				return err
			}
			w, err := oc.workspace(r)
			if err != nil {
				return err
			}
			res, err = oc.liveResult(r, w, oc.diff)
			return err
		}()
		err = r.finish(cmd.Context(), err)
		sections[i] = output.Section{Chart: displayPath(dir), Result: res, Err: err}
		if err != nil {
			sections[i].Err = errors.New(userMessage(explainTimeout(g.timeouts, err)))
		}
	}
	title := "cozyhr diff against the cluster"
	if o.base != "" {
		title = "cozyhr diff: " + o.base + " → " + cmp.Or(o.head, "the working tree")
	}
	if err := output.DiffMarkdown(g.streams.Out, title, sections, output.CommentLimit); err != nil {
		return err
	}
	failed := slices.ContainsFunc(sections, func(s output.Section) bool { return s.Err != nil })
	changed := slices.ContainsFunc(sections, func(s output.Section) bool { return s.Result != nil && s.Result.HasChanges() })
	switch {
	case failed:
		return &ExitError{Code: ExitFailure, Err: errors.New("a chart could not be diffed"), Silent: true}
	case changed && o.exitCode:
		return &ExitError{Code: ExitChanges, Err: ErrChangesFound, Silent: true}
	}
	return nil
}
