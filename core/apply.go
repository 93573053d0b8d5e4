package core

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/postprocess"
	"github.com/cozyhr/cozyhr/core/predict"
	"github.com/cozyhr/cozyhr/core/readiness"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/action"
	helmkube "helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/postrenderer"
	release "helm.sh/helm/v4/pkg/release/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	// Debug receives Helm's debug log, when set.
	Debug io.Writer
	// Progress, when set, shows the objects Helm waits for that are not
	// ready yet (kstatus): hook Jobs always, everything with Wait.
	Progress readiness.Display
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
	takeOwnership            bool
	cleanupOnFail            bool
}

func hookSettings(hr *helmv2.HelmRelease, install bool, opts ApplyOptions) helmSettings {
	s := helmSettings{timeout: opts.Timeout, maxHistory: opts.MaxHistory, disableHooks: opts.DisableHooks, takeOwnership: opts.TakeOwnership}
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
	// helm-controller takes ownership of existing objects unless told not to.
	if install {
		in := hr.GetInstall()
		s.disableHooks = s.disableHooks || in.DisableHooks
		s.disableOpenAPIValidation = in.DisableOpenAPIValidation
		s.takeOwnership = s.takeOwnership || !in.DisableTakeOwnership
	} else {
		up := hr.GetUpgrade()
		s.disableHooks = s.disableHooks || up.DisableHooks
		s.disableOpenAPIValidation = up.DisableOpenAPIValidation
		s.force = up.Force
		s.takeOwnership = s.takeOwnership || !up.DisableTakeOwnership
		s.cleanupOnFail = up.CleanupOnFail
	}
	return s
}

// Field managers: in Flux mode cozyhr writes as helm-controller does, so
// that the controller's next server-side apply owns the same fields.
const (
	fluxFieldManager  = "helm-controller"
	plainFieldManager = "cozyhr"
)

// fieldManager is the field manager cozyhr writes with, and the one a
// server-side diff's dry-run stands for: helm-controller's in Flux mode.
func fieldManager(t *Target) string {
	if t.FluxMode() {
		return fluxFieldManager
	}
	return plainFieldManager
}

// ApplyResult reports what apply did.
type ApplyResult struct {
	Release   *release.Release
	Installed bool
	// ServerSide says the release was written with server-side apply.
	ServerSide bool
	Suspended  bool // the HelmRelease was suspended by this run
	Resumed    bool
	Warnings   []string
	// NotReady are the objects not ready when a failed wait ended.
	NotReady []readiness.NotReady
}

// Apply installs or upgrades the release with the post-processed render.
// In Flux mode the HelmRelease is suspended first so that helm-controller
// does not race the apply; it stays suspended unless Resume is set.
// A release left pending by an interrupted run is marked failed first, so
// the next apply always repairs rather than refusing.
func (w *Workspace) Apply(ctx context.Context, d *Desired, opts ApplyOptions, log io.Writer) (*ApplyResult, error) {
	t := d.Target
	if w.Cluster == nil {
		return nil, &NeedsClusterError{What: "apply"}
	}
	cfg, err := w.helmConfig(t, opts.Debug)
	if err != nil {
		return nil, err
	}
	res := &ApplyResult{}
	act := func() (flux.Record, error) { return w.install(ctx, cfg, d, opts, res, log) }
	if t.FluxMode() {
		cl, cerr := w.Cluster.Client()
		if cerr != nil {
			return nil, cerr
		}
		res.Suspended, err = flux.Hold(ctx, cl, t.HelmRelease, "so that Flux does not race this apply", log, act)
	} else {
		_, err = act()
	}
	if err != nil {
		return res, w.applyFailed(t, err)
	}
	if t.FluxMode() && opts.Resume {
		cl, err := w.Cluster.Client()
		if err != nil {
			return res, err
		}
		if err := flux.SetSuspend(ctx, cl, t.HelmRelease, false); err != nil {
			return res, err
		}
		res.Resumed = true
	}
	return res, nil
}

// install runs Helm's install or upgrade, filling res, and says what the
// HelmRelease's status should record of it (nil in plain Helm mode).
func (w *Workspace) install(ctx context.Context, cfg *action.Configuration, d *Desired, opts ApplyOptions, res *ApplyResult, log io.Writer) (flux.Record, error) {
	t := d.Target
	repaired := false
	if prev := d.Previous; prev != nil && prev.Info != nil && prev.Info.Status.IsPending() {
		var err error
		if repaired, err = kube.RepairPending(cfg, t.ReleaseName, "was left %s by an interrupted run", log); err != nil {
			return nil, err
		}
	}

	var err error
	install := !d.upgrades()
	hs := hookSettings(t.HelmRelease, install, opts)

	// Helm creates missing CRDs on install by itself; every other policy
	// (and any upgrade, which Helm never lets touch crds/) is cozyhr's job.
	lastMethod := ""
	if d.Previous != nil {
		lastMethod = d.Previous.ApplyMethod
	}
	ssa := predict.ServerSideApply(t.HelmRelease, lastMethod, install)
	policy := w.crdPolicy(t, !install)
	if !w.Config.Render.CRDs() {
		policy = CRDsSkip
	}
	skipCRDs := true
	if install && policy == CRDsCreate && !t.FluxMode() {
		skipCRDs = false
	} else if policy != CRDsSkip {
		cl, err := w.Cluster.Client()
		if err != nil {
			return nil, err
		}
		manager := ""
		if ssa && t.FluxMode() {
			manager = fluxFieldManager
		}
		created, changed, err := kube.ApplyCRDs(ctx, cl, policy, manager, d.Rendered.CRDs)
		if err != nil {
			return nil, err
		}
		n := changed
		if !install { // on install Helm itself would create them, without a word
			n += created
		}
		if n > 0 {
			fmt.Fprintf(log, "Applied %d CRD(s) from crds/ (policy %s).\n", n, policy)
		}
		if created+changed > 0 {
			w.Cluster.ResetDiscovery()
		}
	}

	var post postrenderer.PostRenderer
	strategy := action.PostRenderStrategy(t.ReleaseInfo().PostRenderStrategy)
	var chain *postprocess.Chain
	if d.PostRendered != nil {
		pipeline, err := w.pipeline()
		if err != nil {
			return nil, err
		}
		chain = postprocess.NewChain(ctx, pipeline.PostProcessors, t.ReleaseInfo())
		chain.Seed(d.PostRendered)
		post = chain
	}
	wait := helmkube.HookOnlyStrategy
	if opts.Wait {
		wait = helmkube.StatusWatcherStrategy
	}
	res.ServerSide = ssa
	// Helm reads its field manager from a package variable.
	leave := w.Cluster.WithFieldManager(fieldManager(t))
	defer leave()

	var view *readiness.View
	if opts.Progress != nil {
		reader, err := w.liveReader(t, 0)
		if err != nil {
			return nil, err
		}
		var manifests []manifest.Object
		if opts.Wait {
			manifests = d.Rendered.Manifests
		}
		view = readiness.Start(ctx, reader, d.Rendered.Hooks, manifests, opts.Progress)
	}
	var rel *release.Release
	started := time.Now()
	if install && !opts.CreateNamespace {
		if err := w.namespaceExists(ctx, t.Namespace); err != nil {
			return nil, err
		}
	}
	if install {
		in := action.NewInstall(cfg)
		in.ReleaseName, in.Namespace = t.ReleaseName, t.Namespace
		in.CreateNamespace = opts.CreateNamespace
		in.Timeout, in.WaitStrategy = hs.timeout, wait
		in.WaitForJobs = opts.Wait
		in.TakeOwnership = hs.takeOwnership
		in.DisableHooks = hs.disableHooks
		in.DisableOpenAPIValidation = hs.disableOpenAPIValidation
		in.PostRenderer, in.PostRenderStrategy = post, strategy
		in.SkipCRDs = skipCRDs
		in.SkipSchemaValidation = w.Config.Render.SkipSchemaValidation
		in.Replace = d.Previous != nil
		in.ServerSideApply, in.ForceConflicts = ssa, ssa
		var r any
		if r, err = in.RunWithContext(ctx, d.Chart, d.Values); r != nil {
			rel, _ = r.(*release.Release)
		}
		res.Installed = true
	} else {
		up := action.NewUpgrade(cfg)
		up.Namespace = t.Namespace
		up.Timeout, up.WaitStrategy = hs.timeout, wait
		up.WaitForJobs = opts.Wait
		up.TakeOwnership = hs.takeOwnership
		up.DisableHooks = hs.disableHooks
		up.DisableOpenAPIValidation = hs.disableOpenAPIValidation
		up.ForceReplace = hs.force && !ssa
		up.CleanupOnFail = hs.cleanupOnFail
		up.PostRenderer, up.PostRenderStrategy = post, strategy
		up.MaxHistory = hs.maxHistory
		// Values are always the composed ones: never Helm's reuse of the
		// previous release's values when none are given (helm-controller
		// resets too), or apply would differ from what diff showed.
		up.ResetValues = true
		up.SkipCRDs = true
		up.SkipSchemaValidation = w.Config.Render.SkipSchemaValidation
		up.ServerSideApply, up.ForceConflicts = fmt.Sprint(ssa), ssa
		var r any
		if r, err = up.RunWithContext(ctx, t.ReleaseName, d.Chart, d.Values); r != nil {
			rel, _ = r.(*release.Release)
		}
		// The run whose lock was broken (cozyhr unlock) may still write its
		// pending revision after the repair above: repair what Helm found
		// pending, once, and go on.
		if err != nil && repaired && strings.Contains(err.Error(), "another operation (install/upgrade/rollback) is in progress") {
			again, rerr := kube.RepairPending(cfg, t.ReleaseName, "is %s again", log)
			if rerr != nil {
				return nil, rerr
			}
			if again {
				if r, err = up.RunWithContext(ctx, t.ReleaseName, d.Chart, d.Values); r != nil {
					rel, _ = r.(*release.Release)
				}
			}
		}
	}
	if view != nil {
		pending := view.Stop(context.WithoutCancel(ctx))
		if err != nil && len(pending) > 0 {
			cs, _ := w.Cluster.Clientset()
			res.NotReady = readiness.Explain(context.WithoutCancel(ctx), cs, pending)
		}
	}
	// The render's post-process warnings, and any from a chain Helm had to
	// run again because it rendered something else.
	res.Warnings = slices.Clone(d.Warnings)
	if chain != nil {
		res.Warnings = append(res.Warnings, chain.TakeWarnings()...)
	}

	if err != nil {
		helmErr := err
		err = fmt.Errorf("apply release %s in namespace %s: %w", t.ReleaseName, t.Namespace, err)
		if !t.FluxMode() {
			return nil, err
		}
		f := flux.ReleaseFailure{Installed: install, ReleaseName: t.ReleaseName, ReleaseNamespace: t.Namespace,
			ChartName: d.Chart.Name(), ChartVersion: d.Chart.Metadata.Version, Values: d.Values, Err: helmErr}
		if d.Previous != nil {
			f.Previous = d.Previous.Version
		}
		// The status is written from the release as it is now, re-read:
		// after Ctrl-C, Helm may have finished its write before it saw
		// the cancel, and the revision is deployed.
		deployed, failed := kube.StoredOutcome(kube.SettledRelease(ctx, cfg, t.ReleaseName, f.Previous, log), f.Previous)
		if deployed != nil {
			res.Release = deployed
			if rec, rerr := w.releaseRecord(cfg, d, deployed, install, time.Since(started)); rerr == nil {
				return rec, err
			}
		}
		f.Failed = failed
		return f, err
	}
	res.Release = rel
	if !t.FluxMode() {
		return nil, nil
	}
	// Record the release as helm-controller would. rel is the object Helm
	// has just stored; the status test checks the digest against the
	// storage Secret itself.
	rec, err := w.releaseRecord(cfg, d, rel, install, time.Since(started))
	if err != nil {
		return nil, fmt.Errorf("record release in HelmRelease status: %w", err)
	}
	return rec, nil
}

// namespaceExists says, before Helm tries, that an install told not to
// create its namespace finds none: Helm's own error is the API server's
// "namespaces not found" from deep in its create.
func (w *Workspace) namespaceExists(ctx context.Context, namespace string) error {
	cs, err := w.Cluster.Clientset()
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return &NamespaceMissingError{Namespace: namespace}
	}
	if err != nil {
		return fmt.Errorf("read namespace %s: %w", namespace, err)
	}
	return nil
}

// releaseRecord gathers what the status records of this apply: the previous
// revision as Helm left it (superseded) and the inventory.
func (w *Workspace) releaseRecord(cfg *action.Configuration, d *Desired, rel *release.Release, installed bool, took time.Duration) (flux.ReleaseRecord, error) {
	rec := flux.ReleaseRecord{Release: rel, Values: d.Values, Installed: installed, StorageNamespace: d.Target.StorageNamespace, Took: took}
	if !installed && d.Previous != nil {
		prev, err := cfg.Releases.Get(rel.Name, d.Previous.Version)
		if err != nil {
			return rec, fmt.Errorf("read release %s revision %d: %w", rel.Name, d.Previous.Version, err)
		}
		if rec.Superseded, err = kube.AsRelease(prev); err != nil {
			return rec, err
		}
	}
	var crds []manifest.Object
	for _, f := range d.Chart.CRDObjects() {
		objs, err := manifest.ParseManifests(f.File.Data)
		if err != nil {
			return rec, fmt.Errorf("%s: %w", f.Filename, err)
		}
		crds = append(crds, objs...)
	}
	mapper, err := w.Cluster.Mapper()
	if err != nil {
		return rec, err
	}
	rec.Inventory, err = flux.ReleaseInventory(rel, crds, mapper)
	return rec, err
}

// applyFailed adds what state the HelmRelease is left in and how to go on.
func (w *Workspace) applyFailed(t *Target, err error) error {
	if !t.FluxMode() {
		return err
	}
	return &StillSuspendedError{Err: err, Key: types.NamespacedName{Namespace: t.HelmRelease.Namespace, Name: t.HelmRelease.Name}}
}
