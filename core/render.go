package core

import (
	"context"
	"fmt"
	"path"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/releaseutil"
	"k8s.io/client-go/rest"
)

// RenderRequest is everything a renderer needs; it is plain data so that a
// plugin could serve it too.
type RenderRequest struct {
	Chart        *chart.Chart
	ReleaseName  string
	Namespace    string
	Values       map[string]any
	Capabilities *chartutil.Capabilities
	// LookupConfig lets templates call lookup against the cluster; nil
	// renders offline, where lookup returns nothing (as helm template).
	LookupConfig *rest.Config
	// Revision and IsUpgrade fill .Release as the next helm upgrade would.
	Revision             int
	IsUpgrade            bool
	SkipSchemaValidation bool
}

// Rendered is a chart's output, split as Helm splits it.
type Rendered struct {
	// CRDs come from the chart's crds/ directories; Helm installs them
	// before everything else and never post-renders them.
	CRDs []Object
	// Manifests are the release's resources, in Helm's install order. They
	// and Hooks may be unparsed (see ParseObjects).
	Manifests []Object
	// Hooks are resources with helm.sh/hook annotations.
	Hooks []Object
	Notes string
}

// Renderer turns a chart and values into manifests.
type Renderer interface {
	Render(ctx context.Context, req RenderRequest) (*Rendered, error)
}

// HelmRenderer renders with Helm's template engine, exactly as helm install
// and helm upgrade do.
type HelmRenderer struct{}

// LoadChart loads the chart in dir and checks its dependencies are vendored.
func LoadChart(dir string) (*chart.Chart, error) {
	ch, err := loader.Load(dir)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", dir, err)
	}
	if deps := ch.Metadata.Dependencies; len(deps) > 0 {
		if err := action.CheckDependencies(ch, deps); err != nil {
			return nil, fmt.Errorf("chart %s: %w (run helm dependency build, or cozyhr update)", dir, err)
		}
	}
	return ch, nil
}

// Render implements Renderer.
func (HelmRenderer) Render(_ context.Context, req RenderRequest) (*Rendered, error) {
	ch, caps := req.Chart, req.Capabilities
	if caps == nil {
		caps = chartutil.DefaultCapabilities
	}
	if ch.Metadata.KubeVersion != "" && !chartutil.IsCompatibleRange(ch.Metadata.KubeVersion, caps.KubeVersion.String()) {
		return nil, fmt.Errorf("chart %s requires kubeVersion %s, which is incompatible with Kubernetes %s (set --kube-version when offline)", ch.Name(), ch.Metadata.KubeVersion, caps.KubeVersion.String())
	}
	vals := req.Values
	if vals == nil {
		vals = map[string]any{}
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return nil, fmt.Errorf("chart %s dependencies: %w", ch.Name(), err)
	}
	revision := req.Revision
	if revision == 0 {
		revision = 1
	}
	opts := chartutil.ReleaseOptions{
		Name: req.ReleaseName, Namespace: req.Namespace, Revision: revision,
		IsInstall: !req.IsUpgrade, IsUpgrade: req.IsUpgrade,
	}
	top, err := chartutil.ToRenderValuesWithSchemaValidation(ch, vals, opts, caps, req.SkipSchemaValidation)
	if err != nil {
		return nil, fmt.Errorf("chart %s values: %w", ch.Name(), err)
	}

	var files map[string]string
	if req.LookupConfig != nil {
		files, err = engine.New(req.LookupConfig).Render(ch, top)
	} else {
		files, err = engine.Render(ch, top)
	}
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", ch.Name(), err)
	}

	out := &Rendered{}
	var notes []string
	for name, content := range files {
		if strings.HasSuffix(name, "NOTES.txt") {
			if name == path.Join(ch.Name(), "templates", "NOTES.txt") {
				notes = append(notes, content)
			}
			delete(files, name)
		}
	}
	out.Notes = strings.Join(notes, "\n")

	hooks, manifests, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", ch.Name(), err)
	}
	for _, crd := range ch.CRDObjects() {
		objs, err := ParseManifests(crd.File.Data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", crd.Filename, err)
		}
		for _, o := range objs {
			o.Source = crd.Filename
			out.CRDs = append(out.CRDs, o)
		}
	}
	// Manifests and hooks stay text until something needs them parsed
	// (ParseObjects); Helm has already decoded each document's head.
	for _, m := range manifests {
		o := Object{Source: m.Name, Raw: []byte(strings.TrimSpace(m.Content) + "\n")}
		if m.Head != nil {
			o.head = objectHead{apiVersion: m.Head.Version, kind: m.Head.Kind}
		}
		out.Manifests = append(out.Manifests, o)
	}
	for _, h := range hooks {
		out.Hooks = append(out.Hooks, Object{Source: h.Path, Raw: []byte(strings.TrimSpace(h.Manifest) + "\n"), head: objectHead{kind: h.Kind}})
	}
	return out, nil
}
