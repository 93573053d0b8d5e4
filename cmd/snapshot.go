package cmd

import (
	"cmp"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/review"
	"github.com/cozyhr/cozyhr/core/snapshot"
)

// prodFlags are --snapshot and --max-age: production's inputs read from a
// snapshot instead of the cluster.
type prodFlags struct {
	file   string
	maxAge time.Duration
	header *snapshot.Header
}

func (p *prodFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&p.file, "snapshot", "", "with --instances: read every instance from this `FILE` (cozyhr snapshot), offline, instead of the cluster")
	fs.DurationVar(&p.maxAge, "max-age", 0, "with --snapshot: refuse a snapshot older than this (e.g. 24h)")
}

// open checks the snapshot, once per run.
func (p *prodFlags) open() error {
	if p.file == "" || p.header != nil {
		return nil
	}
	var err error
	p.header, err = snapshot.Open(p.file, p.maxAge, time.Now())
	return err
}

func (p *prodFlags) age() string { return output.SnapshotAge(p.header.Taken) }

// runSnapshotReview compares the chart at --base with the head for every
// instance the snapshot holds, each rendered with its own recorded inputs,
// and prints the fleet's report.
func (o *diffOptions) runSnapshotReview(r *run) error {
	if err := o.prod.open(); err != nil {
		return err
	}
	k, n, _ := config.ParseShard(r.g.instanceShard)
	f, err := r.g.trees.ReviewInstances(r.ctx, r.dir, o.reviewOptions(r), review.Production{Snapshot: o.prod.file, Header: o.prod.header,
		Namespace: *r.g.kube.Namespace, Selector: o.diff.LabelSelector, Shard: k, Shards: n, Concurrency: r.g.sel.concurrency})
	if f != nil {
		fmt.Fprintf(r.streams.ErrOut, "cozyhr: comparing %s with %s for %d instances (%s)\n", f.Base, f.Head, len(f.Instances), o.prod.age())
		for _, w := range f.Warnings {
			fmt.Fprintln(r.streams.ErrOut, "cozyhr: warning:", w)
		}
	}
	if err != nil {
		return err
	}
	title := fmt.Sprintf("cozyhr diff: %s → %s, every instance of %s in production (%s)", o.base, cmp.Or(o.head, "the working tree"), f.Path, o.prod.age())
	return o.fleetOutcome(r, title, f.Instances)
}

// runSnapshotInstances compares the working tree's render of every
// instance the snapshot holds with its deployed release, offline.
func (o *diffOptions) runSnapshotInstances(r *run) error {
	if err := o.prod.open(); err != nil {
		return err
	}
	base, err := config.Load(config.LoadOptions{Dir: r.dir, File: r.g.configFile})
	if err != nil {
		return err
	}
	opts := o.diff
	opts.LabelSelector, opts.Ignore = "", o.ignoreRules
	insts, err := fleet.DiffDeployed(r.ctx, o.prod.file, o.prod.header, fleet.Query{Chart: base, Namespace: *r.g.kube.Namespace, Selector: o.diff.LabelSelector},
		fleet.DiffOptions{Render: o.render.options(r.streams.In), Diff: opts, Open: r.instanceWorkspace, Debug: r.debugWriter()})
	if err != nil {
		return err
	}
	return o.fleetOutcome(r, fmt.Sprintf("cozyhr diff: every instance of chart %s in production (%s)", base.ChartName, o.prod.age()), insts)
}

// fleetOutcome prints a fleet's report and says its exit code.
func (o *diffOptions) fleetOutcome(r *run, title string, insts []fleet.Instance) error {
	for _, res := range fleet.Results(insts) {
		o.findMissingImages(r, res)
	}
	err := output.FleetReportTitled(r.streams.Out, title, insts, o.format, output.HumanOptions{ContextLines: o.contextLines, NoGroup: o.noGroup, Color: r.color()})
	if err != nil {
		return err
	}
	if err := o.failOnFindings(fleet.Results(insts)...); err != nil {
		return err
	}
	return fleetExit(insts, o.exitCode)
}

func newSnapshotCmd(g *globalOptions) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use: "snapshot",
		Example: `  cozyhr snapshot -f prod.json                   # every instance of this chart
  cozyhr snapshot -R charts/ -f prod.json        # of every chart under charts/
  cozyhr diff --base origin/main --instances --snapshot prod.json   # in CI, offline`,
		Short: "Record production's inputs of every instance, for review without credentials",
		Long: `Record, with read access to the cluster, each HelmRelease made from the selected
charts (-n, -l narrow them) with its composed values, lookups, deployed manifest
and the cluster's Capabilities, no secret value in clear (docs/review.md). Review
with it offline: diff --base REF --instances --snapshot FILE.`,
		Args: cobra.NoArgs,
	}
	s := &spec{overMany: true}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		dirs, err := g.selectedDirs()
		if err != nil {
			return err
		}
		sel, _ := cmd.Flags().GetString("selector")
		sum, err := fleet.Take(cmd.Context(), file, fleet.TakeOptions{Dirs: dirs, Namespace: *g.kube.Namespace, Selector: sel,
			Cluster: kube.NewCluster(g.kube), Concurrency: g.sel.concurrency, Plugins: g.pluginHost(), CozyhrVersion: version, Now: time.Now()})
		if err != nil {
			return fmt.Errorf("snapshot %s: %w", file, err)
		}
		for key, e := range sum.Failed {
			fmt.Fprintf(g.streams.ErrOut, "cozyhr: warning: %s recorded in part: %s\n", key, e)
		}
		fmt.Fprintf(g.streams.ErrOut, "cozyhr: wrote %d instances of %d charts to %s (readable by you only; no secret value in it)\n", sum.Instances, sum.Charts, file)
		return nil
	}
	cmd.Flags().StringVarP(&file, "file", "f", "cozyhr-snapshot.json", "write the snapshot to this `FILE`")
	cmd.Flags().StringP("selector", "l", "", "only HelmReleases with these labels")
	return g.declare(cmd, s)
}
