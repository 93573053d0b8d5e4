// Package review compares a chart at two git revisions, rendered offline
// as helm-controller would with the random template functions seeded, and
// finds which charts a change between two revisions touches. It returns
// data; the command line prints it.
package review

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/gitrev"
)

// Options say what to compare and how to render each side.
type Options struct {
	// Base is the git revision compared with; Head the one compared, ""
	// for the working tree (uncommitted changes included).
	Base, Head string
	// Render are the render inputs both sides share; the review renders
	// deterministically and as text whatever they say.
	Render core.RenderOptions
	// Diff are the comparison's options (ignore rules, Secret masking).
	Diff core.DiffOptions
	// Load reads the chart's configuration as one revision has it, from
	// that revision's copy of the chart directory; nil loads the file alone.
	Load func(dir string) (*config.Chart, error)
	// Plugins runs the post-processors the configuration names; nil when
	// none may run.
	Plugins core.PluginHost
	// Debug receives Helm's debug log; nil discards it.
	Debug io.Writer
}

// Side is one revision of a review.
type Side struct {
	// Name is base or head.
	Name string
	// Ref is the revision as given, "" for the working tree; Commit what
	// it resolved to.
	Ref, Commit string
	// Exists says whether the chart is there at this revision.
	Exists bool
}

// String names the side in a message: the ref and its commit, or the
// working tree.
func (s Side) String() string {
	if s.Ref == "" {
		return "the working tree"
	}
	return s.Ref + ", " + Short(s.Commit)
}

// Short is a commit's abbreviation in messages.
func Short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}

// Case is the comparison of the chart's renders for one value case.
type Case struct {
	// Name is the value case, "" for the chart's own values.
	Name string
	// Result compares the base's render with the head's; nil when either
	// side failed to render.
	Result *core.DiffResult
	// BaseErr and HeadErr say why a side did not render.
	BaseErr, HeadErr error
}

// Chart is the review of one chart.
type Chart struct {
	// Dir is the chart directory as given; Path the chart's path from the
	// repository's top.
	Dir, Path string
	// Release and Namespace are the release's, as the head revision names
	// them (the base's when the chart is removed).
	Release, Namespace string
	Base, Head         Side
	// Cases holds the default values first, then every value case either
	// revision names, by name.
	Cases []Case
	// Warnings say what the review cannot see as the revisions hold it.
	Warnings []string
}

// Err says why the first case that failed did not compare: its side that
// did not render, or both, base first.
func (c *Chart) Err() error {
	for _, cs := range c.Cases {
		if cs.BaseErr != nil || cs.HeadErr != nil {
			return errors.Join(cs.BaseErr, cs.HeadErr)
		}
	}
	return nil
}

// Changes gathers every case's changes in one result, for counting.
func (c *Chart) Changes() *core.DiffResult {
	all := &core.DiffResult{}
	for _, cs := range c.Cases {
		if cs.Result != nil {
			all.Changes = append(all.Changes, cs.Result.Changes...)
		}
	}
	return all
}

// side is a side and, where the chart exists there, its workspace.
type side struct {
	Side
	w        *core.Workspace
	warnings []string
}

// Review compares the chart in chartDir at o.Base with the chart at o.Head
// (the working tree by default), offline, for its default values and then
// each value case either revision names. The sides are said in the result
// even when an error follows; a side that does not render is an error of
// its case, and the other cases are compared still.
func (t *Trees) Review(ctx context.Context, chartDir string, o Options) (*Chart, error) {
	rel, base, head, err := t.sides(ctx, chartDir, o)
	if err != nil {
		return nil, err
	}
	out := &Chart{Dir: chartDir, Path: filepath.ToSlash(rel), Base: base.Side, Head: head.Side, Warnings: append(base.warnings, head.warnings...)}
	if base.w == nil && head.w == nil {
		return out, fmt.Errorf("%s is a chart at neither %s nor %s", rel, base.Ref, head)
	}
	named := head.w
	if named == nil {
		named = base.w
	}
	out.Release, out.Namespace = named.Config.Release.Name, named.Config.Release.Namespace
	for _, name := range caseNames(base.w, head.w) {
		c := Case{Name: name}
		from, ferr := renderSide(ctx, base, name, o)
		to, terr := renderSide(ctx, head, name, o)
		c.BaseErr, c.HeadErr = ferr, terr
		for _, d := range []*core.Desired{from, to} {
			if d != nil {
				for _, u := range d.Unanswered {
					out.Warnings = appendOnce(out.Warnings, "nothing offline answers "+u+": it returned an empty map, as Helm's lookup does offline; give the objects it reads with --lookups FILE, or review with a snapshot")
				}
			}
		}
		if ferr == nil && terr == nil {
			if c.Result, err = core.CompareRenders(ctx, from, to, o.Diff); err != nil {
				return out, err
			}
			c.Result.ApplyRules(named.Config.Diff.Rules)
			c.Result.Prediction = prediction(head.w, from, to, c.Result)
		}
		out.Cases = append(out.Cases, c)
	}
	return out, nil
}

// caseNames are "" (the chart's own values) and then every value case
// either side names, sorted.
func caseNames(sides ...*core.Workspace) []string {
	var names []string
	for _, w := range sides {
		if w != nil {
			names = append(names, w.Config.CaseNames()...)
		}
	}
	slices.Sort(names)
	return append([]string{""}, slices.Compact(names)...)
}

// sides resolves the chart's repository and prepares both revisions; rel
// is the chart's path from the repository's top.
func (t *Trees) sides(ctx context.Context, chartDir string, o Options) (rel string, base, head *side, err error) {
	abs, err := filepath.Abs(chartDir)
	if err != nil {
		return "", nil, nil, err
	}
	if abs, err = realPath(abs); err != nil {
		return "", nil, nil, fmt.Errorf("%s: %w", chartDir, err)
	}
	repo, err := t.Open(ctx, existingParent(abs))
	if err != nil {
		return "", nil, nil, err
	}
	if rel, err = filepath.Rel(repo.Root, abs); err != nil {
		return "", nil, nil, err
	}
	if base, err = t.side(ctx, repo, rel, "base", o.Base, o); err != nil {
		return "", nil, nil, err
	}
	head, err = t.side(ctx, repo, rel, "head", o.Head, o)
	return rel, base, head, err
}

// side prepares the chart at ref ("" for the working tree) for rendering.
func (t *Trees) side(ctx context.Context, repo *gitrev.Repo, rel, name, ref string, o Options) (*side, error) {
	s := &side{Side: Side{Name: name, Ref: ref}}
	dir := filepath.Join(repo.Root, rel)
	if ref != "" {
		var err error
		if s.Commit, err = t.Resolve(ctx, repo, ref); err != nil {
			return nil, err
		}
		tree, err := t.Tree(ctx, repo, s.Commit)
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(tree, rel)
		for _, link := range gitrev.LinksOutside(tree, dir) {
			s.warnings = append(s.warnings, fmt.Sprintf("%s (%s): the committed symbolic link %s points outside the repository: the review reads what is there on this machine now, not what %s held; link to a path inside the repository", name, s.Side, link, ref))
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); errors.Is(err, fs.ErrNotExist) {
		return s, nil // the chart is added or removed between the revisions
	}
	load := o.Load
	if load == nil {
		load = func(dir string) (*config.Chart, error) { return config.Load(config.LoadOptions{Dir: dir}) }
	}
	cfg, err := load(dir)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", name, s.Side, err)
	}
	s.Exists = true
	// The offline notices would say the same for both sides of every chart.
	s.w = &core.Workspace{Config: cfg, Notices: io.Discard, Plugins: o.Plugins}
	return s, nil
}

// renderSide renders one side for a value case ("" for the default values);
// nil where the chart, or the case, does not exist on that side.
func renderSide(ctx context.Context, s *side, caseName string, o Options) (*core.Desired, error) {
	if s.w == nil {
		return nil, nil
	}
	w := *s.w
	if caseName != "" {
		if _, ok := w.Config.Cases[caseName]; !ok {
			return nil, nil // the case is added or removed between the revisions
		}
		var err error
		if w.Config, err = core.WithCase(w.Config, caseName); err != nil {
			return nil, err
		}
	}
	// Random template functions are seeded on both sides, so that only
	// real changes show.
	opts := o.Render
	opts.Deterministic = true
	opts.TextOnly = true // CompareRenders parses what differs
	d, err := w.Desired(ctx, opts, o.Debug)
	if err != nil {
		what := s.Name
		if caseName != "" {
			what += ", case " + caseName
		}
		return nil, fmt.Errorf("%s (%s) does not render: %w", what, s.Side, err)
	}
	return d, nil
}
