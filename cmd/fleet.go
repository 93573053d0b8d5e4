package cmd

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/kube"
)

// fleetFlags are apply's and resume's --instances, --canary and --yes.
type fleetFlags struct {
	instances bool
	canary    int
	yes       bool
}

func (f *fleetFlags) add(cmd *cobra.Command, verb string) {
	cmd.Flags().BoolVar(&f.instances, "instances", false, verb+" every HelmRelease made from this chart (all namespaces, or -n's), each as itself")
	cmd.Flags().BoolVar(&f.yes, "yes", false, "with --instances: do not ask before touching more than one release")
	if verb == "apply to" {
		cmd.Flags().IntVar(&f.canary, "canary", 0, "with --instances: apply to N instances first, waiting until they are ready, and stop if any of them fails or does not become ready")
	}
}

// runOverInstances runs a command's each once per live instance of the
// chart: every HelmRelease made from it (all namespaces, or -n's), each run
// named after it as if given as NAME -n NAMESPACE, with everything the
// command does for one release (its lock, suspending the HelmRelease,
// recording its status). With --canary N the first N run first, apply
// waiting until they are ready, and a failure among them stops the rest. More than one release needs --yes or a
// confirmation on a terminal.
func (g *globalOptions) runOverInstances(cmd *cobra.Command, each func(r *run) error) error {
	ctx := cmd.Context()
	canary, _ := cmd.Flags().GetInt("canary")
	yes, _ := cmd.Flags().GetBool("yes")
	if len(cmd.Flags().Args()) > 0 || g.charts != nil {
		return fmt.Errorf("--instances works on one chart and finds its HelmReleases itself: leave out NAME, -R and further -C")
	}
	cfg, err := config.Load(config.LoadOptions{Dir: g.chartDir, File: g.configFile})
	if err != nil {
		return err
	}
	cluster := kube.NewCluster(g.kube)
	found, err := g.instances(ctx, cluster, cfg, "", g.streams.ErrOut)
	if err != nil || len(found) == 0 {
		return err
	}
	targets := make([]string, len(found))
	for i, hr := range found {
		targets[i] = hr.Namespace + "/" + hr.Name
	}
	if len(targets) > 1 && !yes {
		if err := g.confirm(fmt.Sprintf("%s %d HelmReleases made from chart %s: %s", cmd.Name(), len(targets), cfg.ChartName, strings.Join(targets, ", "))); err != nil {
			return err
		}
	}
	runs := make([]*chartRun, len(targets))
	jobs := make([]batch.Job, len(targets))
	for i, t := range targets {
		runs[i] = &chartRun{dir: t}
		jobs[i] = batch.Job{Name: t}
	}
	colorOn := g.color()
	// The canaries go first, alone; the rest only when they all succeeded.
	canary = min(max(canary, 0), len(targets))
	run := func(ctx context.Context, i int) error {
		ns, name, _ := strings.Cut(targets[i], "/")
		overrides := instanceOverrides(ns, name)
		if i < canary && cmd.Name() == "apply" {
			// A canary has to become ready, not only be accepted.
			overrides["apply.wait"] = true
		}
		err := g.runOne(ctx, cmd, each, runs[i], g.chartDir, cluster, colorOn, nil, overrides)
		runs[i].outcome.release = targets[i]
		return err
	}
	order := make([]int, len(targets))
	for i := range order {
		order[i] = i
	}
	p := newManyPrinter(g, cmd, runs, order)
	p.column = "HELMRELEASE"
	p.start()
	outcomes := make([]batch.Outcome, len(targets))
	first, err := batch.Plan(jobs[:canary], batch.Options{Concurrency: 1, FailFast: true})
	if err != nil {
		return err
	}
	stopped := false
	for i, o := range first.Run(ctx, p, run) {
		outcomes[i] = o
		stopped = stopped || o.Err != nil || !o.Ran()
	}
	rest, err := batch.Plan(jobs[canary:], batch.Options{Concurrency: g.sel.concurrency, FailFast: g.sel.failFast})
	if err != nil {
		return err
	}
	if stopped {
		for i := canary; i < len(targets); i++ {
			outcomes[i] = batch.Outcome{Skipped: "not started: a canary failed"}
			p.Finished(i, outcomes[i])
		}
	} else {
		for i, o := range rest.Run(ctx, offsetProgress{p, canary}, func(ctx context.Context, i int) error { return run(ctx, i+canary) }) {
			outcomes[i+canary] = o
		}
	}
	p.stop()
	return p.summary(outcomes)
}

// offsetProgress reports a batch over a tail of the instances under their
// own positions.
type offsetProgress struct {
	p      batch.Progress
	offset int
}

func (o offsetProgress) Started(i int)                   { o.p.Started(i + o.offset) }
func (o offsetProgress) Finished(i int, b batch.Outcome) { o.p.Finished(i+o.offset, b) }

// confirm asks on a terminal before touching several releases; elsewhere
// it says to add --yes.
func (g *globalOptions) confirm(what string) error {
	f, ok := g.streams.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return fmt.Errorf("%s: add --yes to go on without a terminal to confirm on", what)
	}
	fmt.Fprintf(g.streams.ErrOut, "%s. Go on? [y/N] ", what)
	answer, _ := bufio.NewReader(f).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return fmt.Errorf("not confirmed: nothing was done")
	}
	return nil
}
