package flux_test

import (
	"context"
	"os"
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
func TestEveryLiveInstance(t *testing.T) {
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

	// Apply to the fleet: one canary first, then the rest, each with its
	// own values, lock, suspension and status; then hand them all back.
	if err := os.Remove(filepath.Join(dir, "values.schema.json")); err != nil {
		t.Fatal(err)
	}
	refused := cozyhr(t, "-C", dir, "apply", "--instances")
	if refused.code != 1 || !strings.Contains(refused.err, "add --yes") {
		t.Errorf("apply --instances without --yes and no terminal: exit %d\n%s", refused.code, refused.err)
	}
	applied := cozyhr(t, "-C", dir, "apply", "--instances", "--canary", "1", "--yes").expect(t, 0)
	for _, in := range instances {
		if !strings.Contains(applied.out, in.ns+"/app") {
			t.Errorf("%s not in the summary:\n%s", in.ns, applied.out)
		}
	}
	if first, second := strings.Index(applied.err, "fleet-a/app: started"), strings.Index(applied.err, "fleet-b/app: started"); first < 0 || second < 0 || first > second {
		t.Errorf("the canary did not go first:\n%s", applied.err)
	}
	cozyhr(t, "-C", dir, "resume", "--instances", "--yes").expect(t, 0)
	for _, in := range instances {
		key := client.ObjectKey{Namespace: in.ns, Name: "app"}
		hr := requestReconcile(t, key)
		hr = waitReady(t, key, time.Minute)
		if hr.Spec.Suspend || hr.Status.History.Latest().Version != 2 {
			t.Errorf("%s after resume and reconcile: suspended %v, history %+v", in.ns, hr.Spec.Suspend, hr.Status.History)
		}
	}
	if again := cozyhr(t, "-C", dir, "diff", "--instances", "--exit-code"); again.code != 0 {
		t.Errorf("after apply --instances the fleet still differs:\n%s", again.out)
	}
}
