// Package flux_test runs cozyhr against the real helm-controller and
// source-controller: what cozyhr shows, diffs and applies is checked against
// what the controllers themselves do, not argued from their source.
package flux_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/repo/v1/repotest"
	"helm.sh/helm/v4/pkg/storage/driver"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/cmd"
	"github.com/cozyhr/cozyhr/test/testenv"
)

var (
	env  *testenv.Env
	flux *testenv.Flux
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "cozyhr-flux-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// Runs over many charts remember what each took in the user cache:
	// the tests keep theirs apart.
	os.Setenv("COZYHR_CACHE", filepath.Join(dir, "cache"))
	if env, err = testenv.Start(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer env.Stop()
	os.Setenv("KUBECACHEDIR", filepath.Join(dir, "cache"))
	if flux, err = env.StartFlux(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer flux.Stop()
	code := m.Run()
	if code != 0 {
		// The controllers' own words are the first thing to read when a
		// test here fails.
		for _, name := range []string{"helm-controller", "source-controller"} {
			fmt.Fprintf(os.Stderr, "==== %s log (tail) ====\n%s\n", name, lastLines(flux.Log(name), 60))
		}
	}
	return code
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// result is one run of the real root command.
type result struct {
	out, err string
	code     int
}

func cozyhr(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	full := append([]string{"--kubeconfig", env.Kubeconfig}, args...)
	err := cmd.Execute(context.Background(), full, cmd.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return result{out: out.String(), err: errOut.String(), code: cmd.ExitCode(err)}
}

func (r result) expect(t *testing.T, want int) result {
	t.Helper()
	if r.code != want {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, want, r.out, r.err)
	}
	return r
}

// fluxChart is a chart that Flux installs from a Helm repository on
// 127.0.0.1, and the chart directory cozyhr works in.
type fluxChart struct {
	Name, Namespace string
	// Dir is a copy of the chart with a .cozyhr.yaml naming the HelmRelease.
	Dir  string
	repo *repotest.Server
}

// newFluxChart copies src, serves it packaged from a new Helm repository,
// and writes .cozyhr.yaml for the HelmRelease name/namespace.
func newFluxChart(t *testing.T, src, name, namespace string) *fluxChart {
	t.Helper()
	dir := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: %s\n  namespace: %s\nhelmRelease:\n  name: %s\n", name, namespace, name)
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), cfg)
	c := &fluxChart{Name: name, Namespace: namespace, Dir: dir, repo: repotest.NewTempServer(t)}
	t.Cleanup(c.repo.Stop)
	c.publish(t)
	createNamespace(t, namespace)
	return c
}

// publish packages the chart directory into the repository.
func (c *fluxChart) publish(t *testing.T) {
	t.Helper()
	ch, err := loader.Load(c.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chartutil.Save(ch, c.repo.Root()); err != nil {
		t.Fatal(err)
	}
	if err := c.repo.CreateIndex(); err != nil {
		t.Fatal(err)
	}
}

// chartVersion is the version in the chart's Chart.yaml.
func (c *fluxChart) chartVersion(t *testing.T) string {
	t.Helper()
	md, err := chartutil.LoadChartfile(filepath.Join(c.Dir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return md.Version
}

// helmRelease is the HelmRelease for the chart: no waiting (no kubelet
// runs Pods here) and no hooks run unless asked (no Job ever completes).
func (c *fluxChart) helmRelease(t *testing.T, mutate func(*helmv2.HelmRelease)) *helmv2.HelmRelease {
	t.Helper()
	ctx := context.Background()
	repo := &sourcev1.HelmRepository{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: c.Namespace},
		Spec:       sourcev1.HelmRepositorySpec{URL: c.repo.URL(), Interval: metav1.Duration{Duration: time.Hour}},
	}
	if err := env.Client.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	hr := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: c.Namespace},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Hour},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
				Chart: chartName(t, c.Dir), Version: c.chartVersion(t),
				SourceRef: helmv2.CrossNamespaceObjectReference{Kind: sourcev1.HelmRepositoryKind, Name: c.Name},
				Interval:  &metav1.Duration{Duration: time.Hour},
			}},
			Install:   &helmv2.Install{DisableWait: true, DisableHooks: true},
			Upgrade:   &helmv2.Upgrade{DisableWait: true, DisableHooks: true},
			Uninstall: &helmv2.Uninstall{DisableHooks: true, DisableWait: true},
			Rollback:  &helmv2.Rollback{DisableHooks: true, DisableWait: true},
		},
	}
	if mutate != nil {
		mutate(hr)
	}
	if err := env.Client.Create(ctx, hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

// chartName reads the chart's name from Chart.yaml.
func chartName(t *testing.T, dir string) string {
	t.Helper()
	md, err := chartutil.LoadChartfile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return md.Name
}

// waitReady waits until helm-controller has reconciled the HelmRelease's
// current generation, and fails with its status when that is not Ready.
func waitReady(t *testing.T, key client.ObjectKey, timeout time.Duration) *helmv2.HelmRelease {
	t.Helper()
	hr := &helmv2.HelmRelease{}
	err := testenv.WaitFor(context.Background(), timeout, func(ctx context.Context) (bool, error) {
		if err := env.Client.Get(ctx, key, hr); err != nil {
			return false, err
		}
		ready := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition)
		if ready == nil || ready.ObservedGeneration != hr.Generation || hr.Status.ObservedGeneration != hr.Generation {
			return false, nil
		}
		if ready.Status == metav1.ConditionUnknown {
			return false, nil
		}
		if ready.Status == metav1.ConditionFalse && (apimeta.IsStatusConditionTrue(hr.Status.Conditions, meta.ReconcilingCondition)) {
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("HelmRelease %s not reconciled: %v\nstatus: %+v", key, err, hr.Status)
	}
	if !apimeta.IsStatusConditionTrue(hr.Status.Conditions, meta.ReadyCondition) {
		t.Fatalf("HelmRelease %s not Ready: %+v", key, hr.Status.Conditions)
	}
	return hr
}

// requestReconcile asks helm-controller to reconcile now, as flux
// reconcile does, and waits until it has handled the request.
func requestReconcile(t *testing.T, key client.ObjectKey) *helmv2.HelmRelease {
	t.Helper()
	ctx := context.Background()
	token := requestReconcileAsync(t, key)
	hr := &helmv2.HelmRelease{}
	err := testenv.WaitFor(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		if err := env.Client.Get(ctx, key, hr); err != nil {
			return false, err
		}
		return hr.Status.LastHandledReconcileAt == token, nil
	})
	if err != nil {
		t.Fatalf("helm-controller did not handle the reconcile request for %s: %v", key, err)
	}
	return hr
}

// storedRelease reads the newest revision of a release from Helm's storage.
func storedRelease(t *testing.T, namespace, name string) *release.Release {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	d := driver.NewSecrets(cs.CoreV1().Secrets(namespace))
	list, err := d.Query(map[string]string{"name": name, "owner": "helm"})
	if err != nil {
		t.Fatalf("release %s/%s: %v", namespace, name, err)
	}
	var newest *release.Release
	for _, r := range list {
		rel := r.(*release.Release)
		if newest == nil || rel.Version > newest.Version {
			newest = rel
		}
	}
	return newest
}

// document is one object of a manifest stream as Helm writes it.
type document struct{ Source, Text string }

var sourceLine = regexp.MustCompile(`(?m)^---\n# Source: (.*)\n`)

// splitDocuments splits "---\n# Source: X\n<text>\n" records.
func splitDocuments(stream string) []document {
	locs := sourceLine.FindAllStringSubmatchIndex(stream, -1)
	docs := make([]document, 0, len(locs))
	for i, loc := range locs {
		end := len(stream)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		docs = append(docs, document{Source: stream[loc[2]:loc[3]], Text: stream[loc[1]:end]})
	}
	return docs
}

func createNamespace(t *testing.T, name string) {
	t.Helper()
	err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// deleteAndWait deletes the HelmRelease and waits until helm-controller
// has uninstalled the release and let the object go.
func deleteAndWait(t *testing.T, key client.ObjectKey) {
	t.Helper()
	ctx := context.Background()
	if err := client.IgnoreNotFound(env.Client.Delete(ctx, &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: key.Name, Namespace: key.Namespace}})); err != nil {
		t.Fatal(err)
	}
	err := testenv.WaitFor(ctx, 2*time.Minute, func(ctx context.Context) (bool, error) {
		err := env.Client.Get(ctx, key, &helmv2.HelmRelease{})
		return client.IgnoreNotFound(err) == nil && err != nil, nil
	})
	if err != nil {
		t.Fatalf("HelmRelease %s not deleted: %v", key, err)
	}
}

// sharedCharts is where the real umbrella charts live beside the
// repository; the cases skip cleanly where they are absent.
var sharedCharts = filepath.Join("..", "..", "..", "shared", "charts")

// clusterPrerequisites creates what a real cluster would already have for
// the shared charts.
func clusterPrerequisites(t *testing.T) {
	t.Helper()
	if err := env.SharedChartPrerequisites(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// managers lists the field managers of a live object as "manager/operation".
func managers(t *testing.T, u *unstructured.Unstructured) []string {
	t.Helper()
	var out []string
	for _, m := range u.GetManagedFields() {
		out = append(out, m.Manager+"/"+string(m.Operation))
	}
	return out
}

// jsonValues is HelmRelease spec.values from JSON text.
func jsonValues(t *testing.T, s string) *apiextensionsv1.JSON {
	t.Helper()
	return &apiextensionsv1.JSON{Raw: []byte(s)}
}

// toString prints a value for comparison, as JSON where it can.
func toString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(data)
}

// setValues replaces the HelmRelease's spec.values with JSON text.
func setValues(t *testing.T, key client.ObjectKey, values string) {
	t.Helper()
	hr := &helmv2.HelmRelease{}
	if err := env.Client.Get(context.Background(), key, hr); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(hr.DeepCopy())
	hr.Spec.Values = jsonValues(t, values)
	if err := env.Client.Patch(context.Background(), hr, patch); err != nil {
		t.Fatal(err)
	}
}
