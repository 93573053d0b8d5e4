package core

import (
	"context"
	"encoding/json"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Flux's identity in managedFields and labels, matched so that cozyhr's
// writes look like the flux CLI's and its renders like helm-controller's.
const (
	FluxFieldManager   = "flux-client-side-apply"
	OriginLabelGroup   = "helm.toolkit.fluxcd.io"
	OriginNameLabel    = OriginLabelGroup + "/name"
	OriginNamespaceLbl = OriginLabelGroup + "/namespace"
)

// getHelmRelease returns the HelmRelease, or nil when it or its CRD does not
// exist: both mean plain Helm mode.
func getHelmRelease(ctx context.Context, cl client.Client, key types.NamespacedName) (*helmv2.HelmRelease, error) {
	hr := &helmv2.HelmRelease{}
	err := cl.Get(ctx, key, hr)
	switch {
	case err == nil:
		return hr, nil
	case apierrors.IsNotFound(err), meta.IsNoMatchError(err):
		return nil, nil
	default:
		return nil, fmt.Errorf("get HelmRelease %s: %w", key, err)
	}
}

// helmReleaseValues decodes spec.values.
func helmReleaseValues(hr *helmv2.HelmRelease) (map[string]any, error) {
	out := map[string]any{}
	if hr == nil || hr.Spec.Values == nil || len(hr.Spec.Values.Raw) == 0 {
		return out, nil
	}
	if err := json.Unmarshal(hr.Spec.Values.Raw, &out); err != nil {
		return nil, fmt.Errorf("HelmRelease %s/%s spec.values: %w", hr.Namespace, hr.Name, err)
	}
	return out, nil
}

// setSuspend patches spec.suspend with a merge patch, as flux suspend does,
// so that it never conflicts with other writers of the spec.
func setSuspend(ctx context.Context, cl client.Client, hr *helmv2.HelmRelease, suspend bool) error {
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"suspend":%t}}`, suspend))
	if err := cl.Patch(ctx, hr, patch, client.FieldOwner(FluxFieldManager)); err != nil {
		verb := "resume"
		if suspend {
			verb = "suspend"
		}
		return fmt.Errorf("%s HelmRelease %s/%s: %w", verb, hr.Namespace, hr.Name, err)
	}
	return nil
}
