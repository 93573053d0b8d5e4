package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/lock"
	"github.com/cozyhr/cozyhr/core/plan"
)

// manyRun is a command run over many charts or many instances: the one
// way cozyhr runs a step many times.
type manyRun struct {
	spec *spec
	runs []*output.Job
	jobs []batch.Job
	opts batch.Options
	// column names the runs in the summary: CHART or HELMRELEASE.
	column string
	step   func(ctx context.Context, i int) error
	// ended, when set, hears the outcomes before the summary is printed.
	ended func([]batch.Outcome)
}

// runMany plans the jobs with core/batch (dependencies, canaries, the
// costliest first), runs them at most --concurrency at once, prints each
// one's output whole and in a stable order with a progress view, then the
// summary, whose tally is the run's error: 1 when any failed or did not
// run, else 2 when any diff --exit-code found changes.
func (g *globalOptions) runMany(ctx context.Context, m manyRun) error {
	m.opts.Benign = isChanges
	plan, err := batch.Plan(m.jobs, m.opts)
	if err != nil {
		return err
	}
	p := &output.Many{Out: g.streams.Out, ErrOut: g.streams.ErrOut, Jobs: m.runs, Order: plan.Order,
		Column: m.column, Failure: g.failure, Benign: isChanges}
	if m.spec.machine != nil {
		p.Machine, p.YAMLOut = m.spec.machine()
	}
	if m.spec.list != nil && m.column != "HELMRELEASE" {
		p.List, p.ErrorText = m.spec.list(), func(err error) string { return userMessage(explainTimeout(g.timeouts, err)) }
	}
	p.Start()
	outcomes := plan.Run(ctx, p, m.step)
	if m.ended != nil {
		m.ended(outcomes)
	}
	p.Stop()
	if err := p.Summary(outcomes); err != nil {
		return err
	}
	t := plan.Tally(outcomes)
	switch {
	case ctx.Err() != nil:
		return &InterruptedError{State: fmt.Sprintf("%d of %d charts started; the summary above says how each ended", t.Ran(), t.Jobs), Err: ctx.Err()}
	case len(t.Failed) > 0:
		msg := fmt.Sprintf("%d of %d charts failed: %s", len(t.Failed), t.Jobs, strings.Join(plan.FailedNames(t), ", "))
		if t.Skipped > 0 {
			msg += fmt.Sprintf("; %d not run", t.Skipped)
		}
		return &ExitError{Code: map[bool]int{false: ExitFailure, true: ExitChangesAndFailure}[t.Changed > 0], Err: errors.New(msg)}
	case t.Skipped > 0:
		return fmt.Errorf("%d of %d charts were not run", t.Skipped, t.Jobs)
	case t.Changed > 0:
		return errChanges()
	}
	return nil
}

// failure is how a chart that failed ended, in a few words, for the
// progress lines and the summary.
func (g *globalOptions) failure(err error) string {
	if errors.Is(err, context.Canceled) || ExitCode(err) == ExitInterrupted {
		return "interrupted"
	}
	msg, _, _ := strings.Cut(userMessage(explainTimeout(g.timeouts, err)), "\n")
	if len([]rune(msg)) > 70 {
		msg = string([]rune(msg)[:69]) + "…"
	}
	return "failed: " + msg
}

// runOne is one chart's run of a run over many (or over instances):
// output kept in cr, the error printed there as a run alone prints it,
// the outcome recorded for the summary.
func (g *globalOptions) runOne(ctx context.Context, s *spec, each func(r *run) error, job *output.Job,
	dir string, cluster *kube.Cluster, colorOn bool, stdin []byte, overrides map[string]any) error {
	r := g.newRun(ctx, s, dir, IOStreams{In: bytes.NewReader(stdin), Out: &job.Out, ErrOut: &job.ErrOut})
	r.cluster, r.colorOn, r.overrides = cluster, colorOn, overrides
	err := g.report(r.streams.ErrOut, r.finish(ctx, each(r)))
	job.Release, job.Result = r.release, r.result
	return err
}

// runCharts runs each over every selected chart: in dependency order for
// apply and delete, the costliest first by what each chart's last run took.
// Every chart's run shares one connection (one discovery, one set of
// clients) and one plugin host.
func (g *globalOptions) runCharts(ctx context.Context, s *spec, each func(r *run) error) error {
	cluster, colorOn := kube.NewCluster(g.kube), g.color()
	// -f - reads stdin once; every chart gets the same values.
	var stdin []byte
	if s.render != nil && slices.Contains(s.render.values.Files, "-") {
		var err error
		if stdin, err = io.ReadAll(g.streams.In); err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
	}
	readOrder := s.ordered && !(s.offline != nil && *s.offline)

	runs := make([]*output.Job, len(g.charts))
	for i, dir := range g.charts {
		runs[i] = &output.Job{Name: dir}
	}
	jobs := batch.Named(g.charts)
	if readOrder {
		jobs = plan.Jobs(ctx, cluster, g.charts)
	}
	timings := batch.LoadTimings(batch.CacheDir())
	for i, w := range timings.Weights(s.stage, g.charts) {
		jobs[i].Weight = w
	}
	if readOrder {
		if err := plan.Check(ctx, cluster, jobs, g.streams.ErrOut); err != nil {
			return err
		}
	}
	defer g.sayUnplaced()
	return g.runMany(ctx, manyRun{
		spec: s, runs: runs, jobs: jobs, column: "CHART",
		opts: batch.Options{Concurrency: g.sel.concurrency, FailFast: g.sel.failFast, Ordered: s.ordered, Reverse: s.reverse},
		step: func(ctx context.Context, i int) error {
			return g.runOne(ctx, s, each, runs[i], runs[i].Name, cluster, colorOn, stdin, nil)
		},
		ended: func(outcomes []batch.Outcome) {
			took := make([]time.Duration, len(outcomes))
			for i, o := range outcomes {
				// A failure (a chart that does not render) says nothing of
				// what the chart costs when it works: its last good timing
				// stays.
				if o.Ran() && (o.Err == nil || isChanges(o.Err)) {
					took[i] = o.Took
				}
			}
			timings.Record(s.stage, g.charts, took)
			for i, r := range runs {
				if r.Release == "" && jobs[i].Key != "" {
					r.Release = jobs[i].Key
				}
			}
		},
	})
}

// runOverInstances runs a command's each once per live instance of the
// chart: every HelmRelease made from it (all namespaces, or -n's), each run
// named after it as if given as NAME -n NAMESPACE, with everything the
// command does for one release (its lock, suspending the HelmRelease,
// recording its status). With --canary N the first N run first, apply
// waiting until they are ready, and a failure among them stops the rest.
// More than one release needs --yes or a confirmation on a terminal.
func (g *globalOptions) runOverInstances(ctx context.Context, s *spec, each func(r *run) error) error {
	if len(g.args) > 0 || g.charts != nil {
		return fmt.Errorf("--instances works on one chart and finds its HelmReleases itself: leave out NAME, -R and further -C")
	}
	cfg, err := config.Load(config.LoadOptions{Dir: g.chartDir, File: g.configFile})
	if err != nil {
		return err
	}
	cluster := kube.NewCluster(g.kube)
	found, err := g.listInstances(ctx, cluster, cfg, "", g.streams.ErrOut)
	if err != nil || len(found) == 0 {
		return err
	}
	targets := make([]string, len(found))
	for i, hr := range found {
		targets[i] = hr.Namespace + "/" + hr.Name
	}
	if len(targets) > 1 && !s.fleet.yes {
		if err := output.Confirm(g.streams.In, g.streams.ErrOut, fmt.Sprintf("%s %d HelmReleases made from chart %s: %s", s.stage, len(targets), cfg.ChartName, strings.Join(targets, ", "))); err != nil {
			return err
		}
	}
	if s.stage == "apply" {
		held, err := fleet.Lock(ctx, cluster, cfg.ChartName, lock.Options{Command: "apply --instances", Wait: g.waitForLock,
			Log: func(msg string) { fmt.Fprintln(g.streams.ErrOut, "cozyhr:", msg) }})
		if err != nil {
			return err
		}
		defer held.Release()
	}
	runs := make([]*output.Job, len(targets))
	for i, t := range targets {
		runs[i] = &output.Job{Name: t}
	}
	colorOn := g.color()
	canary := min(max(s.fleet.canary, 0), len(targets))
	return g.runMany(ctx, manyRun{
		spec: s, runs: runs, jobs: batch.Named(targets), column: "HELMRELEASE",
		opts: batch.Options{Concurrency: g.sel.concurrency, FailFast: g.sel.failFast, Canary: canary},
		step: func(ctx context.Context, i int) error {
			overrides := fleet.Overrides(found[i].Namespace, found[i].Name)
			if i < canary {
				// A canary has to become ready, not only be accepted.
				overrides["apply.wait"] = true
			}
			err := g.runOne(ctx, s, each, runs[i], g.chartDir, cluster, colorOn, nil, overrides)
			// The release as helm-controller names it (targetNamespace and
			// releaseName count), beside the HelmRelease it belongs to.
			in := fleet.Describe(&found[i])
			runs[i].Release = in.ReleaseNamespace + "/" + in.Release
			return err
		},
	})
}

// listInstances are the chart's live instances (in -n's namespace, or
// all), selector (-l) narrowing them; none is said on w.
func (g *globalOptions) listInstances(ctx context.Context, cluster *kube.Cluster, cfg *config.Chart, selector string, w io.Writer) ([]helmv2.HelmRelease, error) {
	cl, err := cluster.Client()
	if err != nil {
		return nil, err
	}
	q := fleet.Query{Chart: cfg, Namespace: *g.kube.Namespace, Selector: selector}
	found, err := fleet.List(ctx, cl, q)
	if err == nil && len(found) == 0 {
		fmt.Fprintln(w, q.NoneFound())
	}
	return found, err
}

// sayUnplaced names, once after a run over many, the charts that no file
// gives a namespace (no .cozyhr.yaml, defaults file, Makefile NAMESPACE,
// nor -n), which were therefore worked on in the kubeconfig's namespace,
// offline "default": a platform's charts often refuse it, and each one's
// error alone would not say why.
func (g *globalOptions) sayUnplaced() {
	if *g.kube.Namespace != "" {
		return
	}
	if unplaced := config.Unplaced(g.charts); len(unplaced) > 0 {
		fmt.Fprintf(g.streams.ErrOut, "cozyhr: %d of %d charts have no namespace (no %s, defaults file or Makefile NAMESPACE) and fell back to the kubeconfig's, offline \"default\": %s; give them one in a defaults file (docs/review.md) or with -n\n",
			len(unplaced), len(g.charts), config.FileName, strings.Join(unplaced, ", "))
	}
}
