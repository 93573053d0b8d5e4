package flux_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/kustomize"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/postprocess"
)

const releaseFile = `apiVersion: v1
kind: ConfigMap
metadata:
  name: app-values
data:
  values.yaml: |
    replicas: 2
---
apiVersion: v1
kind: Secret
metadata:
  name: app-secret
stringData:
  values.yaml: |
    password: from-the-file
---
- a list is no object
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: app
  namespace: tenant
spec:
  interval: 1h
  chart:
    spec:
      chart: app
      sourceRef: {kind: HelmRepository, name: charts}
  valuesFrom:
  - kind: ConfigMap
    name: app-values
  - kind: Secret
    name: app-secret
  values:
    extra: true
`

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "helmrelease.yaml")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A HelmRelease kept in the repository is rendered offline with the
// ConfigMaps and Secrets beside it standing for the cluster's.
func TestAHelmReleaseFileComposesItsValuesOffline(t *testing.T) {
	path := writeFile(t, releaseFile)
	hr, objs, err := flux.ReadFile(path, types.NamespacedName{Name: "app"})
	if err != nil {
		t.Fatal(err)
	}
	if hr.Namespace != "tenant" || hr.Spec.Chart.Spec.Chart != "app" {
		t.Errorf("HelmRelease %s/%s", hr.Namespace, hr.Name)
	}
	vals, secretPaths, err := flux.Values(context.Background(), objs, hr)
	if err != nil {
		t.Fatal(err)
	}
	if vals["replicas"] != float64(2) && vals["replicas"] != 2 || vals["password"] != "from-the-file" || vals["extra"] != true {
		t.Errorf("values %v", vals)
	}
	if len(secretPaths) != 1 || secretPaths[0][0] != "password" {
		t.Errorf("secret paths %v", secretPaths)
	}
	// Objects beside it are in its namespace; other kinds are not found.
	var cm corev1.ConfigMap
	if err := objs.Get(context.Background(), client.ObjectKey{Namespace: "tenant", Name: "app-values"}, &cm); err != nil {
		t.Errorf("the ConfigMap in the HelmRelease's namespace: %v", err)
	}
	if err := objs.Get(context.Background(), client.ObjectKey{Namespace: "other", Name: "app-values"}, &cm); err == nil {
		t.Error("found in another namespace")
	}
	if err := objs.List(context.Background(), &corev1.ConfigMapList{}); err == nil {
		t.Error("a file was listed")
	}
}

func TestAHelmReleaseFileThatDoesNotHoldItSaysWhatItHolds(t *testing.T) {
	two := releaseFile + "---\napiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: other\n  namespace: tenant\nspec:\n  interval: 1h\n"
	path := writeFile(t, two)
	_, _, err := flux.ReadFile(path, types.NamespacedName{Name: "missing"})
	if err == nil || !strings.Contains(err.Error(), "no HelmRelease missing in it") || !strings.Contains(err.Error(), "tenant/other") || !strings.Contains(err.Error(), "set helmRelease.name") {
		t.Errorf("a name the file lacks: %v", err)
	}
	if hr, _, err := flux.ReadFile(path, types.NamespacedName{Name: "other"}); err != nil || hr.Name != "other" {
		t.Errorf("the second HelmRelease: %v, %v", hr, err)
	}
	none := writeFile(t, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n")
	if _, _, err := flux.ReadFile(none, types.NamespacedName{Namespace: "ns", Name: "app"}); err == nil || !strings.Contains(err.Error(), "no HelmRelease in it") {
		t.Errorf("a file without a HelmRelease: %v", err)
	}
	broken := writeFile(t, "apiVersion: v1\nkind: Secret\nmetadata: [\n")
	if _, _, err := flux.ReadFile(broken, types.NamespacedName{Name: "app"}); err == nil || !strings.Contains(err.Error(), "document 1") {
		t.Errorf("a broken document: %v", err)
	}
	if _, _, err := flux.ReadFile(filepath.Join(t.TempDir(), "absent.yaml"), types.NamespacedName{Name: "app"}); err == nil {
		t.Error("a missing file was read")
	}
}

// Flux's post-render: the HelmRelease's kustomize post-renderers, its
// commonMetadata, then the origin labels helm-controller sets.
func TestThePostRendererDoesWhatHelmControllerDoes(t *testing.T) {
	objs, err := manifest.ParseManifests([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    own: label\ndata:\n  a: \"1\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	pr := flux.PostRenderer{}
	plain := postprocess.ReleaseInfo{Name: "app", Namespace: "apps"}
	if pr.AppliesTo(plain) || pr.Name() != "flux-post-render" {
		t.Error("Flux's post-render applies in plain Helm mode")
	}
	same, err := pr.PostProcess(context.Background(), plain, objs)
	if err != nil || len(same.Objects) != 1 || same.Objects[0].GetLabels()["helm.toolkit.fluxcd.io/name"] != "" {
		t.Errorf("plain mode changed the objects: %v", err)
	}
	rel := postprocess.ReleaseInfo{Name: "app", Namespace: "apps", HelmRelease: &types.NamespacedName{Namespace: "tenant", Name: "app-hr"},
		CommonMetadata: &helmv2.CommonMetadata{Labels: map[string]string{"team": "platform"}, Annotations: map[string]string{"owner": "me"}},
		PostRenderers: []helmv2.PostRenderer{{Kustomize: &helmv2.Kustomize{Patches: []kustomize.Patch{{
			Target: &kustomize.Selector{Kind: "ConfigMap"}, Patch: "- op: add\n  path: /data/b\n  value: \"2\"\n"}}}}},
	}
	res, err := pr.PostProcess(context.Background(), rel, objs)
	if err != nil {
		t.Fatal(err)
	}
	got := res.Objects[0]
	labels := got.GetLabels()
	if labels["helm.toolkit.fluxcd.io/name"] != "app-hr" || labels["helm.toolkit.fluxcd.io/namespace"] != "tenant" || labels["team"] != "platform" || labels["own"] != "label" {
		t.Errorf("labels %v", labels)
	}
	if got.GetAnnotations()["owner"] != "me" {
		t.Errorf("annotations %v", got.GetAnnotations())
	}
	if data := got.Object["data"].(map[string]any); data["b"] != "2" || data["a"] != "1" {
		t.Errorf("the post-renderer's patch: %v", data)
	}
	rel.PostRenderers[0].Kustomize.Patches[0].Patch = "not: [a patch"
	if _, err := pr.PostProcess(context.Background(), rel, objs); err == nil || !strings.Contains(err.Error(), "spec.postRenderers[0].kustomize") {
		t.Errorf("a broken patch: %v", err)
	}
}

func TestGetSuspendAndListAgainstTheAPIServer(t *testing.T) {
	ns := namespace(t, "flux-lifecycle")
	ctx := context.Background()
	if hr, err := flux.Get(ctx, env.Client, types.NamespacedName{Namespace: ns, Name: "absent"}); hr != nil || err != nil {
		t.Errorf("an absent HelmRelease is plain Helm mode: %v, %v", hr, err)
	}
	for _, name := range []string{"b", "a"} {
		hr := helmRelease(ns, name, "")
		hr.Labels = map[string]string{"tier": name}
		if err := env.Client.Create(ctx, hr); err != nil {
			t.Fatal(err)
		}
	}
	hr, err := flux.Get(ctx, env.Client, types.NamespacedName{Namespace: ns, Name: "a"})
	if err != nil || hr == nil {
		t.Fatalf("get: %v, %v", hr, err)
	}
	if err := flux.SetSuspend(ctx, env.Client, hr, true); err != nil {
		t.Fatal(err)
	}
	got, _ := flux.Get(ctx, env.Client, types.NamespacedName{Namespace: ns, Name: "a"})
	if !got.Spec.Suspend {
		t.Error("not suspended")
	}
	if err := flux.SetSuspend(ctx, env.Client, got, false); err != nil {
		t.Fatal(err)
	}
	if got, _ = flux.Get(ctx, env.Client, types.NamespacedName{Namespace: ns, Name: "a"}); got.Spec.Suspend {
		t.Error("not resumed")
	}
	all, err := flux.List(ctx, env.Client, ns, "")
	if err != nil || len(all) != 2 || all[0].Name != "a" || all[1].Name != "b" {
		t.Errorf("list, sorted: %v, %v", all, err)
	}
	if names, err := flux.Names(ctx, env.Client, ns); err != nil || strings.Join(names, " ") != "a b" {
		t.Errorf("names: %v, %v", names, err)
	}
	tiered, err := flux.List(ctx, env.Client, ns, "tier=b")
	if err != nil || len(tiered) != 1 || tiered[0].Name != "b" {
		t.Errorf("list by label: %v, %v", tiered, err)
	}
	if _, err := flux.List(ctx, env.Client, ns, "tier in (b"); err == nil {
		t.Error("a broken selector was accepted")
	}
}
