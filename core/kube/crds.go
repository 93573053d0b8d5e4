package kube

import (
	"context"
	"fmt"
	"time"

	"github.com/cozyhr/cozyhr/core/manifest"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// ApplyCRDs creates (and with CreateReplace, updates) a chart's crds/ CRDs
// under policy (helm-controller's Skip, Create, CreateReplace) and waits
// until they are served, before Helm installs objects of their kinds.
// With a field manager, Create applies existing CRDs server-side as it,
// as helm-controller's Create does through Helm's server-side create:
// existing ones change too. It says how many it created and how many
// existing ones it changed.
func ApplyCRDs(ctx context.Context, cl client.Client, policy, ssaManager string, crds []manifest.Object) (created, changed int, err error) {
	if policy == string(helmv2.Skip) || len(crds) == 0 {
		return 0, 0, nil
	}
	for _, o := range crds {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, crd); err != nil {
			return created, changed, fmt.Errorf("%s: %w", o.Source, err)
		}
		wrote, err := applyCRD(ctx, cl, policy, ssaManager, crd)
		switch {
		case err != nil:
			return created, changed, err
		case wrote == "created":
			created++
		case wrote == "changed":
			changed++
		default:
			continue
		}
		if err := waitEstablished(ctx, cl, crd.Name); err != nil {
			return created, changed, err
		}
	}
	return created, changed, nil
}

// applyCRD writes one CRD as the policy says: "created", "changed", or
// "" when it left it as it was.
func applyCRD(ctx context.Context, cl client.Client, policy, ssaManager string, crd *apiextensionsv1.CustomResourceDefinition) (string, error) {
	var live apiextensionsv1.CustomResourceDefinition
	err := cl.Get(ctx, client.ObjectKeyFromObject(crd), &live)
	if apierrors.IsNotFound(err) {
		if err = cl.Create(ctx, crd.DeepCopy()); err == nil {
			return "created", nil
		}
		// Another run (an instance of the same fleet) made it first: it
		// exists, as if it had been there before.
		if apierrors.IsAlreadyExists(err) {
			err = cl.Get(ctx, client.ObjectKeyFromObject(crd), &live)
		}
	}
	switch {
	case err != nil:
		return "", fmt.Errorf("create CRD %s: %w", crd.Name, err)
	case policy == string(helmv2.CreateReplace):
		crd.ResourceVersion = live.ResourceVersion
		if err := cl.Update(ctx, crd); err != nil {
			return "", fmt.Errorf("replace CRD %s: %w", crd.Name, err)
		}
		return "changed", nil
	case ssaManager != "":
		crd.TypeMeta = metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"}
		if err := cl.Patch(ctx, crd, client.Apply, client.FieldOwner(ssaManager), client.ForceOwnership); err != nil {
			return "", fmt.Errorf("apply CRD %s: %w", crd.Name, err)
		}
		if equality.Semantic.DeepEqual(crd.Spec, live.Spec) {
			return "", nil // the same as it was, its managed fields aside
		}
		return "changed", nil
	}
	return "", nil
}

// waitEstablished waits until the API server serves the CRD's kind.
func waitEstablished(ctx context.Context, cl client.Client, name string) error {
	var live apiextensionsv1.CustomResourceDefinition
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := cl.Get(ctx, client.ObjectKey{Name: name}, &live); err != nil {
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
		return fmt.Errorf("CRD %s was not established: %w", name, err)
	}
	return nil
}
