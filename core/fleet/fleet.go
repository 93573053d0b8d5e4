// Package fleet knows a chart's live instances: the HelmReleases made from
// it, each rendered and diffed as itself, and the changes several of them
// get alike, grouped.
package fleet

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/predict"
)

// Query says which HelmReleases are a chart's instances.
type Query struct {
	// Chart is the chart's configuration: its name, or its
	// instances.selector, chooses the HelmReleases.
	Chart *config.Chart
	// Namespace is where to look, "" for every namespace.
	Namespace string
	// Selector narrows the HelmReleases by label.
	Selector string
}

// List is the chart's instances, with one LIST: the HelmReleases the
// chart's instances.selector selects, or else those whose release was made
// from a chart of the chart's name; Selector narrows either.
func List(ctx context.Context, cl client.Client, q Query) ([]helmv2.HelmRelease, error) {
	selector := q.Selector
	bySelector := q.Chart.Instances.Selector
	if bySelector != "" {
		if _, err := labels.Parse(bySelector); err != nil {
			return nil, fmt.Errorf("%s: instances.selector %q: %w", q.Chart.Source(), bySelector, err)
		}
		selector = strings.Trim(bySelector+","+selector, ",")
	}
	all, err := flux.List(ctx, cl, q.Namespace, selector)
	if err != nil || bySelector != "" {
		return all, err
	}
	return slices.DeleteFunc(all, func(hr helmv2.HelmRelease) bool { return !flux.MadeFrom(&hr, q.Chart.ChartName) }), nil
}

// NoneFound says that List found no instance, and where it looked.
func (q Query) NoneFound() string {
	where := "any namespace"
	if q.Namespace != "" {
		where = "namespace " + q.Namespace
	}
	if s := q.Chart.Instances.Selector; s != "" {
		return fmt.Sprintf("No HelmRelease in %s matches %s.", where, strings.Trim(s+","+q.Selector, ","))
	}
	return fmt.Sprintf("No HelmRelease in %s was made from chart %s.", where, q.Chart.ChartName)
}

// Overrides name one HelmRelease, and its release as helm-controller names
// it, over whatever the chart's .cozyhr.yaml says.
func Overrides(namespace, name string) map[string]any {
	return map[string]any{"helmRelease.enabled": true, "helmRelease.name": name, "helmRelease.namespace": namespace,
		"release.name": name, "release.namespace": namespace}
}

// Instance is one HelmRelease made from a chart, and what its diff found.
type Instance struct {
	Namespace, Name string
	// Release and ReleaseNamespace name its release (helm-controller's
	// naming: targetNamespace and releaseName count).
	Release, ReleaseNamespace string
	// ChartVersion is what its latest release recorded.
	ChartVersion string
	Result       *core.DiffResult
	Err          error
	// Notes say what a reader of the result must know: production not at
	// the base revision, lookups nothing answered.
	Notes []string
	// Prediction is what helm-controller will do with the change.
	Prediction *predict.Prediction
}

// Key is the instance's HelmRelease as namespace/name.
func (i Instance) Key() string { return i.Namespace + "/" + i.Name }

// Describe is the instance a HelmRelease stands for, with nothing diffed.
func Describe(hr *helmv2.HelmRelease) Instance {
	in := Instance{Namespace: hr.Namespace, Name: hr.Name, Release: flux.ReleaseName(hr), ReleaseNamespace: hr.GetReleaseNamespace()}
	if latest := hr.Status.History.Latest(); latest != nil {
		in.ChartVersion = latest.ChartVersion
	}
	return in
}

// Each runs step once per instance, at most concurrency at once, with the
// workspace open makes for it (the chart named after that HelmRelease), and
// says each one's error.
func Each(ctx context.Context, found []helmv2.HelmRelease, concurrency int,
	open func(hr *helmv2.HelmRelease) (*core.Workspace, error),
	step func(ctx context.Context, n int, w *core.Workspace) error) []error {
	names := make([]string, len(found))
	for n := range found {
		names[n] = found[n].Namespace + "/" + found[n].Name
	}
	errs := make([]error, len(found))
	_, err := batch.RunJobs(ctx, batch.Named(names), batch.Options{Concurrency: max(concurrency, 1)}, nil, func(ctx context.Context, n int) error {
		w, err := open(&found[n])
		if err == nil {
			err = step(ctx, n, w)
		}
		errs[n] = err
		return nil
	})
	if err != nil {
		for n := range errs {
			errs[n] = err
		}
	}
	for n := range errs {
		if errs[n] == nil && ctx.Err() != nil {
			errs[n] = ctx.Err() // never started: interrupted
		}
	}
	return errs
}

// DiffOptions say how to diff each instance.
type DiffOptions struct {
	Render core.RenderOptions
	// Diff compares; each instance's own ignore rules are added to it.
	Diff core.DiffOptions
	// Concurrency bounds the instances diffed at once.
	Concurrency int
	// Open makes an instance's workspace.
	Open  func(hr *helmv2.HelmRelease) (*core.Workspace, error)
	Debug io.Writer
}

// Diff renders every instance with its own values, as helm-controller
// would, and compares it with its live objects.
func Diff(ctx context.Context, found []helmv2.HelmRelease, o DiffOptions) []Instance {
	insts := make([]Instance, len(found))
	errs := Each(ctx, found, o.Concurrency, o.Open, func(ctx context.Context, n int, w *core.Workspace) (err error) {
		insts[n].Result, err = w.DiffChart(ctx, o.Render, o.Diff, o.Debug)
		return err
	})
	for n := range found {
		res := insts[n].Result
		insts[n] = Describe(&found[n])
		insts[n].Result, insts[n].Err = res, errs[n]
		if res != nil {
			insts[n].Prediction = res.Prediction // DiffChart's, from the release it read
		}
	}
	MarkMoves(insts)
	return insts
}

// MarkMoves flags the objects that leave one instance's release for
// another's.
func MarkMoves(insts []Instance) {
	byRelease := map[string]*core.DiffResult{}
	for _, in := range insts {
		if in.Result != nil {
			byRelease[in.ReleaseNamespace+"/"+in.Release] = in.Result
		}
	}
	Moves(byRelease)
}

// Moves flags the objects that leave one release and join another in the
// same run (results by release, "namespace/name"): removed from one, and
// added to or taken by the other.
func Moves(results map[string]*core.DiffResult) {
	from := map[string]string{}
	for rel, res := range results {
		for _, c := range res.Changes {
			if c.Action == core.ActionRemove {
				from[c.Ref.String()] = rel
			}
		}
	}
	for to, res := range results {
		for _, c := range res.Changes {
			if rel, ok := from[c.Ref.String()]; ok && rel != to && c.Action == core.ActionAdd {
				f := hazard.Moves(rel, to)
				res.Flag(c.Ref.String(), f)
				results[rel].Flag(c.Ref.String(), f)
			}
		}
		// An object taken live is flagged on the taker already
		// (hazard.TakenFrom).
		for _, o := range res.Owned {
			if rel, ok := from[o.Ref]; ok && rel != to {
				results[rel].Flag(o.Ref, hazard.Moves(rel, to))
			}
		}
	}
}

// Results are the instances' results, nil for one that failed.
func Results(insts []Instance) []*core.DiffResult {
	out := make([]*core.DiffResult, len(insts))
	for i := range insts {
		out[i] = insts[i].Result
	}
	return out
}
