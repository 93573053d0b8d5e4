package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/hazard"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/snapshot"
)

// Production says where a review finds a chart's live instances: a
// snapshot of the fleet, read offline.
type Production struct {
	// Snapshot is the file; Header what Open read of it.
	Snapshot string
	Header   *snapshot.Header
	// Namespace and Selector narrow the instances as -n and -l do live.
	Namespace, Selector string
	// Shard K of N (1-based) reviews every N-th instance of each chart from
	// the K-th; N 0 reviews all.
	Shard, Shards int
	Concurrency   int
}

// Fleet is the review of every instance of one chart.
type Fleet struct {
	Dir, Path  string
	Base, Head Side
	// Instances are in the snapshot's order, each with its changes, its
	// error, or its notes (not at the base revision, lookups unanswered).
	Instances []fleet.Instance
	Warnings  []string
}

// ReviewInstances compares, for every instance of the chart the snapshot
// holds, the chart at o.Base with the chart at o.Head, each rendered with
// that instance's values, lookups and the cluster's Capabilities as
// recorded; and says where production is not at the base revision. The
// snapshot is read an instance at a time and a few are rendered at once,
// so that a fleet is never held whole.
func (t *Trees) ReviewInstances(ctx context.Context, chartDir string, o Options, p Production) (*Fleet, error) {
	rel, base, head, err := t.sides(ctx, chartDir, o)
	if err != nil {
		return nil, err
	}
	out := &Fleet{Dir: chartDir, Path: filepath.ToSlash(rel), Base: base.Side, Head: head.Side, Warnings: append(base.warnings, head.warnings...)}
	named := head.w
	if named == nil {
		named = base.w
	}
	if named == nil {
		return out, fmt.Errorf("%s is a chart at neither %s nor %s", rel, base.Side, head.Side)
	}
	q := fleet.Query{Chart: named.Config, Namespace: p.Namespace, Selector: p.Selector}
	chunk := make([]*snapshot.Instance, 0, max(p.Concurrency, 1)*4)
	flush := func() error {
		insts := make([]fleet.Instance, len(chunk))
		_, err := runEach(ctx, len(chunk), p.Concurrency, func(ctx context.Context, n int) {
			insts[n] = reviewInstance(ctx, base, head, p.Header, chunk[n], o)
		})
		out.Instances = append(out.Instances, insts...)
		chunk = chunk[:0]
		return err
	}
	n := 0
	err = fleet.FromSnapshot(p.Snapshot, q, func(in *snapshot.Instance) error {
		if n++; p.Shards > 0 && (n-1)%p.Shards != p.Shard-1 {
			return nil
		}
		if chunk = append(chunk, in); len(chunk) == cap(chunk) {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	fleet.MarkMoves(out.Instances)
	return out, err
}

// reviewInstance renders one instance at both revisions and compares.
func reviewInstance(ctx context.Context, base, head *side, h *snapshot.Header, in *snapshot.Instance, o Options) fleet.Instance {
	res := fleet.Describe(in.HelmRelease)
	if in.Deployed != nil {
		res.ChartVersion = in.Deployed.ChartVersion
	}
	if in.Error != "" && in.Values == nil {
		res.Err = errors.New("the snapshot could not record its values: " + in.Error)
		return res
	}
	if in.Error != "" {
		res.Notes = append(res.Notes, "the snapshot could not record all of it: "+in.Error)
	}
	rec, err := fleet.RecordedOf(h, in)
	if err != nil {
		res.Err = err
		return res
	}
	render := func(s *side) (*core.Desired, error) {
		if s.w == nil {
			return nil, nil
		}
		w := *s.w
		w.Recorded = rec
		return renderSide(ctx, &side{Side: s.Side, w: &w}, "", o)
	}
	from, ferr := render(base)
	to, terr := render(head)
	if res.Err = errors.Join(ferr, terr); res.Err != nil {
		return res
	}
	if res.Result, res.Err = core.CompareRenders(ctx, from, to, o.Diff); res.Err != nil {
		return res
	}
	if from != nil && to != nil {
		res.Result.Findings = append(res.Result.Findings, hazard.UnreadValues(from.Chart.Values, to.Chart.Values, in.Values)...)
	}
	if named := cmp.Or(head.w, base.w); named != nil {
		res.Result.ApplyRules(named.Config.Diff.Rules)
	}
	method := ""
	if in.Deployed != nil {
		method = in.Deployed.ApplyMethod
	}
	res.Prediction = res.Result.Predict(in.HelmRelease, in.Deployed != nil, method)
	for _, d := range []*core.Desired{from, to} {
		if d != nil {
			for _, u := range d.Unanswered {
				res.Notes = appendOnce(res.Notes, "nothing recorded answers "+u+": it returned an empty map")
			}
		}
	}
	if from != nil && in.Deployed != nil {
		drift, err := core.CompareDeployed(ctx, in.Deployed.Manifest, from, o.Diff)
		if err != nil {
			res.Err = fmt.Errorf("compare with the deployed release: %w", err)
			return res
		}
		// Secrets are left out: their data are placeholders, and a
		// template that builds one from a secret value builds it from the
		// placeholder.
		var objs []string
		for _, c := range drift.Changes {
			if c.Ref.Kind != "Secret" {
				objs = append(objs, c.Ref.String())
			}
		}
		if len(objs) > 0 {
			if len(objs) > 3 {
				objs = append(objs[:3], fmt.Sprintf("%d more", len(objs)-3))
			}
			res.Notes = append(res.Notes, fmt.Sprintf("production is not at the base revision: revision %d of release %s differs from the base's render in %s", in.Deployed.Revision, res.Release, strings.Join(objs, ", ")))
		}
	}
	return res
}

// runEach runs fn for 0..n-1, at most concurrency at once.
func runEach(ctx context.Context, n, concurrency int, fn func(ctx context.Context, i int)) ([]batch.Outcome, error) {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprint(i)
	}
	return batch.RunJobs(ctx, batch.Named(names), batch.Options{Concurrency: max(concurrency, 1)}, nil, func(ctx context.Context, i int) error {
		fn(ctx, i)
		return nil
	})
}

func appendOnce(list []string, s string) []string {
	for _, e := range list {
		if e == s {
			return list
		}
	}
	return append(list, s)
}

// AddInstances fills cs.Instances from the snapshot at path: the instances
// of each changed chart (those a removed chart leaves are not listed).
func (cs *ChangeSet) AddInstances(path, namespace string) error {
	cs.Instances = map[string][]string{}
	for _, dir := range cs.Charts {
		cfg, err := config.Load(config.LoadOptions{Dir: dir})
		if err != nil {
			continue // removed since the base: it has no instances to review
		}
		keys := []string{}
		err = fleet.FromSnapshot(path, fleet.Query{Chart: cfg, Namespace: namespace}, func(in *snapshot.Instance) error {
			keys = append(keys, in.Key())
			return nil
		})
		if err != nil {
			return err
		}
		cs.Instances[dir] = keys
	}
	return nil
}
