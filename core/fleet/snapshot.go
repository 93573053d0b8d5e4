package fleet

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/chart/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/snapshot"
)

// Matches reports whether hr is one of the query's instances, as List
// finds them.
func (q Query) Matches(hr *helmv2.HelmRelease) (bool, error) {
	if q.Namespace != "" && hr.Namespace != q.Namespace {
		return false, nil
	}
	for _, s := range []string{q.Chart.Instances.Selector, q.Selector} {
		if s == "" {
			continue
		}
		sel, err := labels.Parse(s)
		if err != nil {
			return false, fmt.Errorf("%s: selector %q: %w", q.Chart.Source(), s, err)
		}
		if !sel.Matches(labels.Set(hr.Labels)) {
			return false, nil
		}
	}
	return q.Chart.Instances.Selector != "" || flux.MadeFrom(hr, q.Chart.ChartName), nil
}

// TakeOptions say what a snapshot records.
type TakeOptions struct {
	// Dirs are the charts whose instances are recorded; an instance is
	// recorded once, for the first chart it is made from.
	Dirs []string
	// Namespace and Selector narrow the HelmReleases.
	Namespace, Selector string
	Cluster             *kube.Cluster
	Concurrency         int
	Plugins             core.PluginHost
	CozyhrVersion       string
	Now                 time.Time
	Debug               io.Writer
}

// TakeSummary says what a snapshot holds.
type TakeSummary struct {
	Instances, Charts int
	// Failed are the instances recorded with an error, by key.
	Failed map[string]string
}

// Take records the charts' live instances in the snapshot at path: each
// HelmRelease, its values as helm-controller composes them, what its
// templates read with lookup (rendering it once, as itself), its
// release's newest revision and the cluster's Capabilities. Secret values
// are placeholders. Instances are written as they are done, a few at a
// time, so that a fleet is never held whole.
func Take(ctx context.Context, path string, o TakeOptions) (*TakeSummary, error) {
	charts := make([]*config.Chart, 0, len(o.Dirs))
	for _, d := range o.Dirs {
		c, err := config.Load(config.LoadOptions{Dir: d})
		if err != nil {
			return nil, err
		}
		charts = append(charts, c)
	}
	cl, err := o.Cluster.Client()
	if err != nil {
		return nil, err
	}
	caps, err := o.Cluster.Capabilities()
	if err != nil {
		return nil, err
	}
	rc, err := o.Cluster.RESTConfig()
	if err != nil {
		return nil, err
	}
	all, err := flux.List(ctx, cl, o.Namespace, o.Selector)
	if err != nil {
		return nil, err
	}
	type job struct {
		chart *config.Chart
		hr    *helmv2.HelmRelease
	}
	var jobs []job
	for i := range all {
		for _, ch := range charts {
			ok, err := Query{Chart: ch}.Matches(&all[i])
			if err != nil {
				return nil, err
			}
			if ok {
				jobs = append(jobs, job{ch, &all[i]})
				break
			}
		}
	}
	host := sha256.Sum256([]byte(rc.Host))
	w, err := snapshot.Create(path, snapshot.Header{
		Taken: o.Now.UTC(), Cluster: "sha256:" + hex.EncodeToString(host[:8]), CozyhrVersion: o.CozyhrVersion,
		Capabilities: snapshot.Capabilities{KubeVersion: caps.KubeVersion.Version, APIVersions: caps.APIVersions}.Sorted(),
	})
	if err != nil {
		return nil, err
	}
	w.Scrub = snapshot.NewScrubber()
	sum := &TakeSummary{Charts: len(charts), Failed: map[string]string{}}
	// Recorded a chunk at a time, in parallel, and written in order.
	chunk := max(o.Concurrency, 1) * 4
	for start := 0; start < len(jobs); start += chunk {
		part := jobs[start:min(start+chunk, len(jobs))]
		hrs := make([]helmv2.HelmRelease, len(part))
		for n, j := range part {
			hrs[n] = *j.hr
		}
		recs := make([]*snapshot.Instance, len(part))
		errs := Each(ctx, hrs, o.Concurrency, func(hr *helmv2.HelmRelease) (*core.Workspace, error) {
			for _, j := range part {
				if j.hr.Namespace == hr.Namespace && j.hr.Name == hr.Name {
					cfg, err := config.Load(config.LoadOptions{Dir: j.chart.Dir, Overrides: Overrides(hr.Namespace, hr.Name)})
					return &core.Workspace{Config: cfg, Cluster: o.Cluster, Plugins: o.Plugins}, err
				}
			}
			return nil, fmt.Errorf("no chart for %s/%s", hr.Namespace, hr.Name)
		}, func(ctx context.Context, n int, ws *core.Workspace) error {
			recs[n] = record(ctx, ws, part[n].chart, part[n].hr, w.Scrub, o.Debug)
			return nil
		})
		for n, in := range recs {
			if in == nil {
				if err := ctx.Err(); err != nil {
					w.Abort()
					return nil, err
				}
				in = &snapshot.Instance{Chart: part[n].chart.ChartName, HelmRelease: trimmed(part[n].hr), Error: errs[n].Error()}
			}
			if in.Error != "" {
				sum.Failed[in.Key()] = in.Error
			}
			if err := w.Add(in); err != nil {
				w.Abort()
				return nil, err
			}
			sum.Instances++
		}
	}
	return sum, w.Close()
}

// record is one instance's inputs; what cannot be read is its Error.
func record(ctx context.Context, ws *core.Workspace, chart *config.Chart, hr *helmv2.HelmRelease, scrub *snapshot.Scrubber, debug io.Writer) *snapshot.Instance {
	in := &snapshot.Instance{Chart: chart.ChartName, HelmRelease: trimmed(hr)}
	cl, err := ws.Cluster.Client()
	if err != nil {
		in.Error = err.Error()
		return in
	}
	vals, secretPaths, err := flux.Values(ctx, cl, hr)
	if err != nil {
		in.Error = err.Error()
		return in
	}
	scrub.Values(vals, secretPaths)
	in.Values, in.SecretValuePaths = vals, secretPaths
	cfg, err := ws.Cluster.HelmConfig(hr.GetStorageNamespace(), hr.GetReleaseNamespace(), debug)
	if err == nil {
		var last *release.Release
		if last, err = kube.LastRelease(cfg, flux.ReleaseName(hr)); err == nil && last != nil {
			in.Deployed = &snapshot.Deployed{Revision: last.Version, Manifest: last.Manifest, ApplyMethod: last.ApplyMethod}
			if last.Info != nil {
				in.Deployed.Status = last.Info.Status.String()
			}
			if last.Chart != nil && last.Chart.Metadata != nil {
				in.Deployed.ChartVersion = last.Chart.Metadata.Version
			}
			in.Deployed.Manifest, err = scrub.Manifest(last.Manifest)
		}
	}
	if err != nil {
		in.Error = fmt.Sprintf("release %s: %v", flux.ReleaseName(hr), err)
		return in
	}
	rec := &snapshot.Recorder{Scrub: scrub}
	_, err = ws.Desired(ctx, core.RenderOptions{TextOnly: true, Recorder: rec}, debug)
	in.Lookups = rec.Got
	if err != nil {
		in.Error = fmt.Sprintf("render: %v", err)
	}
	return in
}

// trimmed is the HelmRelease without what a review never reads.
func trimmed(hr *helmv2.HelmRelease) *helmv2.HelmRelease {
	cp := hr.DeepCopy()
	cp.ManagedFields = nil
	delete(cp.Annotations, "kubectl.kubernetes.io/last-applied-configuration")
	return cp
}

// FromSnapshot calls fn with each of the query's instances in the snapshot
// at path, one at a time.
func FromSnapshot(path string, q Query, fn func(*snapshot.Instance) error) error {
	return snapshot.EachOf(path, q.Matches, fn)
}

// RecordedOf is an instance's inputs, to render it as production would.
func RecordedOf(h *snapshot.Header, in *snapshot.Instance) (*core.Recorded, error) {
	kv, err := common.ParseKubeVersion(h.Capabilities.KubeVersion)
	if err != nil {
		return nil, fmt.Errorf("snapshot capabilities.kubeVersion %q: %w", h.Capabilities.KubeVersion, err)
	}
	rec := &core.Recorded{
		HelmRelease: in.HelmRelease, Values: in.Values, SecretValuePaths: in.SecretValuePaths,
		Capabilities: &common.Capabilities{KubeVersion: *kv, APIVersions: h.Capabilities.APIVersions, HelmVersion: common.DefaultCapabilities.HelmVersion},
		Lookups:      snapshot.Recorded(in.Lookups),
	}
	if in.Deployed != nil {
		rec.Revision = in.Deployed.Revision
	}
	return rec, nil
}

// DiffDeployed renders each of the query's instances in the snapshot with
// its recorded inputs and compares it with its deployed release: what
// upgrading production to this chart would change, offline.
func DiffDeployed(ctx context.Context, path string, h *snapshot.Header, q Query, o DiffOptions) ([]Instance, error) {
	var insts []Instance
	err := FromSnapshot(path, q, func(in *snapshot.Instance) error {
		res := Describe(in.HelmRelease)
		res.Result, res.Err = diffDeployed(ctx, h, in, o)
		insts = append(insts, res)
		return ctx.Err()
	})
	MarkMoves(insts)
	return insts, err
}

func diffDeployed(ctx context.Context, h *snapshot.Header, in *snapshot.Instance, o DiffOptions) (*core.DiffResult, error) {
	if in.Deployed == nil {
		return nil, fmt.Errorf("the snapshot holds no release of it: it is not installed")
	}
	rec, err := RecordedOf(h, in)
	if err != nil {
		return nil, err
	}
	w, err := o.Open(in.HelmRelease)
	if err != nil {
		return nil, err
	}
	w.Cluster, w.Recorded = nil, rec
	d, err := w.Desired(ctx, o.Render, o.Debug)
	if err != nil {
		return nil, err
	}
	return core.CompareDeployed(ctx, in.Deployed.Manifest, d, o.Diff)
}

// Recordings are the query's instances in the snapshot at path and, by
// namespace/name, the inputs to render each as production would.
func Recordings(path string, h *snapshot.Header, q Query) ([]helmv2.HelmRelease, map[string]*core.Recorded, error) {
	var found []helmv2.HelmRelease
	recs := map[string]*core.Recorded{}
	err := FromSnapshot(path, q, func(in *snapshot.Instance) error {
		rec, err := RecordedOf(h, in)
		if err != nil {
			return err
		}
		recs[in.Key()] = rec
		found = append(found, *in.HelmRelease)
		return nil
	})
	return found, recs, err
}
