package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/cozyhr/cozyhr/core/flux"
	"helm.sh/helm/v4/pkg/action"
	helmkube "helm.sh/helm/v4/pkg/kube"
	"helm.sh/helm/v4/pkg/storage/driver"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DeleteOptions tune delete.
type DeleteOptions struct {
	Timeout     time.Duration
	Wait        bool
	KeepHistory bool
	// DisableHooks skips the chart's pre- and post-delete hooks.
	DisableHooks bool
	// KeepHelmRelease leaves the HelmRelease in place, suspended.
	KeepHelmRelease bool
}

// Delete uninstalls the Helm release itself, so that no object is orphaned
// whatever Flux would do. In Flux mode the HelmRelease is suspended first so
// that helm-controller does not reinstall it, then deleted unless kept.
func (w *Workspace) Delete(ctx context.Context, opts DeleteOptions, log io.Writer, debug io.Writer) error {
	if w.Cluster == nil {
		return &NeedsClusterError{What: "delete"}
	}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return err
	}
	uninstall := func() (flux.Record, error) {
		cfg, err := w.helmConfig(t, debug)
		if err != nil {
			return nil, err
		}
		un := action.NewUninstall(cfg)
		un.Timeout, un.KeepHistory, un.DisableHooks = opts.Timeout, opts.KeepHistory, opts.DisableHooks
		un.WaitStrategy = helmkube.HookOnlyStrategy
		if opts.Wait {
			un.WaitStrategy = helmkube.StatusWatcherStrategy
		}
		if _, err := un.Run(t.ReleaseName); err != nil {
			if !errors.Is(err, driver.ErrReleaseNotFound) {
				return nil, fmt.Errorf("uninstall release %s in namespace %s: %w", t.ReleaseName, t.StorageNamespace, err)
			}
			fmt.Fprintf(log, "Release %s is not installed in namespace %s; nothing to uninstall.\n", t.ReleaseName, t.StorageNamespace)
		} else {
			fmt.Fprintf(log, "Uninstalled release %s from namespace %s.\n", t.ReleaseName, t.Namespace)
		}
		if !t.FluxMode() || !opts.KeepHelmRelease {
			return nil, nil
		}
		// The HelmRelease stays; its status must not go on saying the
		// release is installed.
		return flux.Uninstall{Release: t.ReleaseName, Namespace: t.Namespace, Message: fmt.Sprintf("Helm uninstall succeeded for release %s/%s (by cozyhr delete, keeping the HelmRelease)", t.Namespace, t.ReleaseName)}, nil
	}
	if !t.FluxMode() {
		_, err := uninstall()
		return err
	}
	cl, err := w.Cluster.Client()
	if err != nil {
		return err
	}
	if _, err := flux.Hold(ctx, cl, t.HelmRelease, "so that Flux does not reinstall the release", log, uninstall); err != nil {
		return err
	}
	if opts.KeepHelmRelease {
		fmt.Fprintf(log, "Kept HelmRelease %s/%s, suspended: resume it to let Flux install the release again. Deleting it while suspended is safe now: the release is already uninstalled.\n", t.HelmRelease.Namespace, t.HelmRelease.Name)
		return nil
	}
	if err := client.IgnoreNotFound(cl.Delete(ctx, t.HelmRelease)); err != nil {
		return fmt.Errorf("delete HelmRelease %s/%s: %w", t.HelmRelease.Namespace, t.HelmRelease.Name, err)
	}
	fmt.Fprintf(log, "Deleted HelmRelease %s/%s.\n", t.HelmRelease.Namespace, t.HelmRelease.Name)
	// The trap this avoids: Flux skips the uninstall when a suspended
	// HelmRelease is deleted, orphaning everything the release installed.
	fmt.Fprintln(log, "Note: deleting a suspended HelmRelease through Flux or kubectl skips the Helm uninstall and orphans its objects; cozyhr uninstalled the release first.")
	return nil
}
