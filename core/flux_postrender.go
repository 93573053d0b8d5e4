package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"sigs.k8s.io/kustomize/api/krusty"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// FluxPostRenderer does what helm-controller's post-render does, in its
// order: the HelmRelease's spec.postRenderers (kustomize patches and
// images), then spec.commonMetadata labels and annotations, then the origin
// labels (which win a key collision). Labels and annotations go to
// metadata only, never to selectors or templates. It does nothing in plain
// Helm mode.
type FluxPostRenderer struct{}

// Name implements PostProcessor.
func (FluxPostRenderer) Name() string { return "flux-post-render" }

// AppliesTo implements Selective: Flux's post-render is for Flux mode only.
func (FluxPostRenderer) AppliesTo(rel ReleaseInfo) bool { return rel.HelmRelease != nil }

// PostProcess implements PostProcessor.
func (f FluxPostRenderer) PostProcess(_ context.Context, rel ReleaseInfo, objs []Object) (PostProcessResult, error) {
	if !f.AppliesTo(rel) {
		return PostProcessResult{Objects: objs}, nil
	}
	for i, pr := range rel.PostRenderers {
		if pr.Kustomize == nil {
			continue
		}
		var err error
		if objs, err = kustomizeObjects(objs, pr.Kustomize); err != nil {
			return PostProcessResult{}, fmt.Errorf("spec.postRenderers[%d].kustomize: %w", i, err)
		}
	}
	if cm := rel.CommonMetadata; cm != nil {
		for i := range objs {
			objs[i].Touch()
			objs[i].SetLabels(mergeStrings(objs[i].GetLabels(), cm.Labels))
			objs[i].SetAnnotations(mergeStrings(objs[i].GetAnnotations(), cm.Annotations))
		}
	}
	origin := map[string]string{OriginNameLabel: rel.HelmRelease.Name, OriginNamespaceLbl: rel.HelmRelease.Namespace}
	for i := range objs {
		objs[i].Touch()
		objs[i].SetLabels(mergeStrings(objs[i].GetLabels(), origin))
	}
	return PostProcessResult{Objects: objs}, nil
}

func mergeStrings(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = map[string]string{}
	}
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

// kustomize is not safe for concurrent builds (kustomize issue 3659).
var kustomizeMu sync.Mutex

// kustomizeObjects runs a kustomization whose only resource is the render,
// with the HelmRelease's patches and images, in memory.
func kustomizeObjects(objs []Object, k *helmv2.Kustomize) ([]Object, error) {
	var in bytes.Buffer
	if err := WriteManifests(&in, objs); err != nil {
		return nil, err
	}
	fs := filesys.MakeFsInMemory()
	const input = "render.yaml"
	if err := fs.WriteFile(input, in.Bytes()); err != nil {
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
	data, err := json.Marshal(kz)
	if err != nil {
		return nil, err
	}
	if err := fs.WriteFile("kustomization.yaml", data); err != nil {
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
	out, err := resMap.AsYaml()
	if err != nil {
		return nil, err
	}
	result, err := ParseManifests(out)
	if err != nil {
		return nil, err
	}
	for i := range result {
		result[i].Touch()
	}
	restoreSources(result, objs)
	return result, nil
}

// restoreSources gives each object that lost Helm's "# Source:" comment
// (kustomize drops them, a plugin may) the source of the input object with
// the same identity.
func restoreSources(out, in []Object) {
	sources := make(map[string]string, len(in))
	for _, o := range in {
		sources[RefOf(o.Unstructured).Key()] = o.Source
	}
	for i := range out {
		if out[i].Source == "" {
			out[i].Source = sources[RefOf(out[i].Unstructured).Key()]
		}
	}
}

func selector(s *kustomize.Selector) *kustypes.Selector {
	if s == nil {
		return nil
	}
	out := &kustypes.Selector{LabelSelector: s.LabelSelector, AnnotationSelector: s.AnnotationSelector}
	out.Group, out.Version, out.Kind, out.Name, out.Namespace = s.Group, s.Version, s.Kind, s.Name, s.Namespace
	return out
}
