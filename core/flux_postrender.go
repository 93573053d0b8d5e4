package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/cozyhr/cozyhr/core/manifest"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// FluxPostRenderer does what helm-controller's post-render does, in its
// order and through the same kustomize machinery, so that the text Helm
// stores is the same: the HelmRelease's spec.postRenderers (kustomize
// patches and images), then spec.commonMetadata labels and annotations,
// then the origin labels (which win a key collision). Each step is one
// kustomize resource-map round trip, as in helm-controller; labels and
// annotations go to metadata only. It does nothing in plain Helm mode.
type FluxPostRenderer struct{}

// Name implements PostProcessor.
func (FluxPostRenderer) Name() string { return "flux-post-render" }

// AppliesTo implements Selective: Flux's post-render is for Flux mode only.
func (FluxPostRenderer) AppliesTo(rel ReleaseInfo) bool { return rel.HelmRelease != nil }

// PostProcess implements PostProcessor.
func (f FluxPostRenderer) PostProcess(_ context.Context, rel ReleaseInfo, objs []manifest.Object) (PostProcessResult, error) {
	if !f.AppliesTo(rel) {
		return PostProcessResult{Objects: objs}, nil
	}
	var in bytes.Buffer
	if err := manifest.WriteManifests(&in, objs); err != nil {
		return PostProcessResult{}, err
	}
	data := in.Bytes()
	var err error
	for i, pr := range rel.PostRenderers {
		if pr.Kustomize == nil {
			continue
		}
		if data, err = kustomizeStream(data, pr.Kustomize); err != nil {
			return PostProcessResult{}, fmt.Errorf("spec.postRenderers[%d].kustomize: %w", i, err)
		}
	}
	if cm := rel.CommonMetadata; cm != nil && (cm.Labels != nil || cm.Annotations != nil) {
		var ts []resmap.Transformer
		if cm.Labels != nil {
			ts = append(ts, metadataTransformer(cm.Labels, nil))
		}
		if cm.Annotations != nil {
			ts = append(ts, metadataTransformer(nil, cm.Annotations))
		}
		if data, err = transformStream(data, ts...); err != nil {
			return PostProcessResult{}, fmt.Errorf("spec.commonMetadata: %w", err)
		}
	}
	origin := map[string]string{OriginNameLabel: rel.HelmRelease.Name, OriginNamespaceLbl: rel.HelmRelease.Namespace}
	if data, err = transformStream(data, metadataTransformer(origin, nil)); err != nil {
		return PostProcessResult{}, fmt.Errorf("origin labels: %w", err)
	}
	out, err := manifest.ParseManifests(data)
	if err != nil {
		return PostProcessResult{}, err
	}
	return PostProcessResult{Objects: out}, nil
}

// metadataTransformer sets labels or annotations in metadata only.
func metadataTransformer(labels, annotations map[string]string) resmap.Transformer {
	if labels != nil {
		return &builtins.LabelTransformerPlugin{Labels: labels, FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/labels", CreateIfNotPresent: true}}}
	}
	return &builtins.AnnotationsTransformerPlugin{Annotations: annotations, FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/annotations", CreateIfNotPresent: true}}}
}

// transformStream loads a YAML stream into a kustomize resource map, runs
// the transformers and writes it back.
func transformStream(data []byte, ts ...resmap.Transformer) ([]byte, error) {
	factory := resmap.NewFactory(provider.NewDefaultDepProvider().GetResourceFactory())
	m, err := factory.NewResMapFromBytes(data)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if err := t.Transform(m); err != nil {
			return nil, err
		}
	}
	return m.AsYaml()
}

// kustomize is not safe for concurrent builds (kustomize issue 3659).
var kustomizeMu sync.Mutex

// kustomizeObjects runs a kustomization over objects (the kustomize
// built-in post-processor).
func kustomizeObjects(objs []manifest.Object, k *helmv2.Kustomize) ([]manifest.Object, error) {
	var in bytes.Buffer
	if err := manifest.WriteManifests(&in, objs); err != nil {
		return nil, err
	}
	out, err := kustomizeStream(in.Bytes(), k)
	if err != nil {
		return nil, err
	}
	return manifest.ParseManifests(out)
}

// kustomizeStream runs a kustomization whose only resource is the stream,
// with the HelmRelease's patches and images, in memory.
func kustomizeStream(data []byte, k *helmv2.Kustomize) ([]byte, error) {
	fs := filesys.MakeFsInMemory()
	const input = "helm-output.yaml"
	if err := fs.WriteFile(input, data); err != nil {
		return nil, err
	}
	kz := kustypes.Kustomization{Resources: []string{input}}
	kz.APIVersion, kz.Kind = kustypes.KustomizationVersion, kustypes.KustomizationKind
	for _, img := range k.Images {
		kz.Images = append(kz.Images, kustypes.Image{Name: img.Name, NewName: img.NewName, NewTag: img.NewTag, Digest: img.Digest})
	}
	for _, p := range k.Patches {
		kz.Patches = append(kz.Patches, kustypes.Patch{Patch: p.Patch, Target: selector(p.Target)})
	}
	kzData, err := json.Marshal(kz)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", kzData); err != nil {
		return nil, err
	}
	kustomizeMu.Lock()
	resMap, err := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	}).Run(fs, ".")
	kustomizeMu.Unlock()
	if err != nil {
		return nil, err
	}
	return resMap.AsYaml()
}

func selector(s *kustomize.Selector) *kustypes.Selector {
	if s == nil {
		return nil
	}
	out := &kustypes.Selector{LabelSelector: s.LabelSelector, AnnotationSelector: s.AnnotationSelector}
	out.Group, out.Version, out.Kind, out.Name, out.Namespace = s.Group, s.Version, s.Kind, s.Name, s.Namespace
	return out
}
