package postprocess

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"cmp"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provider"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/plugins/host"
	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// Plugins starts post-processor plugins; plugins/host.Host implements it.
type Plugins interface {
	PostProcessor(ctx context.Context, spec host.Spec) (sdk.PostProcessor, error)
}

// DefaultTimeout bounds a plugin's call when .cozyhr.yaml sets none.
const DefaultTimeout = time.Minute

// BuiltinKustomize is the built-in kustomize post-processor's name.
const BuiltinKustomize = "kustomize"

// For makes the post-processor a .cozyhr.yaml plugins.postProcessors entry
// names (field says where, in errors): the kustomize built-in, or a plugin.
func For(cfg *config.Chart, pc config.Plugin, field string, plugins Plugins) (PostProcessor, error) {
	configJSON, err := json.Marshal(pc.Config)
	if err != nil {
		return nil, fmt.Errorf("%s.config: %w", field, err)
	}
	if pc.Path == "" && pc.Name == BuiltinKustomize {
		var k helmv2.Kustomize
		if err := sdk.DecodeConfig(configJSON, &k); err != nil {
			return nil, fmt.Errorf("%s.%w (the shape of a HelmRelease's spec.postRenderers[].kustomize)", field, err)
		}
		return kustomizePostProcessor{spec: &k}, nil
	}
	timeout, err := host.ParseTimeout(pc.Timeout, DefaultTimeout, field)
	if err != nil {
		return nil, err
	}
	if plugins == nil {
		return nil, fmt.Errorf("%s: plugins are not available here", field)
	}
	return &pluginPostProcessor{
		host:   plugins,
		config: configJSON,
		spec: host.Spec{Name: cmp.Or(pc.Name, pc.Path), Path: pc.Path, BaseDir: cfg.Dir, SHA256: pc.SHA256,
			Timeout: timeout, Stage: "post-process", Field: field},
	}, nil
}

// kustomizePostProcessor runs kustomize patches and images over the render,
// as a HelmRelease's kustomize post-renderer does, in plain mode too.
type kustomizePostProcessor struct{ spec *helmv2.Kustomize }

func (kustomizePostProcessor) Name() string { return BuiltinKustomize }

func (k kustomizePostProcessor) PostProcess(_ context.Context, _ ReleaseInfo, objs []manifest.Object) (Result, error) {
	out, err := kustomizeObjects(objs, k.spec)
	return Result{Objects: out}, err
}

// pluginPostProcessor is a post-processor in a plugin process, started on
// first use: the whole manifest stream goes over in one call.
type pluginPostProcessor struct {
	host   Plugins
	spec   host.Spec
	config json.RawMessage
}

func (p *pluginPostProcessor) Name() string { return p.spec.Name }

func (p *pluginPostProcessor) PostProcess(ctx context.Context, rel ReleaseInfo, objs []manifest.Object) (Result, error) {
	pp, err := p.host.PostProcessor(ctx, p.spec)
	if err != nil {
		return Result{}, err
	}
	var in bytes.Buffer
	if err := manifest.WriteManifests(&in, objs); err != nil {
		return Result{}, err
	}
	req := &sdk.PostProcessRequest{
		Release:   sdk.Release{Name: rel.Name, Namespace: rel.Namespace, ChartDir: p.spec.BaseDir},
		Manifests: in.Bytes(),
		Config:    p.config,
	}
	if rel.HelmRelease != nil {
		req.Release.HelmReleaseName, req.Release.HelmReleaseNamespace = rel.HelmRelease.Name, rel.HelmRelease.Namespace
	}
	resp, err := pp.PostProcess(ctx, req)
	if err != nil {
		return Result{}, err
	}
	out, err := manifest.ParseManifests(resp.Manifests)
	if err != nil {
		return Result{}, host.Fail(pp, fmt.Errorf("returned manifests that are not valid Kubernetes YAML: %w", err))
	}
	return Result{Objects: out, Warnings: resp.Warnings}, nil
}

// MetadataTransformer sets labels or annotations in metadata only.
func MetadataTransformer(labels, annotations map[string]string) resmap.Transformer {
	if labels != nil {
		return &builtins.LabelTransformerPlugin{Labels: labels, FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/labels", CreateIfNotPresent: true}}}
	}
	return &builtins.AnnotationsTransformerPlugin{Annotations: annotations, FieldSpecs: []kustypes.FieldSpec{{Path: "metadata/annotations", CreateIfNotPresent: true}}}
}

// TransformStream loads a YAML stream into a kustomize resource map, runs
// the transformers and writes it back.
func TransformStream(data []byte, ts ...resmap.Transformer) ([]byte, error) {
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
	out, err := KustomizeStream(in.Bytes(), k)
	if err != nil {
		return nil, err
	}
	return manifest.ParseManifests(out)
}

// KustomizeStream runs a kustomization whose only resource is the stream,
// with the HelmRelease's patches and images, in memory.
func KustomizeStream(data []byte, k *helmv2.Kustomize) ([]byte, error) {
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
