package core

import (
	"context"
	"fmt"
	"time"

	"github.com/cozyhr/cozyhr/core/manifest"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CRD policies for the chart's crds/ directory, as helm-controller names
// them: Skip leaves CRDs alone, Create creates missing ones, CreateReplace
// also replaces existing ones.
const (
	CRDsSkip          = string(helmv2.Skip)
	CRDsCreate        = string(helmv2.Create)
	CRDsCreateReplace = string(helmv2.CreateReplace)
)

// crdPolicy is the policy for the coming install or upgrade: the
// HelmRelease's spec.install.crds (default Create) or spec.upgrade.crds
// (default Skip) in Flux mode; Helm's own behaviour (Create on install, Skip
// on upgrade) otherwise, unless .cozyhr.yaml apply.crds says otherwise.
func (w *Workspace) crdPolicy(t *Target, upgrade bool) string {
	if hr := t.HelmRelease; hr != nil {
		switch {
		case !upgrade && hr.Spec.Install != nil && hr.Spec.Install.CRDs != "":
			return string(hr.Spec.Install.CRDs)
		case upgrade && hr.Spec.Upgrade != nil && hr.Spec.Upgrade.CRDs != "":
			return string(hr.Spec.Upgrade.CRDs)
		}
	} else if p := w.Config.Apply.CRDs; p != "" {
		return p
	}
	if upgrade {
		return CRDsSkip
	}
	return CRDsCreate
}

// applyCRDs creates (and with CreateReplace, updates) the chart's CRDs and
// waits until they are served, before Helm installs objects of their kinds.
func applyCRDs(ctx context.Context, cl client.Client, policy string, crds []manifest.Object) (int, error) {
	if policy == CRDsSkip || len(crds) == 0 {
		return 0, nil
	}
	changed := 0
	for _, o := range crds {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, crd); err != nil {
			return changed, fmt.Errorf("%s: %w", o.Source, err)
		}
		var live apiextensionsv1.CustomResourceDefinition
		err := cl.Get(ctx, client.ObjectKeyFromObject(crd), &live)
		switch {
		case apierrors.IsNotFound(err):
			if err := cl.Create(ctx, crd); err != nil {
				return changed, fmt.Errorf("create CRD %s: %w", crd.Name, err)
			}
			changed++
		case err != nil:
			return changed, fmt.Errorf("get CRD %s: %w", crd.Name, err)
		case policy == CRDsCreateReplace:
			crd.ResourceVersion = live.ResourceVersion
			if err := cl.Update(ctx, crd); err != nil {
				return changed, fmt.Errorf("replace CRD %s: %w", crd.Name, err)
			}
			changed++
		default:
			continue
		}
		err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			if err := cl.Get(ctx, client.ObjectKeyFromObject(crd), &live); err != nil {
				return false, err
			}
			for _, c := range live.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return changed, fmt.Errorf("CRD %s was not established: %w", crd.Name, err)
		}
	}
	return changed, nil
}
