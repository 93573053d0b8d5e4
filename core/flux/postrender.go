package flux

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/postprocess"
	"sigs.k8s.io/kustomize/api/resmap"
)

// PostRenderer does what helm-controller's post-render does, in its
// order and through the same kustomize machinery, so that the text Helm
// stores is the same: the HelmRelease's spec.postRenderers (kustomize
// patches and images), then spec.commonMetadata labels and annotations,
// then the origin labels (which win a key collision). Each step is one
// kustomize resource-map round trip, as in helm-controller; labels and
// annotations go to metadata only. It does nothing in plain Helm mode.
type PostRenderer struct{}

// Name implements postprocess.PostProcessor.
// BuiltinName is the name .cozyhr.yaml places Flux's post-render by.
const BuiltinName = "flux-post-render"

func (PostRenderer) Name() string { return BuiltinName }

// AppliesTo implements postprocess.Selective: Flux's post-render is for Flux mode only.
func (PostRenderer) AppliesTo(rel postprocess.ReleaseInfo) bool { return rel.HelmRelease != nil }

// PostProcess implements postprocess.PostProcessor.
func (f PostRenderer) PostProcess(_ context.Context, rel postprocess.ReleaseInfo, objs []manifest.Object) (postprocess.Result, error) {
	if !f.AppliesTo(rel) {
		return postprocess.Result{Objects: objs}, nil
	}
	var in bytes.Buffer
	if err := manifest.WriteManifests(&in, objs); err != nil {
		return postprocess.Result{}, err
	}
	data := in.Bytes()
	var err error
	for i, pr := range rel.PostRenderers {
		if pr.Kustomize == nil {
			continue
		}
		if data, err = postprocess.KustomizeStream(data, pr.Kustomize); err != nil {
			return postprocess.Result{}, fmt.Errorf("spec.postRenderers[%d].kustomize: %w", i, err)
		}
	}
	if cm := rel.CommonMetadata; cm != nil && (cm.Labels != nil || cm.Annotations != nil) {
		var ts []resmap.Transformer
		if cm.Labels != nil {
			ts = append(ts, postprocess.MetadataTransformer(cm.Labels, nil))
		}
		if cm.Annotations != nil {
			ts = append(ts, postprocess.MetadataTransformer(nil, cm.Annotations))
		}
		if data, err = postprocess.TransformStream(data, ts...); err != nil {
			return postprocess.Result{}, fmt.Errorf("spec.commonMetadata: %w", err)
		}
	}
	origin := map[string]string{OriginNameLabel: rel.HelmRelease.Name, OriginNamespaceLabel: rel.HelmRelease.Namespace}
	if data, err = postprocess.TransformStream(data, postprocess.MetadataTransformer(origin, nil)); err != nil {
		return postprocess.Result{}, fmt.Errorf("origin labels: %w", err)
	}
	out, err := manifest.ParseManifests(data)
	if err != nil {
		return postprocess.Result{}, err
	}
	return postprocess.Result{Objects: out}, nil
}
