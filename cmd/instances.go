package cmd

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/kube"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"k8s.io/apimachinery/pkg/labels"
)

// runInstances diffs the working-tree chart against every live instance of
// it: each HelmRelease whose release was made from this chart (all
// namespaces, or -n's; -l selects HelmReleases by label), rendered with
// that HelmRelease's own values as helm-controller would, compared with its
// live objects. One report for the fleet: identical changes grouped across
// instances, a table, and an exit code over all of them.
func (o *diffOptions) runInstances(r *run) error {
	opts := o.diff
	opts.LabelSelector = "" // -l chose the HelmReleases
	var insts []output.Instance
	base, found, errs, err := r.eachInstance(o.diff.LabelSelector, func(found []helmv2.HelmRelease) {
		insts = make([]output.Instance, len(found))
	}, func(n int, w *core.Workspace) (err error) {
		insts[n].Result, err = o.liveResult(r, w, opts)
		return err
	})
	if err != nil || len(found) == 0 {
		return err
	}
	for n := range found {
		hr := &found[n]
		insts[n].Namespace, insts[n].Name, insts[n].Err = hr.Namespace, hr.Name, errs[n]
		insts[n].Release, insts[n].ReleaseNamespace = flux.ReleaseName(hr), hr.GetReleaseNamespace()
		if latest := hr.Status.History.Latest(); latest != nil {
			insts[n].ChartVersion = latest.ChartVersion
		}
	}
	if err := o.printFleet(r, base.ChartName, insts); err != nil {
		return err
	}
	failed := slices.ContainsFunc(insts, func(i output.Instance) bool { return i.Err != nil })
	changed := slices.ContainsFunc(insts, func(i output.Instance) bool { return i.Result != nil && i.Result.HasChanges() })
	switch {
	case failed:
		return &ExitError{Code: ExitFailure, Err: fmt.Errorf("some instances could not be diffed"), Silent: true}
	case changed && o.exitCode:
		return &ExitError{Code: ExitChanges, Err: ErrChangesFound, Silent: true}
	}
	return nil
}

// eachInstance finds the live instances of the run's chart (selector, -l,
// narrows them) and calls each for every one, at most --concurrency at
// once, with the workspace of that HelmRelease: the chart named after it,
// rendered with its values as helm-controller would. prepare is called
// once the instances are known, before any each. It returns the chart's
// own configuration, the instances and each one's error.
func (r *run) eachInstance(selector string, prepare func([]helmv2.HelmRelease), each func(n int, w *core.Workspace) error) (*config.Chart, []helmv2.HelmRelease, []error, error) {
	base, err := config.Load(config.LoadOptions{Dir: r.dir, File: r.g.configFile})
	if err != nil {
		return nil, nil, nil, err
	}
	found, err := r.g.instances(r.cmd.Context(), r.cluster, base, selector, r.streams.ErrOut)
	if err != nil || len(found) == 0 {
		return base, found, nil, err
	}
	prepare(found)
	errs := make([]error, len(found))
	var eg errgroup.Group
	eg.SetLimit(max(r.g.sel.concurrency, 1))
	for n := range found {
		eg.Go(func() error {
			cfg, err := config.Load(config.LoadOptions{Dir: r.dir, File: r.g.configFile, Overrides: instanceOverrides(found[n].Namespace, found[n].Name)})
			if err == nil {
				err = each(n, &core.Workspace{Config: cfg, Cluster: r.cluster, Notices: io.Discard, Plugins: r.g.pluginHost()})
			}
			errs[n] = err
			return nil
		})
	}
	_ = eg.Wait()
	return base, found, errs, nil
}

// printFleet writes the fleet's report in the chosen format.
func (o *diffOptions) printFleet(r *run, chart string, insts []output.Instance) error {
	out := r.streams.Out
	switch o.format {
	case output.JSON:
		return output.FleetJSON(out, insts)
	case output.YAML:
		return output.FleetYAML(out, insts)
	case output.Markdown:
		return output.DiffMarkdown(out, output.MarkdownReport{Title: "cozyhr diff: every instance of chart " + chart,
			Column: "instance", Sections: output.FleetSections(insts), Limit: output.CommentLimit})
	}
	return output.Fleet(out, insts, output.HumanOptions{ContextLines: o.contextLines, NoGroup: o.noGroup, Color: r.color()})
}

// instanceOverrides name one HelmRelease, and its release as
// helm-controller names it, over whatever .cozyhr.yaml says.
func instanceOverrides(namespace, name string) map[string]any {
	return map[string]any{"helmRelease.enabled": true, "helmRelease.name": name, "helmRelease.namespace": namespace,
		"release.name": name, "release.namespace": namespace}
}

// instances are the HelmReleases made from the chart (in -n's namespace,
// or all), one LIST: those .cozyhr.yaml's instances.selector selects, or
// else those whose release was made from a chart of this name; selector
// (-l) narrows either. None is said on w.
func (g *globalOptions) instances(ctx context.Context, cluster *kube.Cluster, cfg *config.Chart, selector string, w io.Writer) ([]helmv2.HelmRelease, error) {
	cl, err := cluster.Client()
	if err != nil {
		return nil, err
	}
	bySelector := cfg.Instances.Selector
	if bySelector != "" {
		if _, err := labels.Parse(bySelector); err != nil {
			return nil, fmt.Errorf("%s: instances.selector %q: %w", cfg.Source(), bySelector, err)
		}
		selector = strings.Trim(bySelector+","+selector, ",")
	}
	all, err := flux.List(ctx, cl, *g.kube.Namespace, selector)
	if err != nil {
		return nil, err
	}
	if bySelector != "" {
		if len(all) == 0 {
			fmt.Fprintf(w, "No HelmRelease in %s matches %s.\n", orAllNamespaces(*g.kube.Namespace), selector)
		}
		return all, nil
	}
	found := slices.DeleteFunc(all, func(hr helmv2.HelmRelease) bool { return !flux.MadeFrom(&hr, cfg.ChartName) })
	if len(found) == 0 {
		fmt.Fprintf(w, "No HelmRelease in %s was made from chart %s.\n", orAllNamespaces(*g.kube.Namespace), cfg.ChartName)
	}
	return found, nil
}

func orAllNamespaces(ns string) string {
	if ns == "" {
		return "any namespace"
	}
	return "namespace " + ns
}
