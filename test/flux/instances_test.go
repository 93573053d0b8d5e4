package flux_test

import (
	"context"
	"encoding/json"
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
	writeFile(t, filepath.Join(dir, "values.yaml"), "replicas: 1\n")
	writeFile(t, filepath.Join(dir, "values-big.yaml"), "replicas: 3\n")
	repo := newRepo(t)
	(&fluxChart{Dir: dir, repo: repo}).publish(t)
	// Cozystack's ArtifactGenerator serves the chart with values.yaml and
	// values-big.yaml merged, and names them in the HelmRelease's
	// annotation: a repository of its own serves that build.
	merged := filepath.Join(t.TempDir(), "fleet")
	if err := os.CopyFS(merged, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(merged, "values.yaml"), "replicas: 3\n")
	bigRepo := newRepo(t)
	(&fluxChart{Dir: merged, repo: bigRepo}).publish(t)
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
		{"fleet-e", func(hr *helmv2.HelmRelease) {
			hr.Annotations = map[string]string{"cozyhr.cozystack.io/values-files": "values.yaml,values-big.yaml"}
		}},
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
		if in.ns == "fleet-e" {
			c.repo = bigRepo
		}
		hr := c.helmRelease(t, func(hr *helmv2.HelmRelease) {
			if in.ns == "fleet-a" || in.ns == "fleet-b" {
				hr.Labels = map[string]string{"tier": "gold"}
			}
			if in.mutate != nil {
				in.mutate(hr)
			}
		})
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
	for _, want := range []string{"fleet-a/app", "fleet-b/app", "fleet-c/app", "fleet-c-target/fleet-c-target-app", "fleet-d/app", "fleet-e/app"} {
		if !strings.Contains(clean.out, want) {
			t.Errorf("the table lacks %q:\n%s", want, clean.out)
		}
	}

	// show --instances renders each with its own values.
	shown := cozyhr(t, "-C", dir, "show", "--instances").expect(t, 0)
	for _, want := range []string{"# HelmRelease fleet-b/app", `replicas: "2"`, "# HelmRelease fleet-e/app", `replicas: "3"`, "# HelmRelease fleet-c/app (release fleet-c-target/fleet-c-target-app)"} {
		if !strings.Contains(shown.out, want) {
			t.Errorf("show --instances lacks %q:\n%s", want, shown.out)
		}
	}

	// .cozyhr.yaml may choose the instances by label instead.
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\ninstances:\n  selector: tier=gold\n")
	gold := cozyhr(t, "-C", dir, "diff", "--instances").expect(t, 0)
	if !strings.Contains(gold.out, "fleet-a/app") || !strings.Contains(gold.out, "fleet-b/app") || strings.Contains(gold.out, "fleet-c") {
		t.Errorf("instances.selector tier=gold:\n%s", gold.out)
	}
	if err := os.Remove(filepath.Join(dir, ".cozyhr.yaml")); err != nil {
		t.Fatal(err)
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
		"4 instances, the same change: fleet-a/app, fleet-b/app, fleet-c/app, fleet-e/app",
		"greeting",
		"2 instances, the same change: fleet-a/app, fleet-c/app",
		"only fleet-b/app",
		"+ 4",
		"only fleet-e/app",
		"+ 6",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the fleet report lacks %q:\n%s", want, r.out)
		}
	}
	if !strings.Contains(r.out, "fleet-d/app") || !strings.Contains(r.out, "schema") {
		t.Errorf("the schema failure is not reported on its instance:\n%s", r.out)
	}
	js := cozyhr(t, "-C", dir, "diff", "--instances", "-o", "json")
	var report struct {
		Summary   struct{ Instances, Changed, Failed int }
		Instances []struct {
			Namespace, Error string
			Report           *struct{ Summary struct{ Change int } }
		}
	}
	if err := json.Unmarshal([]byte(js.out), &report); err != nil {
		t.Fatalf("-o json: %v\n%s", err, js.out)
	}
	if js.code != 1 || report.Summary.Instances != 5 || report.Summary.Changed != 4 || report.Summary.Failed != 1 ||
		report.Instances[3].Error == "" || report.Instances[4].Report.Summary.Change != 1 {
		t.Errorf("-o json: exit %d, %+v\n%s", js.code, report, js.out)
	}
	md := cozyhr(t, "-C", dir, "diff", "--instances", "-o", "markdown")
	for _, want := range []string{"| instance | added | changed | removed | flagged |", "| `fleet-e/app` | 0 | 1 | 0 |", "| `fleet-d/app` | | | | error:", "(only fleet-b/app)</code></summary>"} {
		if !strings.Contains(md.out, want) {
			t.Errorf("-o markdown lacks %q:\n%s", want, md.out)
		}
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
	// The RELEASE column names the release as helm-controller does: with
	// targetNamespace, in that namespace and prefixed by it.
	if !strings.Contains(applied.out, "fleet-c-target/fleet-c-target-app") {
		t.Errorf("fleet-c's release is not named as helm-controller names it:\n%s", applied.out)
	}
	if first, second := strings.Index(applied.err, "fleet-a/app: started"), strings.Index(applied.err, "fleet-b/app: started"); first < 0 || second < 0 || first > second {
		t.Errorf("the canary did not go first:\n%s", applied.err)
	}
	// Applied by cozyhr, they stay suspended: the fleet's diff says what
	// helm-controller will do, nothing, for each.
	held := cozyhr(t, "-C", dir, "diff", "--instances")
	line := ""
	for _, l := range strings.Split(held.out, "\n") {
		if strings.Contains(l, "► helm-controller: not reconciled: the HelmRelease is suspended") {
			line = l
		}
	}
	for _, in := range instances {
		if !strings.Contains(line, in.ns+"/app") {
			t.Errorf("%s's suspension is not said:\n%s", in.ns, held.out)
		}
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

	// A canary has to become ready: a Deployment never does here (no
	// kubelet, no controller-manager), so the canary fails and the rest
	// are not started.
	writeFile(t, filepath.Join(dir, "templates", "deploy.yaml"), `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`)
	stuck := cozyhr(t, "-C", dir, "apply", "--instances", "--canary", "1", "--yes", "--timeout", "10s")
	if stuck.code != 1 || !strings.Contains(stuck.out+stuck.err, "not started: a canary failed") {
		t.Errorf("a canary that never becomes ready: exit %d\n%s\n%s", stuck.code, stuck.out, stuck.err)
	}
	var hr helmv2.HelmRelease
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "fleet-b", Name: "app"}, &hr); err != nil {
		t.Fatal(err)
	}
	if hr.Status.History.Latest().Version != 2 {
		t.Errorf("fleet-b was applied after its canary failed: %+v", hr.Status.History)
	}
}

// An application chart that links a library chart through charts/ (the
// corpus's redis and cozy-lib), installed by helm-controller twice with
// values of each tenant's own: right after, no instance differs; a change
// of a default shows once for the instances that keep the default, and
// not on the one that sets its own.
func TestAppChartInstances(t *testing.T) {
	src := filepath.Join(sharedCharts, "..", "corpus", "packages", "apps", "redis")
	if _, err := os.Stat(filepath.Join(src, "Chart.yaml")); err != nil {
		t.Skip("no ../shared/corpus: the redis application chart is not here")
	}
	if err := env.AppChartPrerequisites(context.Background()); err != nil {
		t.Fatal(err)
	}
	dir := materialize(t, src)
	repo := newRepo(t)
	(&fluxChart{Dir: dir, repo: repo}).publish(t)
	tenants := map[string]string{"tenant-red": "", "tenant-blue": `{"size": "5Gi", "replicas": 3}`, "tenant-green": `{"replicas": 1}`}
	for ns, values := range tenants {
		createNamespace(t, ns)
		hr := (&fluxChart{Name: "redis", Namespace: ns, Dir: dir, repo: repo}).helmRelease(t, func(hr *helmv2.HelmRelease) {
			if values != "" {
				hr.Spec.Values = jsonValues(t, values)
			}
		})
		key := client.ObjectKeyFromObject(hr)
		t.Cleanup(func() { deleteAndWait(t, key) })
	}
	for ns := range tenants {
		if why := waitInstalled(client.ObjectKey{Namespace: ns, Name: "redis"}, 2*time.Minute); why != "" {
			t.Fatalf("%s/redis did not install: %s", ns, why)
		}
	}
	clean := cozyhr(t, "-C", dir, "diff", "--instances", "--exit-code")
	if clean.code != 0 {
		t.Fatalf("diff --instances right after install: exit %d\n%s\n%s", clean.code, clean.out, clean.err)
	}
	values, err := os.ReadFile(filepath.Join(dir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "values.yaml"), strings.Replace(string(values), "\nsize: 1Gi\n", "\nsize: 2Gi\n", 1))
	r := cozyhr(t, "-C", dir, "diff", "--instances", "--exit-code")
	if r.code != 2 || !strings.Contains(r.out, "2 instances, the same change: tenant-green/redis, tenant-red/redis") || strings.Contains(r.out, "change: tenant-blue") || !strings.Contains(r.out, "2Gi") {
		t.Errorf("a changed default: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
}
