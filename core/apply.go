package core

import (
	"context"
	"fmt"
	"io"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"sigs.k8s.io/controller-runtime/pkg/client"
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
	// MaxHistory bounds stored revisions; 0 means the HelmRelease's
	// spec.maxHistory in Flux mode (default 5), else 10 as helm upgrade.
	MaxHistory int
}

// helmSettings are the install or upgrade settings after the HelmRelease's
// own (spec.timeout, spec.maxHistory, spec.install/upgrade) are applied;
// explicit options win.
type helmSettings struct {
	timeout                  time.Duration
	maxHistory               int
	disableHooks             bool
	disableOpenAPIValidation bool
	force                    bool
}

func hookSettings(hr *helmv2.HelmRelease, install bool, opts ApplyOptions) helmSettings {
	s := helmSettings{timeout: opts.Timeout, maxHistory: opts.MaxHistory, disableHooks: opts.DisableHooks}
	if hr == nil {
		if s.timeout == 0 {
			s.timeout = 5 * time.Minute
		}
		if s.maxHistory == 0 {
			s.maxHistory = 10
		}
		return s
	}
	if s.timeout == 0 {
		s.timeout = hr.GetTimeout().Duration
	}
	if s.maxHistory == 0 {
		s.maxHistory = hr.GetMaxHistory()
	}
	if install && hr.Spec.Install != nil {
		s.disableHooks = s.disableHooks || hr.Spec.Install.DisableHooks
		s.disableOpenAPIValidation = hr.Spec.Install.DisableOpenAPIValidation
	}
	if !install && hr.Spec.Upgrade != nil {
		s.disableHooks = s.disableHooks || hr.Spec.Upgrade.DisableHooks
		s.disableOpenAPIValidation = hr.Spec.Upgrade.DisableOpenAPIValidation
		s.force = hr.Spec.Upgrade.Force
	}
	return s
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

	pipeline, err := w.pipeline()
	if err != nil {
		return nil, err
	}
	post := &helmPostRenderer{ctx: ctx, chain: pipeline.PostProcessors, rel: t.ReleaseInfo(), desired: d}
	install := !d.upgrades()
	hs := hookSettings(t.HelmRelease, install, opts)

	// Helm creates missing CRDs on install by itself; every other policy
	// (and any upgrade, which Helm never lets touch crds/) is cozyhr's job.
	policy := w.crdPolicy(t, !install)
	if !w.Config.Render.CRDs() {
		policy = CRDsSkip
	}
	skipCRDs := true
	if install && policy == CRDsCreate {
		skipCRDs = false
	} else if policy != CRDsSkip {
		cl, err := w.Cluster.Client()
		if err != nil {
			return nil, err
		}
		n, err := applyCRDs(ctx, cl, policy, d.Rendered.CRDs)
		if err != nil {
			return nil, w.applyFailed(t, err)
		}
		if n > 0 {
			w.Cluster.ResetDiscovery()
			fmt.Fprintf(log, "Applied %d CRD(s) from crds/ (policy %s).\n", n, policy)
		}
	}

	var rel *release.Release
	started := time.Now()
	if install {
		install := action.NewInstall(d.helm)
		install.ReleaseName, install.Namespace = t.ReleaseName, t.Namespace
		install.CreateNamespace = opts.CreateNamespace
		install.Timeout, install.Wait = hs.timeout, opts.Wait
		install.TakeOwnership = opts.TakeOwnership
		install.DisableHooks = hs.disableHooks
		install.DisableOpenAPIValidation = hs.disableOpenAPIValidation
		install.PostRenderer = post
		install.SkipCRDs = skipCRDs
		install.SkipSchemaValidation = w.Config.Render.SkipSchemaValidation
		install.Replace = d.Previous != nil
		rel, err = install.RunWithContext(ctx, d.Chart, d.Values)
		res.Installed = true
	} else {
		upgrade := action.NewUpgrade(d.helm)
		upgrade.Namespace = t.Namespace
		upgrade.Timeout, upgrade.Wait = hs.timeout, opts.Wait
		upgrade.TakeOwnership = opts.TakeOwnership
		upgrade.DisableHooks = hs.disableHooks
		upgrade.DisableOpenAPIValidation = hs.disableOpenAPIValidation
		upgrade.Force = hs.force
		upgrade.PostRenderer = post
		upgrade.MaxHistory = hs.maxHistory
		// Values are always the composed ones: never Helm's reuse of the
		// previous release's values when none are given (helm-controller
		// resets too), or apply would differ from what diff showed.
		upgrade.ResetValues = true
		upgrade.SkipCRDs = true
		upgrade.SkipSchemaValidation = w.Config.Render.SkipSchemaValidation
		rel, err = upgrade.RunWithContext(ctx, t.ReleaseName, d.Chart, d.Values)
	}
	res.Warnings = post.warnings
	if err != nil {
		err = fmt.Errorf("apply release %s in namespace %s: %w", t.ReleaseName, t.Namespace, err)
		if t.FluxMode() {
			if cl, cerr := w.Cluster.Client(); cerr == nil {
				if serr := recordFailure(ctx, cl, client.ObjectKeyFromObject(t.HelmRelease), install, d.Chart.Metadata.Version, d.Values, err); serr != nil {
					fmt.Fprintf(log, "Warning: could not record the failure in the HelmRelease status: %v\n", serr)
				}
			}
		}
		return res, w.applyFailed(t, err)
	}
	res.Release = rel
	if t.FluxMode() {
		// Record the release as helm-controller would. rel is the object
		// Helm has just stored; the status test checks the digest against
		// the storage Secret itself.
		cl, err := w.Cluster.Client()
		if err != nil {
			return res, err
		}
		if err := recordRelease(ctx, cl, client.ObjectKeyFromObject(t.HelmRelease), rel, d.Values, install, t.StorageNamespace, time.Since(started)); err != nil {
			return res, w.applyFailed(t, fmt.Errorf("record release in HelmRelease status: %w", err))
		}
	}

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
