package postprocess_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/postprocess"
)

const rendered = `# Source: app/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.27
---
# Source: app/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  a: "1"
`

func objects(t *testing.T, text string) []manifest.Object {
	t.Helper()
	objs, err := manifest.ParseManifests([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

// kustomizeFrom makes the built-in kustomize post-processor from a
// .cozyhr.yaml plugins entry's config.
func kustomizeFrom(t *testing.T, cfg map[string]any) postprocess.PostProcessor {
	t.Helper()
	pp, err := postprocess.For(&config.Chart{Dir: t.TempDir()}, config.Plugin{Name: postprocess.BuiltinKustomize, Config: cfg}, "plugins.postProcessors[0]", nil)
	if err != nil {
		t.Fatal(err)
	}
	return pp
}

func byKind(objs []manifest.Object, kind string) manifest.Object {
	for _, o := range objs {
		if o.GetKind() == kind {
			return o
		}
	}
	return manifest.Object{}
}

func TestTheKustomizeBuiltinPatchesAndSetsImagesAsAHelmReleaseWould(t *testing.T) {
	pp := kustomizeFrom(t, map[string]any{
		"patches": []any{map[string]any{
			"target": map[string]any{"kind": "Deployment"},
			"patch":  "- op: replace\n  path: /spec/replicas\n  value: 3\n",
		}},
		"images": []any{map[string]any{"name": "nginx", "newTag": "1.28"}},
	})
	if pp.Name() != "kustomize" {
		t.Errorf("name %q", pp.Name())
	}
	res, err := pp.PostProcess(context.Background(), postprocess.ReleaseInfo{Name: "app", Namespace: "apps"}, objects(t, rendered))
	if err != nil {
		t.Fatal(err)
	}
	d := byKind(res.Objects, "Deployment")
	if d.Unstructured == nil {
		t.Fatalf("no Deployment in %d objects", len(res.Objects))
	}
	replicas, _, _ := unstructuredInt(d.Object, "spec", "replicas")
	containers, _ := d.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)
	if replicas != 3 || containers[0].(map[string]any)["image"] != "nginx:1.28" {
		t.Errorf("replicas %d, containers %v", replicas, containers)
	}
	if cm := byKind(res.Objects, "ConfigMap"); cm.Unstructured == nil || cm.GetName() != "settings" {
		t.Error("the ConfigMap the patch does not target was lost")
	}
}

func unstructuredInt(obj map[string]any, path ...string) (int64, bool, error) {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return 0, false, nil
		}
		cur = m[p]
	}
	switch v := cur.(type) {
	case int64:
		return v, true, nil
	case float64:
		return int64(v), true, nil
	case int:
		return int64(v), true, nil
	}
	return 0, false, nil
}

func TestAPostProcessorEntryIsCheckedWhereItIsWritten(t *testing.T) {
	chart := &config.Chart{Dir: t.TempDir()}
	_, err := postprocess.For(chart, config.Plugin{Name: "kustomize", Config: map[string]any{"patchez": []any{}}}, "plugins.postProcessors[2]", nil)
	if err == nil || !strings.Contains(err.Error(), "plugins.postProcessors[2]") || !strings.Contains(err.Error(), "spec.postRenderers[].kustomize") {
		t.Errorf("a mistyped kustomize field: %v", err)
	}
	_, err = postprocess.For(chart, config.Plugin{Name: "my-plugin"}, "plugins.postProcessors[0]", nil)
	if err == nil || !strings.Contains(err.Error(), "plugins are not available here") {
		t.Errorf("a plugin with no host: %v", err)
	}
	_, err = postprocess.For(chart, config.Plugin{Name: "my-plugin", Timeout: "soon"}, "plugins.postProcessors[1]", nil)
	if err == nil || !strings.Contains(err.Error(), "plugins.postProcessors[1]") {
		t.Errorf("a bad timeout: %v", err)
	}
}

// fake post-processors for the chain: they count their calls and mark
// what they saw.
type marker struct {
	name  string
	calls *atomic.Int32
	warn  string
	err   error
}

func (m marker) Name() string { return m.name }

func (m marker) PostProcess(_ context.Context, rel postprocess.ReleaseInfo, objs []manifest.Object) (postprocess.Result, error) {
	m.calls.Add(1)
	if m.err != nil {
		return postprocess.Result{}, m.err
	}
	for i := range objs {
		labels := objs[i].GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[m.name] = rel.Name
		objs[i].SetLabels(labels)
		objs[i].Touch() // changed: printed from the object, not as rendered
	}
	res := postprocess.Result{Objects: objs}
	if m.warn != "" {
		res.Warnings = []string{m.warn}
	}
	return res, nil
}

func TestRunChainsThePostProcessorsInOrder(t *testing.T) {
	var calls atomic.Int32
	pps := []postprocess.PostProcessor{marker{name: "first", calls: &calls, warn: "careful"}, marker{name: "second", calls: &calls}}
	out, warnings, err := postprocess.Run(context.Background(), pps, postprocess.ReleaseInfo{Name: "rel"}, objects(t, rendered))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range out {
		if o.GetLabels()["first"] != "rel" || o.GetLabels()["second"] != "rel" {
			t.Errorf("%s labels %v", o.GetName(), o.GetLabels())
		}
	}
	if len(warnings) != 1 || warnings[0] != "first: careful" {
		t.Errorf("warnings %q, want each named by its post-processor", warnings)
	}
	boom := errors.New("boom")
	_, _, err = postprocess.Run(context.Background(), []postprocess.PostProcessor{marker{name: "broken", calls: &calls, err: boom}}, postprocess.ReleaseInfo{}, nil)
	if !errors.Is(err, boom) || !strings.HasPrefix(err.Error(), "post-process broken: ") {
		t.Errorf("a failing post-processor: %v", err)
	}
}

// The chain answers Helm's post-render; the answers seed a later chain
// so that apply post-renders exactly what diff compared, without running
// the post-processors again.
func TestTheChainRemembersItsAnswers(t *testing.T) {
	var calls atomic.Int32
	chain := postprocess.NewChain(context.Background(), []postprocess.PostProcessor{marker{name: "p", calls: &calls, warn: "w"}}, postprocess.ReleaseInfo{Name: "rel"})
	first, err := chain.Run(bytes.NewBufferString(rendered))
	if err != nil {
		t.Fatal(err)
	}
	again, err := chain.Run(bytes.NewBufferString(rendered))
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 1 || first.String() != again.String() || !strings.Contains(first.String(), "p: rel") {
		t.Errorf("calls %d; answers equal %v:\n%s", calls.Load(), first.String() == again.String(), first.String())
	}
	if w := chain.TakeWarnings(); len(w) != 1 || len(chain.TakeWarnings()) != 0 {
		t.Errorf("warnings are taken once: %v", w)
	}
	later := postprocess.NewChain(context.Background(), []postprocess.PostProcessor{marker{name: "p", calls: &calls}}, postprocess.ReleaseInfo{Name: "rel"})
	later.Seed(chain.Answers())
	seeded, err := later.Run(bytes.NewBufferString(rendered))
	if err != nil || seeded.String() != first.String() || calls.Load() != 1 {
		t.Errorf("a seeded chain ran its post-processors again (%d calls) or answered otherwise: %v", calls.Load(), err)
	}
	if _, err := later.Run(bytes.NewBufferString("a: [\n")); err == nil {
		t.Error("a stream that is not YAML was post-processed")
	}
}

// Files hands templates to the chain as Helm 4 does for each
// postRenderStrategy: everything at once, hooks and resources apart, or
// resources alone.
func TestFilesFollowThePostRenderStrategy(t *testing.T) {
	files := map[string]string{
		"app/templates/cm.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
		"app/templates/hook.yaml":     "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install\n",
		"app/templates/_helpers.tpl":  "{{ define \"x\" }}{{ end }}",
		"app/templates/empty.yaml":    "\n",
		"app/templates/two-docs.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n",
	}
	for _, c := range []struct {
		strategy helmv2.PostRenderStrategy
		runs     int
		hooked   bool
	}{
		{"", 1, true},
		{helmv2.PostRenderStrategyCombined, 1, true},
		{helmv2.PostRenderStrategySeparate, 2, true},
		{helmv2.PostRenderStrategyNoHooks, 1, false},
	} {
		t.Run(string(c.strategy), func(t *testing.T) {
			runs, sawHook := 0, false
			out, err := postprocess.Files(files, c.strategy, func(in *bytes.Buffer) (*bytes.Buffer, error) {
				runs++
				sawHook = sawHook || strings.Contains(in.String(), "name: migrate")
				if !strings.Contains(in.String(), "postrenderer.helm.sh/postrender-filename") {
					t.Error("documents go in without the path they came from")
				}
				return in, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if runs != c.runs || sawHook != c.hooked {
				t.Errorf("%d runs, hooks post-rendered %v; want %d, %v", runs, sawHook, c.runs, c.hooked)
			}
			if !strings.Contains(out["app/templates/two-docs.yaml"], "name: b") || !strings.Contains(out["app/templates/hook.yaml"], "migrate") {
				t.Errorf("the documents are not back under their files: %v", out)
			}
			for name, content := range out {
				if strings.Contains(content, "postrenderer.helm.sh/postrender-filename") {
					t.Errorf("%s keeps the path annotation", name)
				}
			}
		})
	}
	if _, err := postprocess.Files(files, "sometimes", nil); err == nil || !strings.Contains(err.Error(), "combined, separate or nohooks") {
		t.Errorf("an unknown strategy: %v", err)
	}
}
