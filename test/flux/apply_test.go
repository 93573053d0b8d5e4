package flux_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

var helloChart = filepath.Join("..", "..", "examples", "hello")

// installHello lets Flux install examples/hello as HelmRelease hello in ns.
func installHello(t *testing.T, ns string, mutate func(*helmv2.HelmRelease)) (*fluxChart, client.ObjectKey) {
	t.Helper()
	c := newFluxChart(t, helloChart, "hello", ns)
	hr := c.helmRelease(t, mutate)
	key := client.ObjectKeyFromObject(hr)
	t.Cleanup(func() { deleteAndWait(t, key) })
	waitReady(t, key, 2*time.Minute)
	return c, key
}

// changeTemplate adds a data key to hello's ConfigMap template: a change
// the HelmRelease knows nothing of.
func changeTemplate(t *testing.T, c *fluxChart) {
	t.Helper()
	path := filepath.Join(c.Dir, "templates", "configmap.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, string(data)+"  added-by: cozyhr\n")
}

// liveObject reads an object of the release.
func liveObject(t *testing.T, gvk schema.GroupVersionKind, ns, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(gvk)
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatal(err)
	}
	return u
}

var configMapGVK = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}

// helmControllerLines are helm-controller's log lines about one HelmRelease
// since offset.
func helmControllerLines(key client.ObjectKey, offset int) []string {
	log := flux.Log("helm-controller")
	if offset > len(log) {
		offset = len(log)
	}
	marker := `"HelmRelease":{"name":"` + key.Name + `","namespace":"` + key.Namespace + `"}`
	var out []string
	for _, line := range strings.Split(log[offset:], "\n") {
		if strings.Contains(line, marker) {
			out = append(out, line)
		}
	}
	return out
}

func countContaining(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// TestApplyKeepsTheApplyMethodHelmControllerChose: cozyhr apply writes a
// release with the method helm-controller installed it with, as field
// manager helm-controller, and helm-controller's next upgrade (after a
// values change in the HelmRelease) still uses that method.
func TestApplyKeepsTheApplyMethodHelmControllerChose(t *testing.T) {
	cases := []struct {
		name, ns, method, operation string
		mutate                      func(*helmv2.HelmRelease)
	}{
		{name: "server-side by default", ns: "method-ssa", method: "ssa", operation: "Apply"},
		{name: "client-side when the HelmRelease says so", ns: "method-csa", method: "csa", operation: "Update", mutate: func(hr *helmv2.HelmRelease) {
			off := false
			hr.Spec.Install.ServerSideApply = &off
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, key := installHello(t, tc.ns, tc.mutate)
			if got := storedRelease(t, tc.ns, "hello").ApplyMethod; got != tc.method {
				t.Fatalf("helm-controller installed with %q, want %q", got, tc.method)
			}
			changeTemplate(t, c)
			cozyhr(t, "-C", c.Dir, "apply").expect(t, 0)
			rel := storedRelease(t, tc.ns, "hello")
			if rel.Version != 2 || rel.ApplyMethod != tc.method {
				t.Fatalf("after cozyhr apply: revision %d with %q, want revision 2 with %q", rel.Version, rel.ApplyMethod, tc.method)
			}
			cm := liveObject(t, configMapGVK, tc.ns, "hello-content")
			if got := managers(t, cm); !contains(got, "helm-controller/"+tc.operation) || containsPrefix(got, "cozyhr/") {
				t.Errorf("ConfigMap field managers after cozyhr apply: %v, want helm-controller/%s and no cozyhr", got, tc.operation)
			}

			cozyhr(t, "-C", c.Dir, "resume", "--wait").expect(t, 0)
			// A values change makes helm-controller upgrade.
			setValues(t, key, `{"message": "changed in the HelmRelease"}`)
			waitReady(t, key, 2*time.Minute)
			rel = storedRelease(t, tc.ns, "hello")
			if rel.Version != 3 || rel.ApplyMethod != tc.method {
				t.Fatalf("helm-controller's upgrade after cozyhr apply: revision %d with %q, want revision 3 with %q", rel.Version, rel.ApplyMethod, tc.method)
			}
		})
	}
}

// TestTemplateChangeAppliedThenResumedIsKept: helm-controller finds the
// release cozyhr wrote in sync (same chart version and values) and keeps
// it: no upgrade, the revision stays.
func TestTemplateChangeAppliedThenResumedIsKept(t *testing.T) {
	c, key := installHello(t, "template-kept", nil)
	changeTemplate(t, c)
	cozyhr(t, "-C", c.Dir, "apply").expect(t, 0)
	offset := len(flux.Log("helm-controller"))
	cozyhr(t, "-C", c.Dir, "resume", "--wait").expect(t, 0)
	cozyhr(t, "-C", c.Dir, "reconcile").expect(t, 0)
	hr := waitReady(t, key, time.Minute)
	if rel := storedRelease(t, key.Namespace, "hello"); rel.Version != 2 {
		t.Errorf("revision %d after resume, want 2 (kept)", rel.Version)
	}
	lines := helmControllerLines(key, offset)
	if n := countContaining(lines, "running 'upgrade' action"); n != 0 {
		t.Errorf("helm-controller upgraded %d time(s) after resume:\n%s", n, strings.Join(lines, "\n"))
	}
	if countContaining(lines, "release in-sync with desired state") == 0 {
		t.Errorf("helm-controller did not find the release in sync:\n%s", strings.Join(lines, "\n"))
	}
	if c := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition); c == nil || c.Reason != helmv2.UpgradeSucceededReason {
		t.Errorf("Ready after resume: %+v, want UpgradeSucceeded (cozyhr's upgrade)", c)
	}
	cm := liveObject(t, configMapGVK, key.Namespace, "hello-content")
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "added-by"); v != "cozyhr" {
		t.Errorf("the applied template change is gone after resume: data.added-by = %q", v)
	}
}

// TestValuesTheHelmReleaseLacksAreUpgradedAway: a value applied with --set
// that the HelmRelease does not have makes helm-controller upgrade (not
// reinstall) back to the HelmRelease's values once resumed.
func TestValuesTheHelmReleaseLacksAreUpgradedAway(t *testing.T) {
	c, key := installHello(t, "values-upgraded", nil)
	cozyhr(t, "-C", c.Dir, "apply", "--set", "message=only in cozyhr").expect(t, 0)
	offset := len(flux.Log("helm-controller"))
	cozyhr(t, "-C", c.Dir, "resume", "--wait").expect(t, 0)
	waitReady(t, key, time.Minute)
	rel := storedRelease(t, key.Namespace, "hello")
	if rel.Version != 3 {
		t.Errorf("revision %d after resume, want 3 (helm-controller upgraded)", rel.Version)
	}
	lines := helmControllerLines(key, offset)
	if countContaining(lines, "running 'upgrade' action") != 1 || countContaining(lines, "running 'install' action") != 0 {
		t.Errorf("want exactly one upgrade and no install by helm-controller:\n%s", strings.Join(lines, "\n"))
	}
	cm := liveObject(t, configMapGVK, key.Namespace, "hello-content")
	if v, _, _ := unstructured.NestedString(cm.Object, "data", "index.html"); strings.Contains(v, "only in cozyhr") {
		t.Errorf("helm-controller kept the value only cozyhr had: %q", v)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func containsPrefix(list []string, prefix string) bool {
	for _, v := range list {
		if strings.HasPrefix(v, prefix) {
			return true
		}
	}
	return false
}
