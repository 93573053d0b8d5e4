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
	"strings"
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
	// repos and commits spare a chart of a run over many the git
	// processes the charts before it already ran.
	repos   []*gitrev.Repo
	commits map[string]string // root NUL ref → commit
}

// open is the repository dir is in: one found before when dir is below
// its top with no other repository (a .git) in between.
func (t *revisionTrees) open(ctx context.Context, dir string) (*gitrev.Repo, error) {
	t.mu.Lock()
	for _, repo := range t.repos {
		if within(repo.Root, dir) {
			t.mu.Unlock()
			return repo, nil
		}
	}
	t.mu.Unlock()
	repo, err := gitrev.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.repos = append(t.repos, repo)
	t.mu.Unlock()
	return repo, nil
}

// within reports whether dir is below root with no .git in between.
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return false
	}
	for d := dir; d != root && len(d) > len(root); d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return false
		}
	}
	return true
}

// resolve is the commit ref names in repo, asked of git once per run.
func (t *revisionTrees) resolve(ctx context.Context, repo *gitrev.Repo, ref string) (string, error) {
	key := repo.Root + "\x00" + ref
	t.mu.Lock()
	commit, ok := t.commits[key]
	t.mu.Unlock()
	if ok {
		return commit, nil
	}
	commit, err := repo.Resolve(ctx, ref)
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	if t.commits == nil {
		t.commits = map[string]string{}
	}
	t.commits[key] = commit
	t.mu.Unlock()
	return commit, nil
}

// tree is the directory holding commit's tree, written on first use.
func (t *revisionTrees) tree(ctx context.Context, repo *gitrev.Repo, commit string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if dir, ok := t.trees[commit]; ok {
		return dir, nil
	}
	parent, err := mkTreeDir()
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

// mkTreeDir makes the directory a revision tree is written in: under
// TMPDIR when set, else under /dev/shm when it is there to write in. A tree
// is many small files, and creating them on a disk can cost more than
// rendering them (0.46 s against 0.01 s for 600 files on the machine
// docs/performance.md measures on).
func mkTreeDir() (string, error) {
	if os.Getenv("TMPDIR") == "" {
		if dir, err := os.MkdirTemp("/dev/shm", "cozyhr-rev-"); err == nil {
			return dir, nil
		}
	}
	return os.MkdirTemp("", "cozyhr-rev-")
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
// revision has it, its workspace nil where the chart does not exist there.
type revisionSide struct {
	name   string // base or head
	ref    string // as the user gave it, "" for the working tree
	commit string
	w      *core.Workspace
}

// caseResult is the comparison of the chart's render for one value case,
// "" for its default values.
type caseResult struct {
	name string
	res  *core.DiffResult
}

// runReview compares the chart at --base with the chart at --head (the
// working tree by default), rendered offline as helm-controller would as
// far as the files say, with no cluster; a chart with value cases is
// compared once per case, each report under its case's name.
func (o *diffOptions) runReview(r *run) error {
	results, err := o.reviewResult(r)
	if err != nil {
		return err
	}
	if len(results) == 1 {
		return o.print(r, results[0].res, 0)
	}
	quiet := *o
	quiet.exitCode = false // said once, over every case
	changes := &core.DiffResult{}
	for _, c := range results {
		c.res.Case = cmp.Or(c.name, "default")
		if o.format == output.Dyff || o.format == output.Brief || o.format == output.Unified {
			fmt.Fprintf(r.streams.Out, "# case %s\n", c.res.Case)
		}
		if err := quiet.print(r, c.res, 0); err != nil {
			return err
		}
		changes.Changes = append(changes.Changes, c.res.Changes...)
	}
	r.result = "no changes"
	if add, change, remove := changes.Counts(); add+change+remove > 0 {
		r.result = fmt.Sprintf("%d to add, %d to change, %d to delete over %d value cases", add, change, remove, len(results))
	}
	if o.exitCode && changes.HasChanges() {
		return &ExitError{Code: ExitChanges, Err: ErrChangesFound, Silent: true}
	}
	return nil
}

// reviewResult compares the two revisions of the run's chart, for its
// default values and then each value case either revision names.
func (o *diffOptions) reviewResult(r *run) ([]caseResult, error) {
	ctx := r.cmd.Context()
	chartDir, err := filepath.Abs(r.dir)
	if err != nil {
		return nil, err
	}
	if chartDir, err = realPath(chartDir); err != nil {
		return nil, fmt.Errorf("-C %s: %w", r.dir, err)
	}
	repo, err := r.g.trees.open(ctx, existingParent(chartDir))
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
	if base.w == nil && head.w == nil {
		return nil, fmt.Errorf("%s is a chart at neither %s nor %s", rel, base.ref, sideName(head))
	}
	cases := []string{""}
	for _, s := range []*revisionSide{base, head} {
		if s.w != nil {
			cases = append(cases, s.w.Config.CaseNames()...)
		}
	}
	slices.Sort(cases[1:])
	cases = slices.Compact(cases)
	out := make([]caseResult, 0, len(cases))
	for _, name := range cases {
		from, err := o.renderSide(r, base, name)
		if err != nil {
			return nil, err
		}
		to, err := o.renderSide(r, head, name)
		if err != nil {
			return nil, err
		}
		res, err := core.CompareRenders(from, to, o.diff)
		if err != nil {
			return nil, err
		}
		out = append(out, caseResult{name: name, res: res})
	}
	return out, nil
}

// side prepares the chart at ref ("" for the working tree) for rendering.
func (o *diffOptions) side(r *run, repo *gitrev.Repo, rel, name, ref string) (*revisionSide, error) {
	ctx := r.cmd.Context()
	s := &revisionSide{name: name, ref: ref}
	dir := filepath.Join(repo.Root, rel)
	if ref != "" {
		var err error
		if s.commit, err = r.g.trees.resolve(ctx, repo, ref); err != nil {
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
	s.w = &core.Workspace{Config: cfg, Notices: io.Discard, Plugins: r.g.pluginHost()}
	return s, nil
}

// renderSide renders one side for a value case ("" for the default values);
// nil where the chart, or the case, does not exist on that side.
func (o *diffOptions) renderSide(r *run, s *revisionSide, caseName string) (*core.Desired, error) {
	if s.w == nil {
		return nil, nil
	}
	w := *s.w
	if caseName != "" {
		if _, ok := w.Config.Cases[caseName]; !ok {
			return nil, nil // the case is added or removed between the revisions
		}
		var err error
		if w.Config, err = withCase(w.Config, caseName); err != nil {
			return nil, err
		}
	}
	// Random template functions are seeded on both sides, so that only
	// real changes show.
	opts := o.render.options(r.streams.In)
	opts.Deterministic = true
	opts.TextOnly = true // CompareRenders parses what differs
	d, err := w.Desired(r.cmd.Context(), opts, r.debugWriter())
	if err != nil {
		what := s.name
		if caseName != "" {
			what += ", case " + caseName
		}
		return nil, fmt.Errorf("%s (%s) does not render: %w", what, sideName(s), err)
	}
	return d, nil
}

// realPath resolves the symlinks of dir, or of its nearest parent that
// exists: a chart removed since the base is no longer in the working tree.
func realPath(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(dir) == dir {
		return real, err
	}
	parent, err := realPath(filepath.Dir(dir))
	return filepath.Join(parent, filepath.Base(dir)), err
}

// existingParent is dir, or its nearest parent that exists.
func existingParent(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil || filepath.Dir(dir) == dir {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}

// caseLabel names a value case in a report: nothing when the chart has
// none, "default" for its own values.
func caseLabel(name string, cases int) string {
	if cases < 2 {
		return ""
	}
	return cmp.Or(name, "default")
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
	var sections []output.Section
	for _, dir := range dirs {
		r := &run{g: g, cmd: cmd, dir: dir, cluster: cluster,
			streams: IOStreams{In: g.streams.In, Out: io.Discard, ErrOut: g.streams.ErrOut}}
		oc := *o
		var found []output.Section
		err := func() error {
			if oc.base != "" {
				results, err := oc.reviewResult(r)
				for _, c := range results {
					found = append(found, output.Section{Chart: displayPath(dir), Case: caseLabel(c.name, len(results)), Result: c.res})
				}
				return err
			}
			w, err := oc.workspace(r)
			if err != nil {
				return err
			}
			res, err := oc.liveResult(r, w, oc.diff)
			found = append(found, output.Section{Chart: displayPath(dir), Result: res})
			return err
		}()
		if err = r.finish(cmd.Context(), err); err != nil {
			found = []output.Section{{Chart: displayPath(dir), Err: errors.New(userMessage(explainTimeout(g.timeouts, err)))}}
		}
		sections = append(sections, found...)
	}
	title := "cozyhr diff against the cluster"
	if o.base != "" {
		title = "cozyhr diff: " + o.base + " → " + cmp.Or(o.head, "the working tree")
	}
	if err := output.DiffMarkdown(g.streams.Out, output.MarkdownReport{Title: title, Sections: sections, Limit: output.CommentLimit}); err != nil {
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
