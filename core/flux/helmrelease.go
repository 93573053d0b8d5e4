// Package flux emulates what helm-controller does with a HelmRelease:
// its values, release naming and post-render, the status it records, and
// Flux's suspend, resume and reconcile requests.
package flux

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cozyhr/cozyhr/core/values"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/strvals"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

// Flux's identity in managedFields and labels, matched so that cozyhr's
// writes look like the flux CLI's and its renders like helm-controller's.
const (
	FieldManager         = "flux-client-side-apply"
	OriginLabelGroup     = "helm.toolkit.fluxcd.io"
	OriginNameLabel      = OriginLabelGroup + "/name"
	OriginNamespaceLabel = OriginLabelGroup + "/namespace"
)

// Get returns the HelmRelease, or nil when it or its CRD does not
// exist: both mean plain Helm mode.
func Get(ctx context.Context, cl client.Client, key types.NamespacedName) (*helmv2.HelmRelease, error) {
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

// SetSuspend patches spec.suspend with a merge patch, as flux suspend does,
// so that it never conflicts with other writers of the spec.
func SetSuspend(ctx context.Context, cl client.Client, hr *helmv2.HelmRelease, suspend bool) error {
	patch := client.RawPatch(types.MergePatchType, fmt.Appendf(nil, `{"spec":{"suspend":%t}}`, suspend))
	if err := cl.Patch(ctx, hr, patch, client.FieldOwner(FieldManager)); err != nil {
		verb := "resume"
		if suspend {
			verb = "suspend"
		}
		return fmt.Errorf("%s HelmRelease %s/%s: %w", verb, hr.Namespace, hr.Name, err)
	}
	return nil
}

// maxReleaseNameLength is Helm's limit on release names.
const maxReleaseNameLength = 53

// ReleaseName is the release name helm-controller uses: spec.releaseName,
// else [targetNamespace-]name, cut to 40 characters plus a hash of the whole
// name when longer than Helm allows.
func ReleaseName(hr *helmv2.HelmRelease) string {
	name := hr.GetReleaseName()
	if len(name) <= maxReleaseNameLength {
		return name
	}
	const hashLength = 12
	sum := fmt.Sprintf("%x", sha256.Sum256([]byte(name)))
	return name[:maxReleaseNameLength-hashLength-1] + "-" + sum[:hashLength]
}

// Values composes values as helm-controller does: spec.valuesFrom in
// order (ConfigMap or Secret; key values.yaml unless valuesKey; targetPath
// set with Helm's strvals, quoted values as strings; optional references may
// be missing), then spec.values on top. It also returns the value paths that
// came from Secrets, so that printing can mask them.
func Values(ctx context.Context, cl client.Reader, hr *helmv2.HelmRelease) (map[string]any, [][]string, error) {
	result := map[string]any{}
	var secretPaths [][]string
	if hr == nil {
		return result, nil, nil
	}
	for i, ref := range hr.Spec.ValuesFrom {
		key := types.NamespacedName{Namespace: hr.Namespace, Name: ref.Name}
		where := fmt.Sprintf("HelmRelease %s/%s spec.valuesFrom[%d]", hr.Namespace, hr.Name, i)
		valuesKey := ref.GetValuesKey()
		data, exists, found, err := valuesData(ctx, cl, key, ref.Kind, valuesKey)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s %s: %w", where, ref.Kind, key, err)
		}
		if !exists {
			if ref.Optional {
				continue
			}
			return nil, nil, fmt.Errorf("%s: %s %s: not found; create it or mark the reference optional", where, ref.Kind, key)
		}
		if !found {
			if ref.Optional {
				continue
			}
			return nil, nil, fmt.Errorf("%s: %s %s has no key %q; add it, set valuesKey, or mark the reference optional", where, ref.Kind, key, valuesKey)
		}
		if ref.TargetPath != "" {
			value := string(data)
			var err error
			if len(value) >= 2 && (value[0] == '"' && value[len(value)-1] == '"' || value[0] == '\'' && value[len(value)-1] == '\'') {
				err = strvals.ParseIntoString(ref.TargetPath+"="+strings.Trim(value, `"'`), result)
			} else {
				err = strvals.ParseInto(ref.TargetPath+"="+value, result)
			}
			if err != nil {
				return nil, nil, fmt.Errorf("%s: targetPath %q: %w", where, ref.TargetPath, err)
			}
			if ref.Kind == "Secret" {
				secretPaths = append(secretPaths, strings.Split(ref.TargetPath, "."))
			}
			continue
		}
		parsed := map[string]any{}
		if err := yaml.Unmarshal(data, &parsed); err != nil {
			return nil, nil, fmt.Errorf("%s: %s %s key %q is not YAML: %w", where, ref.Kind, key, valuesKey, err)
		}
		if ref.Kind == "Secret" {
			secretPaths = append(secretPaths, leafPaths(parsed, nil)...)
		}
		values.Merge(result, parsed)
	}
	spec, err := helmReleaseValues(hr)
	if err != nil {
		return nil, nil, err
	}
	values.Merge(result, spec)
	return result, secretPaths, nil
}

// valuesData reads a key of a ConfigMap or Secret: exists reports whether
// the object exists, found whether it has the key.
func valuesData(ctx context.Context, cl client.Reader, key types.NamespacedName, kind, valuesKey string) (data []byte, exists, found bool, err error) {
	var obj client.Object
	switch kind {
	case "ConfigMap":
		obj = &corev1.ConfigMap{}
	case "Secret":
		obj = &corev1.Secret{}
	default:
		return nil, false, false, fmt.Errorf("unsupported kind %q (ConfigMap or Secret)", kind)
	}
	if err := cl.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, false, false, nil
		}
		return nil, false, false, err
	}
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		if s, ok := o.Data[valuesKey]; ok {
			return []byte(s), true, true, nil
		}
		data, found = o.BinaryData[valuesKey]
	case *corev1.Secret:
		data, found = o.Data[valuesKey]
	}
	return data, true, found, nil
}

func leafPaths(m map[string]any, prefix []string) [][]string {
	var out [][]string
	for k, v := range m {
		p := append(append([]string(nil), prefix...), k)
		if sub, ok := v.(map[string]any); ok && len(sub) > 0 {
			out = append(out, leafPaths(sub, p)...)
			continue
		}
		out = append(out, p)
	}
	return out
}

// MadeFrom reports whether hr's release was made from the chart named
// chartName: the chart its latest recorded release used, or, before any,
// the chart its spec names.
func MadeFrom(hr *helmv2.HelmRelease, chartName string) bool {
	if latest := hr.Status.History.Latest(); latest != nil {
		return latest.ChartName == chartName
	}
	return hr.Spec.Chart != nil && hr.Spec.Chart.Spec.Chart == chartName
}
