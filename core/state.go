package core

import (
	"context"
	"fmt"
	"strings"

	"github.com/cozyhr/cozyhr/core/kube"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ReleaseState says in one line where the release and its HelmRelease are
// now, read afresh, and how to go on: what an interrupted run reports.
func (w *Workspace) ReleaseState(ctx context.Context) string {
	t, err := w.ResolveTarget(ctx)
	if err != nil || w.Cluster == nil {
		return "the release was not read"
	}
	var parts []string
	if cfg, err := w.helmConfig(t, nil); err == nil {
		switch last, err := kube.LastRelease(cfg, t.ReleaseName); {
		case err != nil:
			parts = append(parts, fmt.Sprintf("release %s could not be read (%v)", t.ReleaseName, err))
		case last == nil:
			parts = append(parts, fmt.Sprintf("release %s is not installed", t.ReleaseName))
		default:
			parts = append(parts, fmt.Sprintf("release %s is at revision %d, %s", t.ReleaseName, last.Version, last.Info.Status))
		}
	}
	if t.FluxMode() {
		hr := &helmv2.HelmRelease{}
		if cl, err := w.Cluster.Client(); err == nil && cl.Get(ctx, client.ObjectKeyFromObject(t.HelmRelease), hr) == nil {
			if hr.Spec.Suspend {
				parts = append(parts, fmt.Sprintf("HelmRelease %s is suspended (cozyhr resume hands it back to Flux)", t.HelmReleaseKey))
			} else {
				parts = append(parts, fmt.Sprintf("HelmRelease %s is not suspended", t.HelmReleaseKey))
			}
		}
	}
	return strings.Join(parts, "; ")
}
