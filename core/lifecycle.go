package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cozyhr/cozyhr/core/flux"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ReconcileOptions tune Reconcile and Resume.
type ReconcileOptions struct {
	Force      bool
	WithSource bool
	Timeout    time.Duration
}

// fluxTarget resolves the chart's HelmRelease, failing in plain Helm mode.
func (w *Workspace) fluxTarget(ctx context.Context) (*Target, client.Client, error) {
	if w.Cluster == nil {
		return nil, nil, errors.New("needs a cluster")
	}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return nil, nil, err
	}
	if !t.FluxMode() {
		return nil, nil, fmt.Errorf("HelmRelease %s does not exist; set helmRelease.name in .cozyhr.yaml if it has another name", t.HelmReleaseKey)
	}
	cl, err := w.Cluster.Client()
	return t, cl, err
}

// Reconcile asks Flux to reconcile the chart's HelmRelease now, and first
// its chart source with WithSource, waiting for each to be handled.
func (w *Workspace) Reconcile(ctx context.Context, o ReconcileOptions, r flux.Reporter) error {
	t, cl, err := w.fluxTarget(ctx)
	if err != nil {
		return err
	}
	hr := t.HelmRelease
	if hr.Spec.Suspend {
		return &SuspendedError{Key: types.NamespacedName{Namespace: hr.Namespace, Name: hr.Name}}
	}
	if o.WithSource {
		if ref := hr.Spec.ChartRef; ref != nil && ref.Kind == sourcev1.ExternalArtifactKind {
			ns := cmp.Or(ref.Namespace, hr.Namespace)
			// No controller reconciles an ExternalArtifact: its producer
			// (an ArtifactGenerator of Flux's source-watcher, in
			// Cozystack) rewrites it when its own sources change.
			r.Waiting(fmt.Sprintf("ExternalArtifact %s/%s is written by its generator (an ArtifactGenerator of Flux's source-watcher), which cozyhr cannot ask for a new artifact; reconcile the generator's sources with flux to refresh it. Reconciling the HelmRelease only.", ns, ref.Name))
		}
		for _, src := range flux.ChartSources(ctx, cl, hr) {
			if err := flux.ReconcileAndWait(ctx, cl, src, false, o.Timeout, r); err != nil {
				return err
			}
		}
	}
	return flux.ReconcileAndWait(ctx, cl, hr, o.Force, o.Timeout, r)
}

// Suspend suspends the chart's HelmRelease, as flux suspend does.
func (w *Workspace) Suspend(ctx context.Context) (*Target, error) {
	t, cl, err := w.fluxTarget(ctx)
	if err != nil {
		return nil, err
	}
	return t, flux.SetSuspend(ctx, cl, t.HelmRelease, true)
}

// Resume unsuspends the HelmRelease and, with wait, asks for a
// reconciliation and waits for it as flux resume does.
func (w *Workspace) Resume(ctx context.Context, wait bool, timeout time.Duration, log io.Writer, r flux.Reporter) (*Target, error) {
	t, cl, err := w.fluxTarget(ctx)
	if err != nil {
		return nil, err
	}
	if err := flux.SetSuspend(ctx, cl, t.HelmRelease, false); err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "Resumed HelmRelease %s.\n", t.HelmReleaseKey)
	if !wait {
		return t, nil
	}
	return t, flux.ReconcileAndWait(ctx, cl, t.HelmRelease, false, timeout, r)
}
