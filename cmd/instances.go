package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"slices"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/flux"
)

// runInstances diffs the working-tree chart against every live instance of
// it (core/fleet): each rendered with that HelmRelease's own values as
// helm-controller would and compared with its live objects, -l selecting
// HelmReleases. One report for the fleet, and an exit code over all of
// them.
func (o *diffOptions) runInstances(r *run) error {
	base, found, err := r.instances(o.diff.LabelSelector)
	if err != nil || len(found) == 0 {
		return err
	}
	// A suspended one is said by its prediction (not reconciled).
	opts := o.diff
	opts.LabelSelector = "" // -l chose the HelmReleases
	opts.Ignore = o.ignoreRules
	insts := fleet.Diff(r.ctx, found, fleet.DiffOptions{
		Render: o.render.options(r.streams.In), Diff: opts, Concurrency: r.g.sel.concurrency,
		Open: r.instanceWorkspace, Debug: r.debugWriter(),
	})
	return o.fleetOutcome(r, "cozyhr diff: every instance of chart "+base.ChartName, insts)
}

// fleetExit is a fleet diff's outcome: 1 when an instance failed, else 2
// with --exit-code when any changes.
func fleetExit(insts []fleet.Instance, exitCode bool) error {
	failed := slices.ContainsFunc(insts, func(i fleet.Instance) bool { return i.Err != nil })
	changed := slices.ContainsFunc(insts, func(i fleet.Instance) bool { return i.Result != nil && i.Result.HasChanges() })
	switch {
	case failed:
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("some instances could not be diffed"), Silent: true}
	case changed && exitCode:
		return errChanges()
	}
	return nil
}

// instances loads the run's chart and lists its live instances.
func (r *run) instances(selector string) (*config.Chart, []helmv2.HelmRelease, error) {
	base, err := config.Load(config.LoadOptions{Dir: r.dir, File: r.g.configFile})
	if err != nil {
		return nil, nil, err
	}
	found, err := r.g.listInstances(r.ctx, r.cluster, base, selector, r.streams.ErrOut)
	return base, found, err
}

// instanceWorkspace is the workspace of one instance: the run's chart
// named after that HelmRelease.
func (r *run) instanceWorkspace(hr *helmv2.HelmRelease) (*core.Workspace, error) {
	cfg, err := config.Load(config.LoadOptions{Dir: r.dir, File: r.g.configFile, Overrides: fleet.Overrides(hr.Namespace, hr.Name)})
	if err != nil {
		return nil, err
	}
	return &core.Workspace{Config: cfg, Cluster: r.cluster, Notices: io.Discard, Plugins: r.g.pluginHost()}, nil
}

// instanceSource lists the chart's instances, live or from the
// snapshot, and opens each one's workspace: from the snapshot offline,
// with its recorded inputs.
func (r *run) instanceSource(p *prodFlags) ([]helmv2.HelmRelease, func(*helmv2.HelmRelease) (*core.Workspace, error), error) {
	if p.file == "" {
		_, found, err := r.instances("")
		return found, r.instanceWorkspace, err
	}
	if err := p.open(); err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(config.LoadOptions{Dir: r.dir, File: r.g.configFile})
	if err != nil {
		return nil, nil, err
	}
	found, recs, err := fleet.Recordings(p.file, p.header, fleet.Query{Chart: cfg, Namespace: *r.g.kube.Namespace})
	return found, func(hr *helmv2.HelmRelease) (*core.Workspace, error) {
		w, err := r.instanceWorkspace(hr)
		if err == nil {
			w.Cluster, w.Recorded = nil, recs[hr.Namespace+"/"+hr.Name]
		}
		return w, err
	}, err
}

// runInstances renders the working-tree chart once for every live
// instance, each with that HelmRelease's values, one after another under
// a comment naming the HelmRelease (none in -o json); an instance that does
// not render is said and the others go on.
func (o *showOptions) runInstances(r *run) error {
	found, open, err := r.instanceSource(&o.prod)
	if err != nil || len(found) == 0 {
		return err
	}
	outs := make([]bytes.Buffer, len(found))
	errs := fleet.Each(r.ctx, found, r.g.sel.concurrency, open, func(_ context.Context, n int, w *core.Workspace) error {
		return o.print(r, w, &outs[n], o.deterministic)
	})
	failed := 0
	for n, hr := range found {
		if errs[n] != nil {
			failed++
			fmt.Fprintf(r.streams.ErrOut, "cozyhr: %s/%s: %s\n", hr.Namespace, hr.Name, userMessage(errs[n]))
			continue
		}
		if o.show.Output != output.JSON {
			fmt.Fprintf(r.streams.Out, "# HelmRelease %s/%s (release %s/%s)\n", hr.Namespace, hr.Name, hr.GetReleaseNamespace(), flux.ReleaseName(&hr))
		}
		if _, err := r.streams.Out.Write(outs[n].Bytes()); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("%d of %d instances could not be rendered", failed, len(found)), Silent: true}
	}
	return nil
}
