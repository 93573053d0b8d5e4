package core

import (
	"context"
	"fmt"
	"io"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
)

// ApplyOptions tune helm upgrade --install.
type ApplyOptions struct {
	Timeout         time.Duration
	Wait            bool
	TakeOwnership   bool
	CreateNamespace bool
	// DisableHooks skips Helm hooks, as helm --no-hooks and a HelmRelease's
	// disableHooks do.
	DisableHooks bool
	// Resume hands the HelmRelease back to Flux after a successful apply.
	Resume bool
	// MaxHistory bounds stored revisions, as helm-controller does (5).
	MaxHistory int
}

// ApplyResult reports what apply did.
type ApplyResult struct {
	Release   *release.Release
	Installed bool
	Suspended bool // the HelmRelease was suspended by this run
	Resumed   bool
	Warnings  []string
}

// Apply installs or upgrades the release with the post-processed render.
// In Flux mode the HelmRelease is suspended first so that helm-controller
// does not race the apply; it stays suspended unless Resume is set.
// A release left pending by an interrupted run is marked failed first, so
// the next apply always repairs rather than refusing.
func (w *Workspace) Apply(ctx context.Context, d *Desired, opts ApplyOptions, log io.Writer) (*ApplyResult, error) {
	t := d.Target
	if d.helm == nil {
		return nil, fmt.Errorf("apply needs a cluster; drop --offline")
	}
	res := &ApplyResult{}
	if t.FluxMode() && !t.HelmRelease.Spec.Suspend {
		cl, err := w.Cluster.Client()
		if err != nil {
			return nil, err
		}
		if err := setSuspend(ctx, cl, t.HelmRelease, true); err != nil {
			return nil, err
		}
		res.Suspended = true
		fmt.Fprintf(log, "Suspended HelmRelease %s/%s so that Flux does not race this apply.\n", t.HelmRelease.Namespace, t.HelmRelease.Name)
	}

	if prev := d.Previous; prev != nil && prev.Info != nil && prev.Info.Status.IsPending() {
		fmt.Fprintf(log, "Release %s revision %d was left %s by an interrupted run; marking it failed to continue.\n", prev.Name, prev.Version, prev.Info.Status)
		prev.SetStatus(release.StatusFailed, "interrupted; marked failed by cozyhr apply")
		if err := d.helm.Releases.Update(prev); err != nil {
			return nil, w.applyFailed(t, fmt.Errorf("repair pending release %s: %w", prev.Name, err))
		}
	}

	post := &helmPostRenderer{ctx: ctx, chain: w.pipeline().PostProcessors, rel: t.ReleaseInfo()}
	maxHistory := opts.MaxHistory
	if maxHistory == 0 {
		maxHistory = 5
	}
	skipCRDs := !w.Config.Render.CRDs()
	var rel *release.Release
	var err error
	if d.Previous == nil || d.Previous.Info.Status == release.StatusUninstalled {
		install := action.NewInstall(d.helm)
		install.ReleaseName, install.Namespace = t.ReleaseName, t.Namespace
		install.CreateNamespace = opts.CreateNamespace
		install.Timeout, install.Wait = opts.Timeout, opts.Wait
		install.TakeOwnership = opts.TakeOwnership
		install.DisableHooks = opts.DisableHooks
		install.PostRenderer = post
		install.SkipCRDs = skipCRDs
		install.SkipSchemaValidation = w.Config.Render.SkipSchemaValidation
		install.Replace = d.Previous != nil
		rel, err = install.RunWithContext(ctx, d.Chart, d.Values)
		res.Installed = true
	} else {
		upgrade := action.NewUpgrade(d.helm)
		upgrade.Namespace = t.Namespace
		upgrade.Timeout, upgrade.Wait = opts.Timeout, opts.Wait
		upgrade.TakeOwnership = opts.TakeOwnership
		upgrade.DisableHooks = opts.DisableHooks
		upgrade.PostRenderer = post
		upgrade.MaxHistory = maxHistory
		// Values are always the composed ones: never Helm's reuse of the
		// previous release's values when none are given (helm-controller
		// resets too), or apply would differ from what diff showed.
		upgrade.ResetValues = true
		upgrade.SkipCRDs = skipCRDs
		upgrade.SkipSchemaValidation = w.Config.Render.SkipSchemaValidation
		rel, err = upgrade.RunWithContext(ctx, t.ReleaseName, d.Chart, d.Values)
	}
	res.Warnings = post.warnings
	if err != nil {
		return res, w.applyFailed(t, fmt.Errorf("apply release %s in namespace %s: %w", t.ReleaseName, t.Namespace, err))
	}
	res.Release = rel

	if t.FluxMode() && opts.Resume {
		cl, err := w.Cluster.Client()
		if err != nil {
			return res, err
		}
		if err := setSuspend(ctx, cl, t.HelmRelease, false); err != nil {
			return res, err
		}
		res.Resumed = true
	}
	return res, nil
}

// applyFailed adds what state the HelmRelease is left in and how to go on.
func (w *Workspace) applyFailed(t *Target, err error) error {
	if !t.FluxMode() {
		return err
	}
	return fmt.Errorf("%w\nHelmRelease %s/%s is still suspended, so Flux will not touch the release: fix the problem and run cozyhr apply again, or hand it back to Flux with: cozyhr resume", err, t.HelmRelease.Namespace, t.HelmRelease.Name)
}
