package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/kube"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	helmkube "helm.sh/helm/v4/pkg/kube"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// RollbackOptions tune rollback.
type RollbackOptions struct {
	// Revision to go back to; 0 means the one before the current.
	Revision     int
	Timeout      time.Duration
	Wait         bool
	DisableHooks bool
}

// RollbackResult reports what rollback did.
type RollbackResult struct {
	Target    *Target
	From, To  int
	Release   *release.Release
	Suspended bool
}

// Rollback rolls the release back to an earlier revision with Helm 4, as
// helm-controller's rollback does: the apply method of the revision rolled
// back to (spec.rollback.serverSideApply, default auto), conflicts forced
// when server-side, as field manager helm-controller in Flux mode. The
// HelmRelease is suspended first, so that Flux does not upgrade the release
// straight back, and its status then records the rollback as
// helm-controller records its own.
func (w *Workspace) Rollback(ctx context.Context, opts RollbackOptions, log, debug io.Writer) (*RollbackResult, error) {
	if w.Cluster == nil {
		return nil, errors.New("rollback needs a cluster")
	}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return nil, err
	}
	res := &RollbackResult{Target: t}
	cfg, err := w.helmConfig(t, debug)
	if err != nil {
		return nil, err
	}
	current, err := kube.LastRelease(cfg, t.ReleaseName)
	if err != nil {
		return nil, err
	}
	if current == nil {
		return nil, fmt.Errorf("release %s is not installed in namespace %s: nothing to roll back", t.ReleaseName, t.StorageNamespace)
	}
	res.From, res.To = current.Version, opts.Revision
	if res.To == 0 {
		res.To = current.Version - 1
	}
	if res.To < 1 || res.To == current.Version {
		return nil, &NoRevisionError{Release: t.ReleaseName, Revision: current.Version, Earlier: true}
	}
	target, err := cfg.Releases.Get(t.ReleaseName, res.To)
	if err != nil {
		return nil, &NoRevisionError{Release: t.ReleaseName, Revision: res.To}
	}
	to, err := kube.AsRelease(target)
	if err != nil {
		return nil, err
	}

	act := func() (flux.Record, error) {
		ssa := to.ApplyMethod == string(release.ApplyMethodServerSideApply)
		force := false
		timeout := opts.Timeout
		if hr := t.HelmRelease; hr != nil {
			switch hr.GetRollback().ServerSideApply {
			case helmv2.ServerSideApplyEnabled:
				ssa = true
			case helmv2.ServerSideApplyDisabled:
				ssa = false
			}
			force = hr.GetRollback().Force
			if timeout == 0 {
				timeout = hr.GetRollback().GetTimeout(hr.GetTimeout()).Duration
			}
		}
		if timeout == 0 {
			timeout = 5 * time.Minute
		}
		leave := w.Cluster.WithFieldManager(fieldManager(t))
		defer leave()
		rb := action.NewRollback(cfg)
		rb.Version, rb.Timeout, rb.DisableHooks = res.To, timeout, opts.DisableHooks
		rb.WaitStrategy = helmkube.HookOnlyStrategy
		if opts.Wait {
			rb.WaitStrategy = helmkube.StatusWatcherStrategy
		}
		rb.ServerSideApply, rb.ForceConflicts = fmt.Sprint(ssa), ssa
		rb.ForceReplace = force && !ssa
		rb.MaxHistory = hookSettings(t.HelmRelease, false, ApplyOptions{}).maxHistory
		before, err := releaseStatuses(cfg, t.ReleaseName)
		if err != nil {
			return nil, err
		}
		runErr := rb.Run(t.ReleaseName)
		// What Helm wrote: the new revision and every one whose status
		// changed (the deployed one, now superseded); helm-controller
		// observes the same.
		written, err := rewrittenReleases(cfg, t.ReleaseName, before)
		if err != nil {
			return nil, err
		}
		var rec flux.Record
		if t.FluxMode() {
			rec = flux.Rollback{To: to, Written: written}
		}
		if runErr != nil {
			runErr = fmt.Errorf("roll back release %s to revision %d: %w", t.ReleaseName, res.To, runErr)
			if t.FluxMode() {
				rec = flux.Rollback{To: to, Written: written, Err: runErr}
			}
			return rec, runErr
		}
		if res.Release, err = kube.LastRelease(cfg, t.ReleaseName); err != nil {
			return nil, err
		}
		return rec, nil
	}
	if t.FluxMode() {
		cl, err := w.Cluster.Client()
		if err != nil {
			return nil, err
		}
		res.Suspended, err = flux.Hold(ctx, cl, t.HelmRelease, "so that Flux does not upgrade the release straight back", log, act)
		if err != nil {
			return res, w.applyFailed(t, err)
		}
		return res, nil
	}
	if _, err := act(); err != nil {
		return res, err
	}
	return res, nil
}

// releaseStatuses maps each stored revision to its status.
func releaseStatuses(cfg *action.Configuration, name string) (map[int]string, error) {
	hist, err := cfg.Releases.History(name)
	if err != nil {
		return nil, fmt.Errorf("read the history of release %s: %w", name, err)
	}
	out := map[int]string{}
	for _, r := range hist {
		rel, err := kube.AsRelease(r)
		if err != nil {
			return nil, err
		}
		if rel.Info != nil {
			out[rel.Version] = rel.Info.Status.String()
		}
	}
	return out, nil
}

// rewrittenReleases are the revisions that are new or changed status since
// before, oldest first.
func rewrittenReleases(cfg *action.Configuration, name string, before map[int]string) ([]*release.Release, error) {
	hist, err := cfg.Releases.History(name)
	if err != nil {
		return nil, fmt.Errorf("read the history of release %s: %w", name, err)
	}
	var out []*release.Release
	for _, r := range hist {
		rel, err := kube.AsRelease(r)
		if err != nil {
			return nil, err
		}
		if was, ok := before[rel.Version]; !ok || (rel.Info != nil && rel.Info.Status.String() != was) {
			out = append(out, rel)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}
