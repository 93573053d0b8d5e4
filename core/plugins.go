package core

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/plugins/host"
	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// PluginHost starts plugin processes; plugins/host.Host implements it.
type PluginHost interface {
	PostProcessor(ctx context.Context, spec host.Spec) (sdk.PostProcessor, error)
	ImageBuilder(ctx context.Context, spec host.Spec) (sdk.ImageBuilder, error)
}

// Default call timeouts for plugins that set none.
const (
	DefaultPostProcessTimeout = time.Minute
)

// Built-in post-processors that .cozyhr.yaml can name like plugins.
const (
	BuiltinFluxPostRender = "flux-post-render"
	BuiltinKustomize      = "kustomize"
)

// BuiltinPostProcessors lists the names above, for cozyhr plugins list.
func BuiltinPostProcessors() []string { return []string{BuiltinFluxPostRender, BuiltinKustomize} }

// buildPipeline makes the pipeline .cozyhr.yaml declares: Flux's
// post-render first unless the list places it, then each post-processor
// in order. A name that is not built in is a plugin.
func buildPipeline(cfg *config.Chart, plugins PluginHost) (*Pipeline, error) {
	p := &Pipeline{Renderer: HelmRenderer{}}
	placed := false
	for i, pc := range cfg.Plugins.PostProcessors {
		field := fmt.Sprintf("%s: plugins.postProcessors[%d]", cfg.Source(), i)
		pp, err := postProcessorFor(cfg, pc, field, plugins)
		if err != nil {
			return nil, err
		}
		if pp.Name() == BuiltinFluxPostRender {
			placed = true
		}
		p.PostProcessors = append(p.PostProcessors, pp)
	}
	if !placed {
		p.PostProcessors = append([]PostProcessor{FluxPostRenderer{}}, p.PostProcessors...)
	}
	return p, nil
}

func postProcessorFor(cfg *config.Chart, pc config.Plugin, field string, plugins PluginHost) (PostProcessor, error) {
	configJSON, err := json.Marshal(pc.Config)
	if err != nil {
		return nil, fmt.Errorf("%s.config: %w", field, err)
	}
	if pc.Path == "" {
		switch pc.Name {
		case BuiltinFluxPostRender:
			return FluxPostRenderer{}, nil
		case BuiltinKustomize:
			var k helmv2.Kustomize
			if err := sdk.DecodeConfig(configJSON, &k); err != nil {
				return nil, fmt.Errorf("%s.%w (the shape of a HelmRelease's spec.postRenderers[].kustomize)", field, err)
			}
			return kustomizePostProcessor{spec: &k}, nil
		}
	}
	timeout, err := host.ParseTimeout(pc.Timeout, DefaultPostProcessTimeout, field)
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

func (k kustomizePostProcessor) PostProcess(_ context.Context, _ ReleaseInfo, objs []manifest.Object) (PostProcessResult, error) {
	out, err := kustomizeObjects(objs, k.spec)
	return PostProcessResult{Objects: out}, err
}

// pluginPostProcessor is a post-processor in a plugin process, started on
// first use: the whole manifest stream goes over in one call.
type pluginPostProcessor struct {
	host   PluginHost
	spec   host.Spec
	config json.RawMessage
}

func (p *pluginPostProcessor) Name() string { return p.spec.Name }

func (p *pluginPostProcessor) PostProcess(ctx context.Context, rel ReleaseInfo, objs []manifest.Object) (PostProcessResult, error) {
	pp, err := p.host.PostProcessor(ctx, p.spec)
	if err != nil {
		return PostProcessResult{}, err
	}
	var in bytes.Buffer
	if err := manifest.WriteManifests(&in, objs); err != nil {
		return PostProcessResult{}, err
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
		return PostProcessResult{}, err
	}
	out, err := manifest.ParseManifests(resp.Manifests)
	if err != nil {
		return PostProcessResult{}, host.Fail(pp, fmt.Errorf("returned manifests that are not valid Kubernetes YAML: %w", err))
	}
	return PostProcessResult{Objects: out, Warnings: resp.Warnings}, nil
}
