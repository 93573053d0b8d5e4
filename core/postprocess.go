package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"k8s.io/apimachinery/pkg/types"

	"github.com/cozyhr/cozyhr/plugins/host"
)

// ReleaseInfo tells post-processors which release they work for.
type ReleaseInfo struct {
	Name      string
	Namespace string
	// HelmRelease is set in Flux mode: the live HelmRelease that owns the
	// release.
	HelmRelease *types.NamespacedName
	// PostRenderers and CommonMetadata are the HelmRelease's, in Flux mode.
	PostRenderers  []helmv2.PostRenderer
	CommonMetadata *helmv2.CommonMetadata
}

// PostProcessor rewrites rendered manifests before diff and apply, as Helm
// post-renderers and helm-controller's post-render do. Built-ins and plugins
// implement it alike.
type PostProcessor interface {
	Name() string
	PostProcess(ctx context.Context, rel ReleaseInfo, objs []Object) (PostProcessResult, error)
}

// Selective is implemented by post-processors that do nothing for some
// releases (Flux's post-render in plain Helm mode). When every processor is
// idle, a render printed as text need not be parsed at all.
type Selective interface {
	AppliesTo(rel ReleaseInfo) bool
}

// PostProcessResult is a post-processor's output.
type PostProcessResult struct {
	Objects  []Object
	Warnings []string
}

// RunPostProcessors runs each processor in order over the whole stream.
func RunPostProcessors(ctx context.Context, pps []PostProcessor, rel ReleaseInfo, objs []Object) ([]Object, []string, error) {
	var warnings []string
	for _, pp := range pps {
		res, err := pp.PostProcess(ctx, rel, objs)
		var pluginErr *host.Error
		if errors.As(err, &pluginErr) {
			return nil, warnings, err // it names the plugin and stage already
		} else if err != nil {
			return nil, warnings, fmt.Errorf("post-process %s: %w", pp.Name(), err)
		}
		for _, w := range res.Warnings {
			warnings = append(warnings, pp.Name()+": "+w)
		}
		objs = res.Objects
	}
	return objs, warnings, nil
}

// helmPostRenderer lets Helm's install and upgrade run the same chain that
// show and diff run, so that what is applied is what was diffed.
type helmPostRenderer struct {
	ctx      context.Context
	chain    []PostProcessor
	rel      ReleaseInfo
	warnings []string
	// desired, when it kept its post-processing input, answers for Helm
	// when Helm rendered the same stream: what was diffed is then applied
	// without running the chain (and its plugins) again.
	desired *Desired
}

func (h *helmPostRenderer) Run(in *bytes.Buffer) (*bytes.Buffer, error) {
	objs, err := ParseManifests(in.Bytes())
	if err != nil {
		return nil, err
	}
	if d := h.desired; d != nil && d.postInput != nil {
		var same bytes.Buffer
		if err := WriteManifests(&same, objs); err != nil {
			return nil, err
		}
		if bytes.Equal(same.Bytes(), d.postInput) {
			out := &bytes.Buffer{}
			if err := WriteManifests(out, d.Rendered.Manifests); err != nil {
				return nil, err
			}
			h.warnings = append(h.warnings, d.Warnings...)
			return out, nil
		}
	}
	objs, warnings, err := RunPostProcessors(h.ctx, h.chain, h.rel, objs)
	h.warnings = append(h.warnings, warnings...)
	if err != nil {
		return nil, err
	}
	out := &bytes.Buffer{}
	if err := WriteManifests(out, objs); err != nil {
		return nil, err
	}
	return out, nil
}
