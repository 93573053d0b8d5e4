package cmd

import (
	"cmp"
	"context"
	"fmt"
	"maps"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/normalize"
)

type diffOptions struct {
	render       renderFlags
	diff         core.DiffOptions
	exitCode     bool
	contextLines int
	ignore       []string
	showIgnored  bool
	output       string
	brief        bool
	unified      bool
	noGroup      bool
	// base and head are git revisions to compare, with no cluster.
	base, head string
	// parts is where -o markdown writes numbered comments, "" for stdout.
	parts string
	// failOn is --fail-on's severity, "" for none; checkImages asks the
	// registries for the images a change brings.
	failOn      hazard.Severity
	checkImages bool
	// instances diffs every HelmRelease made from the chart; prod reads
	// them from a snapshot.
	instances bool
	prod      prodFlags

	// Set by validate.
	format      output.Format
	ignoreRules []normalize.IgnoreRule
	// overrides are the flags the user gave that override .cozyhr.yaml's
	// diff:, set by complete.
	overrides map[string]any
}

// diffFormats are what diff -o prints, its default first.
func diffFormats() []output.Format {
	return []output.Format{output.Dyff, output.Brief, output.JSON, output.YAML, output.Unified, output.Markdown}
}

// complete validates the flags and records those that override
// .cozyhr.yaml.
func (o *diffOptions) complete(cmd *cobra.Command) error {
	if err := o.validate(); err != nil {
		return err
	}
	o.overrides = map[string]any{}
	setIfChanged(cmd, o.overrides, "context-lines", "diff.context", o.contextLines)
	return nil
}

// validate checks the flags on their own: the output format and the
// --ignore rules.
func (o *diffOptions) validate() error {
	var err error
	if o.format, err = o.parseFormat(); err != nil {
		return err
	}
	if err := o.render.validate(false); err != nil {
		return err
	}
	if o.parts != "" && (o.format != output.Markdown || o.instances) {
		return fmt.Errorf("--parts writes a Markdown review over charts: add -o markdown (and leave out --instances)")
	}
	if o.head != "" && o.base == "" {
		return fmt.Errorf("--head goes with --base: give the revision to compare it with")
	}
	if o.prod.file == "" && o.base != "" && o.instances {
		return fmt.Errorf("--base compares two revisions and --instances the live instances; give one, or both with --snapshot FILE")
	}
	if o.prod.file != "" && !o.instances {
		return fmt.Errorf("--snapshot holds every instance of a chart: add --instances")
	}
	if o.instances && (o.format == output.Brief || o.format == output.Unified) {
		return fmt.Errorf("with --instances the report is -o dyff, json, yaml or markdown, not %s", o.format)
	}
	if o.base != "" && o.diff.ServerSide {
		return fmt.Errorf("--server-side compares with the cluster and --base with another revision; give one")
	}
	if o.failOn != "" {
		if _, err := hazard.ParseSeverity(string(o.failOn)); err != nil {
			return fmt.Errorf("--fail-on: %w", err)
		}
	}
	if o.diff.LabelSelector != "" {
		if _, err := labels.Parse(o.diff.LabelSelector); err != nil {
			return fmt.Errorf("-l %q: %w", o.diff.LabelSelector, err)
		}
	}
	o.ignoreRules, err = normalize.ParseIgnoreRules(o.ignore, "--ignore")
	return err
}

// onlyChanged narrows a review over many charts to those whose rendered
// inputs changed between the revisions, saying how many and which changed
// paths no chart reads.
func (o *diffOptions) onlyChanged(ctx context.Context, g *globalOptions) error {
	if o.base == "" || g.charts == nil {
		return nil
	}
	cs, err := g.changedCharts(ctx, g.charts, o.base, o.head)
	if err != nil {
		return err
	}
	fmt.Fprintf(g.streams.ErrOut, "cozyhr: %d of %d charts changed since %s\n", len(cs.Charts), len(g.charts), o.base)
	writeUnattributed(g.streams.ErrOut, cs)
	g.charts = cs.Charts
	return nil
}

// workspace is the chart's workspace for a live diff, diff.context
// overridden by the flag when given.
func (o *diffOptions) workspace(r *run) (*core.Workspace, error) {
	return r.workspace(false, maps.Clone(o.overrides))
}

// run renders, compares with the live objects and prints the report.
func (o *diffOptions) run(r *run, w *core.Workspace) error {
	res, err := o.liveResult(r, w, o.diff)
	if err != nil {
		return err
	}
	return o.print(r, res, w.Config.Diff.Context)
}

// liveResult renders the workspace's chart and compares it with the live
// objects, with the chart's ignore rules and the flags' on top of opts.
func (o *diffOptions) liveResult(r *run, w *core.Workspace, opts core.DiffOptions) (*core.DiffResult, error) {
	opts.Ignore = o.ignoreRules
	return w.DiffChart(r.ctx, o.render.options(r.streams.In), opts, r.debugWriter())
}

// print writes the report in the chosen format, and says for the summary
// of a run over many what would change; configContext is diff.context
// from .cozyhr.yaml (the flag, when set, already overrode it).
func (o *diffOptions) print(r *run, res *core.DiffResult, configContext int) error {
	r.result = "no changes"
	if add, change, remove := res.Counts(); add+change+remove > 0 {
		r.result = fmt.Sprintf("%d to add, %d to change, %d to delete", add, change, remove)
	}
	contextLines := cmp.Or(configContext, o.contextLines)
	o.findMissingImages(r, res)
	err := output.Diff(r.streams.Out, res, o.format, output.HumanOptions{ContextLines: contextLines, NoGroup: o.noGroup, Color: r.color()}, o.showIgnored)
	if err != nil {
		return err
	}
	if err := o.failOnFindings(res); err != nil || !o.exitCode || !res.HasChanges() {
		return err
	}
	return errChanges()
}

// findMissingImages adds, with --check-images, a finding for each image
// the change brings that its registry does not serve.
func (o *diffOptions) findMissingImages(r *run, res *core.DiffResult) {
	if o.checkImages && res != nil {
		res.Findings = append(res.Findings, hazard.MissingImages(r.ctx, output.NewImages(res), false)...)
	}
}

// failOnFindings is --fail-on's exit code 4 when a finding reached its
// severity.
func (o *diffOptions) failOnFindings(results ...*core.DiffResult) error {
	n := 0
	for _, res := range results {
		n += res.AtLeast(o.failOn)
	}
	if n == 0 {
		return nil
	}
	return &ExitError{Code: ExitFindings, Err: fmt.Errorf("%d finding(s) at %s or above (--fail-on)", n, o.failOn)}
}

func newDiffCmd(g *globalOptions) *cobra.Command {
	o := &diffOptions{}
	s := &spec{takesName: true, hooked: true, overMany: true, render: &o.render, machine: machineOutput(&o.output)}
	s.list = func() *output.RunList {
		m, _ := s.machine()
		return output.NewRunList(m, "DiffReportList", o.base, o.head)
	}
	cmd := &cobra.Command{
		Use: "diff",
		Example: `  cozyhr diff                        # what apply would change in the live objects
  cozyhr diff --set replicas=3 --exit-code
  cozyhr diff --server-side          # against a server-side apply dry-run
  cozyhr diff -o yaml --kind Deployment`,
		Short: "Show what apply would change in the live objects (replaces make diff)",
		Long: `Compare the rendered, post-processed chart with the LIVE objects in the cluster,
field by field (dyff). Server defaults and Helm/Flux bookkeeping are ignored;
drift made by hand is shown. Objects no longer rendered are shown as deleted.

--server-side compares instead with a server-side apply dry-run of each
object: slower, but it shows defaulting and admission webhooks exactly.

--base REF compares the chart at a git revision with the working tree (or
--head REF) instead, rendered offline on both sides: no cluster needed.
--instances compares with every live HelmRelease made from the chart, each
rendered with its own values, in one report. -o markdown is a review comment.

Ignore rules hide fields: the HelmRelease's spec.driftDetection.ignore,
.cozyhr.yaml diff.ignore, and --ignore [KIND[/NAME]=]/json/pointer.

Exit codes: 0 no changes (or changes without --exit-code), 1 error,
2 changes found with --exit-code.`,
		Args: cobra.NoArgs,
	}
	each := func(r *run) error {
		switch {
		case o.prod.file != "" && o.base != "":
			return o.runSnapshotReview(r)
		case o.prod.file != "":
			return o.runSnapshotInstances(r)
		case o.base != "":
			return o.runReview(r)
		case o.instances:
			return o.runInstances(r)
		}
		w, err := o.workspace(r)
		if err != nil {
			return err
		}
		return o.run(r, w)
	}
	// Everything the flags alone can get wrong is refused before any hook
	// runs or the cluster is asked anything.
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := o.complete(cmd); err != nil {
			return err
		}
		if err := o.onlyChanged(cmd.Context(), g); err != nil {
			return err
		}
		if o.format == output.Markdown && !o.instances {
			return g.diffMarkdown(cmd, s, o)
		}
		return g.runE(s, nil, each)(cmd, args)
	}
	f := cmd.Flags()
	o.render.add(f)
	f.BoolVar(&o.diff.ShowSecrets, "show-secrets", false, "print Secret data instead of masking it")
	f.BoolVar(&o.noGroup, "no-group", false, "print each changed object on its own, even when several change the same way")
	f.StringVar(&o.parts, "parts", "", "with -o markdown: write the review into `DIR` as numbered comments (part-1.md, ...), each under GitHub's limit, cutting nothing that fits")
	f.BoolVar(&o.exitCode, "exit-code", false, "exit with 2 when there are changes (like helm diff --detailed-exitcode)")
	f.BoolVar(&o.exitCode, "detailed-exitcode", false, "alias of --exit-code")
	f.BoolVar(&o.checkImages, "check-images", false, "ask each image's registry whether it serves the images the change brings (image-missing)")
	f.StringVar((*string)(&o.failOn), "fail-on", "", "exit with 4 when a finding is at this `SEVERITY` or above (low, medium, high, critical)")
	f.IntVarP(&o.contextLines, "context-lines", "U", 3, "lines of context around changes (multi-line strings, --unified)")
	f.BoolVar(&o.diff.ServerSide, "server-side", false, "compare with a server-side apply dry-run of each object")
	f.StringArrayVar(&o.ignore, "ignore", nil, "hide a field: [KIND[/NAME]=]/json/pointer (repeatable)")
	f.BoolVar(&o.showIgnored, "show-ignored", false, "list the differences that ignore rules hid")
	outputFlag(cmd, &o.output, diffFormats(), " (a review comment)")
	f.BoolVar(&o.brief, "brief", false, "only count changes per kind (-o brief)")
	f.BoolVar(&o.unified, "unified", false, "classic unified diff of each object's YAML (-o unified)")
	f.StringSliceVar(&o.diff.Kinds, "kind", nil, "only objects of these kinds (repeatable or comma-separated)")
	_ = cmd.RegisterFlagCompletionFunc("kind", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		return g.renderedKinds(cmd.Context()), cobra.ShellCompDirectiveNoFileComp
	})
	f.StringVarP(&o.diff.LabelSelector, "selector", "l", "", "only objects whose rendered labels match this selector")
	f.BoolVar(&o.instances, "instances", false, "diff every HelmRelease made from this chart (all namespaces, or -n's; -l then selects HelmReleases) with its own values")
	f.StringVar(&o.base, "base", "", "compare with the chart at this git `REF` instead of the cluster (no cluster needed)")
	o.prod.add(f)
	f.StringVar(&o.head, "head", "", "with --base: the git `REF` to compare (default: the working tree, uncommitted changes included)")
	return g.declare(cmd, s)
}

// parseFormat settles -o with its --brief and --unified shorthands.
func (o *diffOptions) parseFormat() (output.Format, error) {
	out := o.output
	switch {
	case o.brief && o.unified:
		return "", fmt.Errorf("--brief and --unified are two output formats; give one (or -o brief|unified)")
	case (o.brief || o.unified) && out != "dyff" && out != "":
		return "", fmt.Errorf("--brief/--unified and -o %s are two output formats; give one", out)
	case o.brief:
		out = "brief"
	case o.unified:
		out = "unified"
	}
	return output.Parse(out, diffFormats()...)
}
