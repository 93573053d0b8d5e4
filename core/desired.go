package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/postprocess"
	"github.com/cozyhr/cozyhr/core/snapshot"
	"github.com/cozyhr/cozyhr/core/values"
	"helm.sh/helm/v4/pkg/engine"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/core/kube"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Pipeline holds the pluggable stages: render, then post-process.
type Pipeline struct {
	Renderer       Renderer
	PostProcessors []postprocess.PostProcessor
}

// DefaultPipeline renders with Helm and post-renders as helm-controller does.
func DefaultPipeline() *Pipeline {
	return &Pipeline{Renderer: HelmRenderer{}, PostProcessors: []postprocess.PostProcessor{flux.PostRenderer{}}}
}

// RenderOptions are the per-run inputs of the render stage.
type RenderOptions struct {
	Values values.Overrides
	// KubeVersion and APIVersions set .Capabilities when offline.
	KubeVersion string
	APIVersions []string
	// Deterministic seeds the random template functions (see RenderRequest).
	Deterministic bool
	// TextOnly says the caller prints the render as text: when nothing
	// would post-process the objects, they are then never parsed.
	TextOnly bool
	// Lookups answer lookup offline (a file of objects); with a cluster,
	// or inputs recorded, these come first.
	Lookups *snapshot.Answers
	// Recorder, when set, keeps what templates read with lookup.
	Recorder *snapshot.Recorder
}

// Desired is the post-processed render of a chart for its target, plus the
// release it would upgrade.
type Desired struct {
	Target *Target
	Chart  *chart.Chart
	Values map[string]any
	// SecretValuePaths are value paths that came from Secrets (valuesFrom),
	// masked when values are printed.
	SecretValuePaths [][]string
	Rendered         *Rendered
	Warnings         []string
	// Unanswered are the lookup calls nothing offline answered: each
	// returned an empty map, as Helm's lookup does offline.
	Unanswered []string
	// Previous is the newest stored revision of the release, nil when the
	// release is not installed or when offline.
	Previous *release.Release
	// PostRendered are the post-process chain's answers (its input streams
	// and outputs), nil when nothing post-processes this release; apply
	// hands them to Helm's own post-render.
	PostRendered map[string][]byte
}

// upgrades reports whether applying upgrades the release rather than
// installing it: a release uninstalled with its history kept is installed
// again (helm install --replace).
func (d *Desired) upgrades() bool {
	return d.Previous != nil && d.Previous.Info != nil && d.Previous.Info.Status != rcommon.StatusUninstalled
}

// ReleaseInfo describes the target for post-processors.
func (t *Target) ReleaseInfo() postprocess.ReleaseInfo {
	info := postprocess.ReleaseInfo{Name: t.ReleaseName, Namespace: t.Namespace}
	if t.FluxMode() {
		key := types.NamespacedName{Namespace: t.HelmRelease.Namespace, Name: t.HelmRelease.Name}
		info.HelmRelease = &key
		info.PostRenderers = t.HelmRelease.Spec.PostRenderers
		info.CommonMetadata = t.HelmRelease.Spec.CommonMetadata
		info.PostRenderStrategy = t.HelmRelease.Spec.PostRenderStrategy
	}
	return info
}

// changesObjects reports whether post-processing could change anything for
// this release: a processor that is not postprocess.Selective always might.
func (p *Pipeline) changesObjects(rel postprocess.ReleaseInfo) bool {
	for _, pp := range p.PostProcessors {
		if s, ok := pp.(postprocess.Selective); ok && !s.AppliesTo(rel) {
			continue
		}
		return true
	}
	return false
}

// pipeline is Workspace.Pipeline, or the one .cozyhr.yaml declares, built
// once per run.
func (w *Workspace) pipeline() (*Pipeline, error) {
	if w.Pipeline == nil {
		p, err := buildPipeline(w.Config, w.Plugins)
		if err != nil {
			return nil, err
		}
		w.Pipeline = p
	}
	return w.Pipeline, nil
}

// Desired runs render and post-process: the first two stages of every command.
func (w *Workspace) Desired(ctx context.Context, opts RenderOptions, debug io.Writer) (*Desired, error) {
	pipeline, err := w.pipeline()
	if err != nil {
		return nil, err
	}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := LoadChart(w.Config.Dir)
	if err != nil {
		return nil, err
	}
	if typ := ch.Metadata.Type; typ != "" && typ != "application" {
		// As helm template and install say: a library chart renders
		// nothing of its own; render a chart that uses it.
		return nil, fmt.Errorf("chart %s: %s charts are not installable", ch.Name(), typ)
	}
	var hrValues map[string]any
	var secretPaths [][]string
	if rec := w.Recorded; rec != nil {
		hrValues, secretPaths = values.DeepCopy(rec.Values), rec.SecretValuePaths
		if err := flux.MergeChartValuesFiles(ch, w.Config.Dir, flux.ChartValuesFiles(t.HelmRelease)); err != nil {
			return nil, err
		}
	} else if t.FluxMode() && (!t.Offline || t.HelmReleaseFile != nil) {
		var cl client.Reader = t.HelmReleaseFile
		if !t.Offline {
			if cl, err = w.Cluster.Client(); err != nil {
				return nil, err
			}
		}
		if hrValues, secretPaths, err = flux.Values(ctx, cl, t.HelmRelease); err != nil {
			return nil, err
		}
		if err := flux.MergeChartValuesFiles(ch, w.Config.Dir, flux.ChartValuesFiles(t.HelmRelease)); err != nil {
			return nil, err
		}
	}
	vals, err := values.Compose(hrValues, w.Config.Dir, w.Config.ValuesFiles, w.Config.Values, opts.Values)
	if err != nil {
		return nil, err
	}
	d := &Desired{Target: t, Chart: ch, Values: vals, SecretValuePaths: secretPaths}

	req := RenderRequest{
		Chart: ch, ReleaseName: t.ReleaseName, Namespace: t.Namespace, Values: vals,
		SkipSchemaValidation: w.Config.Render.SkipSchemaValidation,
		Deterministic:        opts.Deterministic,
	}
	if w.Cluster != nil && (opts.KubeVersion != "" || len(opts.APIVersions) > 0) {
		return nil, errors.New("a Kubernetes version and API versions set .Capabilities only offline: a cluster's own are used")
	}
	if opts.Lookups == nil && w.Config.Render.Lookups != "" && w.Cluster == nil {
		file := w.Config.Render.Lookups
		if !filepath.IsAbs(file) {
			file = filepath.Join(w.Config.Dir, file)
		}
		if opts.Lookups, err = snapshot.ReadObjects(file); err != nil {
			return nil, fmt.Errorf("%s: render.lookups: %w", w.Config.Source(), err)
		}
	}
	answers := opts.Lookups.Fresh()
	switch {
	case w.Recorded != nil:
		req.Capabilities, req.Revision = w.Recorded.Capabilities, w.Recorded.Revision+1
		req.IsUpgrade = w.Recorded.Revision > 0
		answers = w.Recorded.Lookups.Fresh().Also(opts.Lookups)
		req.Lookup = answers.Func()
	case w.Cluster != nil:
		if req.Capabilities, err = w.Cluster.Capabilities(); err != nil {
			return nil, err
		}
		rc, err := w.Cluster.RESTConfig()
		if err != nil {
			return nil, err
		}
		req.Lookup = engine.NewLookupFunction(rc)
		cfg, err := w.helmConfig(t, debug)
		if err != nil {
			return nil, err
		}
		if d.Previous, err = kube.LastRelease(cfg, t.ReleaseName); err != nil {
			return nil, err
		}
		if d.Previous != nil {
			req.IsUpgrade, req.Revision = d.upgrades(), d.Previous.Version+1
		}
		// Say first what an interrupted run left, and how it is repaired.
		if p := d.Previous; p != nil && p.Info != nil && p.Info.Status.IsPending() {
			w.notice("release %s revision %d is %s, left by an interrupted run or one still running; cozyhr apply repairs it once no run holds the lock", t.ReleaseName, p.Version, p.Info.Status)
		}
		if t.FluxMode() && t.HelmRelease.Spec.Suspend {
			w.notice("HelmRelease %s is suspended: Flux leaves the release alone until cozyhr resume", t.HelmReleaseKey)
		}
	default:
		if req.Capabilities, err = kube.OfflineCapabilities(cmp.Or(opts.KubeVersion, w.Config.Render.KubeVersion), append(w.Config.Render.APIVersions, opts.APIVersions...)); err != nil {
			return nil, err
		}
		req.Lookup = answers.Func()
	}
	if r := opts.Recorder; r != nil && req.Lookup != nil {
		r.Next, req.Lookup = req.Lookup, r.Func()
	}

	rendered, err := pipeline.Renderer.Render(ctx, req)
	d.Unanswered = answers.Unanswered()
	if err != nil {
		if len(d.Unanswered) > 0 {
			// The usual cause: a template reads what lookup found.
			return nil, fmt.Errorf("%w\n(offline, nothing answered %s: each returned an empty map)", err, strings.Join(d.Unanswered, ", "))
		}
		return nil, err
	}
	if !w.Config.Render.CRDs() {
		rendered.CRDs = nil
	}
	if rel := t.ReleaseInfo(); pipeline.changesObjects(rel) {
		chain := postprocess.NewChain(ctx, pipeline.PostProcessors, rel)
		if rendered.Files, err = postprocess.Files(rendered.Files, rel.PostRenderStrategy, chain.Run); err != nil {
			return nil, err
		}
		d.Warnings = chain.TakeWarnings()
		d.PostRendered = chain.Answers()
	}
	if err := rendered.Sort(); err != nil {
		return nil, err
	}
	if !opts.TextOnly {
		if rendered.Manifests, err = manifest.ParseObjects(rendered.Manifests); err != nil {
			return nil, err
		}
		if rendered.Hooks, err = manifest.ParseObjects(rendered.Hooks); err != nil {
			return nil, err
		}
	}
	d.Rendered = rendered
	return d, nil
}
