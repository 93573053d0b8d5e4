package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomize "github.com/fluxcd/pkg/apis/kustomize"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/values"
)

func TestDiffOutputFormats(t *testing.T) {
	dir := chartCopy(t, "diff-formats")
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	change := []string{"-C", dir, "diff", "--set", "replicas=2", "--set", "auth.password=changed", "--set", "widget.enabled=false"}

	r := cozyhr(t, append(change, "--brief")...).expect(t, 0)
	golden(t, "diff-brief", r.out)

	r = cozyhr(t, append(change, "-o", "json")...).expect(t, 0)
	golden(t, "diff-json", r.out)
	var rep output.JSONReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("-o json is not JSON: %v", err)
	}
	if rep.Summary.Change != 2 || rep.Summary.Remove != 1 {
		t.Errorf("json summary = %+v", rep.Summary)
	}

	r = cozyhr(t, append(change, "--unified", "-U", "1")...).expect(t, 0)
	golden(t, "diff-unified", r.out)

	r = cozyhr(t, append(change, "--kind", "Deployment")...).expect(t, 0)
	golden(t, "diff-kind-filter", r.out)

	r = cozyhr(t, "-C", dir, "diff", "-o", "xml").expect(t, 1)
	golden(t, "diff-bad-output", r.err)
}

func TestDiffIgnoreRules(t *testing.T) {
	dir := chartCopy(t, "diff-ignore")
	hr := createHelmRelease(t, "diff-ignore", "hello", `{}`)
	hr.Spec.DriftDetection = &helmv2.DriftDetection{Ignore: []helmv2.IgnoreRule{{
		Paths: []string{"/spec/replicas"}, Target: &kustomize.Selector{Kind: "Deployment"},
	}}}
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), `apiVersion: cozyhr.io/v1alpha1
kind: Chart
release:
  name: hello
  namespace: diff-ignore
diff:
  ignore:
    - paths: ["/data/index.html"]
      target:
        kind: ConfigMap
        name: hello-.*
`)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	args := []string{"-C", dir, "diff", "--set", "replicas=4", "--set", "message=ignored", "--set", "image.tag=1.28", "--set", "widget.size=large"}

	// replicas: HelmRelease rule; index.html: .cozyhr.yaml rule; image: flag.
	r := cozyhr(t, append(args, "--ignore", "Deployment/hello=/spec/template/spec/containers/0/image", "--show-ignored")...).expect(t, 0)
	golden(t, "diff-ignored", r.out)
}

func TestDiffServerSideMode(t *testing.T) {
	dir := chartCopy(t, "diff-ssa")
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	r := cozyhr(t, "-C", dir, "diff", "--server-side", "--exit-code").expect(t, 0)
	golden(t, "diff-server-side-clean", r.out)
	r = cozyhr(t, "-C", dir, "diff", "--server-side", "--set", "replicas=2").expect(t, 0)
	golden(t, "diff-server-side-change", r.out)
}

func TestDiffBeforeFirstInstallReportsKinds(t *testing.T) {
	dir := chartCopy(t, "diff-new")
	writeFile(t, filepath.Join(dir, "templates", "gadget.yaml"), "apiVersion: gadgets.example.io/v1\nkind: Gadget\nmetadata:\n  name: g\n")
	// CRDs are cluster-wide and shared by the tests; leave them out so the
	// counts do not depend on test order.
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: hello, namespace: diff-new}\nrender: {includeCRDs: false}\n")
	writeFile(t, filepath.Join(dir, "templates", "clusterrole.yaml"), "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: diff-new-reader\nrules: []\n")
	r := cozyhr(t, "-C", dir, "diff", "--brief", "--exit-code").expect(t, 2)
	golden(t, "diff-new-brief", r.out)
	r = cozyhr(t, "-C", dir, "diff", "-o", "json").expect(t, 0)
	for _, want := range []string{`"its kind is not served by the cluster (CRD missing?)"`, `"kind": "ClusterRole"`} {
		if !strings.Contains(r.out, want) {
			t.Errorf("diff -o json lacks %s:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, `"namespace": "diff-new",`+"\n"+`      "name": "diff-new-reader"`) {
		t.Errorf("cluster-scoped ClusterRole got a namespace")
	}
}

// countingTransport counts API requests.
type countingTransport struct {
	next  http.RoundTripper
	count *atomic.Int64
	paths *[]string
}

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.count.Add(1)
	*c.paths = append(*c.paths, r.Method+" "+r.URL.Path)
	return c.next.RoundTrip(r)
}

func TestDiffReadsEachKindWithOneList(t *testing.T) {
	const ns = "diff-requests"
	dir := chartCopy(t, ns)
	// 40 objects of 4 kinds on top of the example chart.
	for i := range 10 {
		writeFile(t, filepath.Join(dir, "templates", fmt.Sprintf("extra-%d.yaml", i)), fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: extra-%[1]d}
---
apiVersion: v1
kind: Service
metadata: {name: extra-%[1]d}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: extra-%[1]d}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: extra-%[1]d}
rules: []
`, i))
	}
	cozyhr(t, "-C", dir, "apply").expect(t, 0)

	var count atomic.Int64
	var paths []string
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &env.Kubeconfig
	flags.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return countingTransport{next: rt, count: &count, paths: &paths}
		})
		return c
	}
	cfg, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	w := &core.Workspace{Config: cfg, Cluster: kube.NewCluster(flags)}
	d, err := w.Desired(context.Background(), core.RenderOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	count.Store(0)
	paths = nil
	res, err := w.Diff(context.Background(), d, core.DiffOptions{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.HasChanges() {
		t.Fatalf("unexpected changes: %+v", res.Changes)
	}
	// Kinds: ConfigMap, Service, ServiceAccount, Role, Deployment, Secret,
	// Widget, CRD; single objects are one GET each, so the bound is the
	// number of kinds plus a small constant, not the number of objects (46).
	const kinds = 8
	if n := count.Load(); n > kinds+2 {
		t.Errorf("diff made %d API requests for %d kinds:\n%s", n, kinds, strings.Join(paths, "\n"))
	}
}

// TestDiffReadsALargeKindInPages: a kind of more objects than one LIST page
// holds is read page by page and compared as each page arrives; an object
// edited live on the last page and one deleted in the middle are found,
// and nothing else.
func TestDiffReadsALargeKindInPages(t *testing.T) {
	const ns = "diff-pages"
	dir := chartCopy(t, ns)
	writeFile(t, filepath.Join(dir, "templates", "many.yaml"), `{{- range $i := until 520 }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: "many-{{ $i }}"}
data: {i: "{{ $i }}"}
{{- end }}
`)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	ctx := context.Background()
	edited := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "many-510"}, edited); err != nil {
		t.Fatal(err)
	}
	edited.Data["i"] = "edited"
	if err := env.Client.Update(ctx, edited); err != nil {
		t.Fatal(err)
	}
	gone := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "many-300"}}
	if err := env.Client.Delete(ctx, gone); err != nil {
		t.Fatal(err)
	}
	r := cozyhr(t, "-C", dir, "diff", "-o", "json").expect(t, 0)
	var report struct {
		Changes []struct{ Action, Name string }
	}
	if err := json.Unmarshal([]byte(r.out), &report); err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	got := fmt.Sprint(report.Changes)
	if want := "[{add many-300} {change many-510}]"; got != want {
		t.Errorf("changes %s, want %s", got, want)
	}
}

// dryRunCounter counts the server-side apply dry-runs that pass through it.
type dryRunCounter struct {
	next  http.RoundTripper
	count *atomic.Int64
}

func (c dryRunCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodPatch && r.URL.Query().Get("dryRun") == "All" {
		c.count.Add(1)
	}
	return c.next.RoundTrip(r)
}

// TestServerSideDiffDryRunsOnlyWhatDiffers: in server-side mode an object
// the live one matches is not sent; one that differs is, and the server's
// answer decides (a default the chart leaves out is no change).
func TestServerSideDiffDryRunsOnlyWhatDiffers(t *testing.T) {
	const ns = "diff-ssa-count"
	dir := chartCopy(t, ns)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	var dryRuns atomic.Int64
	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &env.Kubeconfig
	flags.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c.Wrap(func(rt http.RoundTripper) http.RoundTripper { return dryRunCounter{next: rt, count: &dryRuns} })
		return c
	}
	diff := func(set ...string) *core.DiffResult {
		t.Helper()
		cfg, err := config.Load(config.LoadOptions{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		w := &core.Workspace{Config: cfg, Cluster: kube.NewCluster(flags)}
		d, err := w.Desired(context.Background(), core.RenderOptions{Values: values.Overrides{Values: set}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		dryRuns.Store(0)
		res, err := w.Diff(context.Background(), d, core.DiffOptions{ServerSide: true})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := diff(); res.HasChanges() || dryRuns.Load() != 0 {
		t.Errorf("nothing changed: %d changes, %d dry-runs; want none", len(res.Changes), dryRuns.Load())
	}
	res := diff("replicas=2")
	if len(res.Changes) != 1 || res.Changes[0].Ref.Kind != "Deployment" || dryRuns.Load() != 1 {
		t.Errorf("replicas=2: changes %+v after %d dry-runs; want the Deployment after one", res.Changes, dryRuns.Load())
	}
}
