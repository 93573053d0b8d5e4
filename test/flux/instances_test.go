package flux_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// helm-controller installs one chart four times, each instance with values
// of its own (inline, from a Secret, into a target namespace, and values the
// changed chart's schema will refuse); diff --instances then renders the
// working-tree chart for each with its real values and compares it with
// its live objects.
func TestDiffEveryLiveInstance(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "fleet")
	writeFile(t, filepath.Join(dir, "Chart.yaml"), "apiVersion: v2\nname: fleet\nversion: 0.1.0\n")
	writeFile(t, filepath.Join(dir, "templates", "cm.yaml"), `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  replicas: {{ .Values.replicas | default 1 | quote }}
  size: {{ .Values.size | default "small" | quote }}
`)
	repo := newRepo(t)
	(&fluxChart{Dir: dir, repo: repo}).publish(t)
	ctx := context.Background()
	instances := []struct {
		ns     string
		mutate func(*helmv2.HelmRelease)
	}{
		{"fleet-a", nil},
		{"fleet-b", func(hr *helmv2.HelmRelease) {
			hr.Spec.ValuesFrom = []helmv2.ValuesReference{{Kind: "Secret", Name: "fleet-values"}}
		}},
		{"fleet-c", func(hr *helmv2.HelmRelease) { hr.Spec.TargetNamespace = "fleet-c-target" }},
		{"fleet-d", func(hr *helmv2.HelmRelease) { hr.Spec.Values = jsonValues(t, `{"size": "big"}`) }},
	}
	createNamespace(t, "fleet-c-target")
	for _, in := range instances {
		createNamespace(t, in.ns)
		if in.ns == "fleet-b" {
			secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "fleet-values", Namespace: in.ns}, StringData: map[string]string{"values.yaml": "replicas: 2\n"}}
			if err := env.Client.Create(ctx, secret); err != nil {
				t.Fatal(err)
			}
		}
		c := &fluxChart{Name: "app", Namespace: in.ns, Dir: dir, repo: repo}
		hr := c.helmRelease(t, in.mutate)
		key := client.ObjectKeyFromObject(hr)
		t.Cleanup(func() { deleteAndWait(t, key) })
	}
	for _, in := range instances {
		waitReady(t, client.ObjectKey{Namespace: in.ns, Name: "app"}, 2*time.Minute)
	}

	// Right after Flux installed them, nothing to change on any.
	clean := cozyhr(t, "-C", dir, "diff", "--instances", "--exit-code")
	if clean.code != 0 {
		t.Fatalf("diff --instances after Flux installed: exit %d\n%s\n%s", clean.code, clean.out, clean.err)
	}
	for _, want := range []string{"fleet-a    app", "fleet-b    app", "fleet-c    app", "fleet-d    app"} {
		if !strings.Contains(clean.out, want) {
			t.Errorf("the table lacks %q:\n%s", want, clean.out)
		}
	}

	// A template change every instance gets alike, one that depends on a
	// value, and a schema the fourth instance's values fail.
	writeFile(t, filepath.Join(dir, "templates", "cm.yaml"), `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  replicas: {{ mul (.Values.replicas | default 1) 2 | quote }}
  size: {{ .Values.size | default "small" | quote }}
  greeting: hi
`)
	writeFile(t, filepath.Join(dir, "values.schema.json"), `{"type": "object", "properties": {"size": {"enum": ["small"]}}}`)
	r := cozyhr(t, "-C", dir, "diff", "--instances", "--exit-code")
	if r.code != 1 {
		t.Errorf("a failing instance: exit %d, want 1\n%s\n%s", r.code, r.out, r.err)
	}
	for _, want := range []string{
		"3 instances, the same change: fleet-a/app, fleet-b/app, fleet-c/app",
		"greeting",
		"2 instances, the same change: fleet-a/app, fleet-c/app",
		"only fleet-b/app",
		"+ 4",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the fleet report lacks %q:\n%s", want, r.out)
		}
	}
	if !strings.Contains(r.out, "fleet-d    app") || !strings.Contains(r.out, "schema") {
		t.Errorf("the schema failure is not reported on its instance:\n%s", r.out)
	}
}
