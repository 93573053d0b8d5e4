package cmd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// packageMk is Cozystack's hack/package.mk as its charts include it: every
// target passes the HelmRelease NAME and its NAMESPACE, and there is no
// .cozyhr.yaml.
const packageMk = `show:
	cozyhr show -n $(NAMESPACE) $(NAME)
apply: suspend
	cozyhr apply -n $(NAMESPACE) $(NAME)
diff:
	cozyhr diff -n $(NAMESPACE) $(NAME)
suspend:
	cozyhr suspend -n $(NAMESPACE) $(NAME)
resume:
	cozyhr resume -n $(NAMESPACE) $(NAME)
delete: suspend
	cozyhr delete -n $(NAMESPACE) $(NAME)
`

// cozystackChart lays out packages/system/hello as Cozystack does: the
// chart named cozy-hello, values files the ArtifactGenerator merges, and a
// Makefile that includes hack/package.mk.
func cozystackChart(t *testing.T, root string) string {
	t.Helper()
	dir := chartCopy(t, "unused")
	if err := os.Remove(filepath.Join(dir, ".cozyhr.yaml")); err != nil {
		t.Fatal(err)
	}
	chartDir := filepath.Join(root, "packages", "system", "hello")
	if err := os.MkdirAll(filepath.Dir(chartDir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(dir, chartDir); err != nil {
		t.Fatal(err)
	}
	chartYAML := readFile(t, filepath.Join(chartDir, "Chart.yaml"))
	writeFile(t, filepath.Join(chartDir, "Chart.yaml"), strings.Replace(chartYAML, "name: hello", "name: cozy-hello", 1))
	writeFile(t, filepath.Join(chartDir, "values-base.yaml"), "replicas: 2\nimage:\n  repository: nginx\n  tag: \"1.27\"\nmessage: from values-base\nauth:\n  password: base\nwidget:\n  enabled: true\n  size: small\n")
	writeFile(t, filepath.Join(chartDir, "values-cozystack.yaml"), "message: from values-cozystack\nwidget:\n  size: large\n")
	if err := os.MkdirAll(filepath.Join(root, "hack"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "hack", "package.mk"), packageMk)
	writeFile(t, filepath.Join(chartDir, "Makefile"), "NAME=hello\nNAMESPACE=cozy-hello\n\ninclude ../../../hack/package.mk\n")
	return chartDir
}

// The HelmRelease Cozystack's platform creates: chartRef to an
// ExternalArtifact, and the values files the generator merged.
func cozystackHelmRelease(t *testing.T, ns string) *helmv2.HelmRelease {
	t.Helper()
	if err := env.CreateNamespace(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	hr := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: ns, Annotations: map[string]string{
			"cozyhr.cozystack.io/values-files": "values-base.yaml, values-cozystack.yaml",
		}},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: 3600e9},
			ChartRef: &helmv2.CrossNamespaceSourceReference{Kind: "ExternalArtifact", Name: "cozy-hello", Namespace: "cozy-system"},
			Values:   &apiextensionsv1.JSON{Raw: []byte(`{"replicas": 3}`)},
		},
	}
	if err := env.Client.Create(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

// make runs a package.mk target with the freshly built cozyhr on PATH.
func runMake(t *testing.T, bin, dir, target string) string {
	t.Helper()
	cmd := exec.Command("make", "-s", target)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"), "KUBECONFIG="+env.Kubeconfig)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make %s: %v\n%s", target, err, out)
	}
	return string(out)
}

// TestCozystackPackageMkRunsUnchanged drives a Cozystack chart's Makefile
// through its package.mk, as the platform's developers do.
func TestCozystackPackageMkRunsUnchanged(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	root := t.TempDir()
	dir := cozystackChart(t, root)
	bin := cozyhrBinary(t)
	hr := cozystackHelmRelease(t, "cozy-hello")

	shown := runMake(t, bin, dir, "show")
	for _, want := range []string{"replicas: 3", "<h1>from values-cozystack</h1>", "size: large", "helm.toolkit.fluxcd.io/name: hello"} {
		if !strings.Contains(shown, want) {
			t.Errorf("make show lacks %q:\n%s", want, shown)
		}
	}
	// The render equals the chart with the two files merged into
	// values.yaml by hand and no annotation.
	byHand := filepath.Join(root, "packages", "system", "hello-by-hand")
	if err := os.CopyFS(byHand, os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(byHand, "values.yaml"), "replicas: 2\nimage:\n  repository: nginx\n  tag: \"1.27\"\nmessage: from values-cozystack\nauth:\n  password: base\nwidget:\n  enabled: true\n  size: large\n")
	patch := client.MergeFrom(hr.DeepCopy())
	hr.Annotations = nil
	if err := env.Client.Patch(context.Background(), hr, patch); err != nil {
		t.Fatal(err)
	}
	if manual := runMake(t, bin, byHand, "show"); manual != shown {
		t.Errorf("the render with the values-files annotation differs from the one with the files merged by hand:\n--- annotation\n%s\n--- by hand\n%s", shown, manual)
	}
	patch = client.MergeFrom(hr.DeepCopy())
	hr.Annotations = map[string]string{"cozypkg.cozystack.io/values-files": "values-base.yaml,values-cozystack.yaml"}
	if err := env.Client.Patch(context.Background(), hr, patch); err != nil {
		t.Fatal(err)
	}
	if legacy := runMake(t, bin, dir, "show"); legacy != shown {
		t.Errorf("the older cozypkg.cozystack.io/values-files annotation renders differently:\n%s", legacy)
	}

	if out := runMake(t, bin, dir, "diff"); !strings.Contains(out, "to add") {
		t.Errorf("make diff before apply does not plan additions:\n%s", out)
	}
	runMake(t, bin, dir, "apply")
	if out := runMake(t, bin, dir, "diff"); !strings.Contains(out, "No changes") {
		t.Errorf("make diff after make apply is not clean:\n%s", out)
	}
	// The release is the HelmRelease's, not the chart's name.
	cozyhr(t, "-n", "cozy-hello", "get", "hello").expect(t, 0)
	if r := cozyhr(t, "-C", dir, "-n", "cozy-hello", "values", "hello").expect(t, 0); !strings.Contains(r.out, "replicas: 3") {
		t.Errorf("values NAME: %s", r.out)
	}
	runMake(t, bin, dir, "resume")
	runMake(t, bin, dir, "suspend")
	got := &helmv2.HelmRelease{}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hr), got); err != nil || !got.Spec.Suspend {
		t.Fatalf("make suspend: suspended=%v, %v", got.Spec.Suspend, err)
	}
	if list := cozyhr(t, "list", "-n", "cozy-hello").expect(t, 0); !strings.Contains(list.out, "hello") {
		t.Errorf("list does not show the ExternalArtifact-backed HelmRelease:\n%s", list.out)
	}
	runMake(t, bin, dir, "delete")
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hr), &helmv2.HelmRelease{}); !apierrors.IsNotFound(err) {
		t.Errorf("make delete left the HelmRelease: %v", err)
	}
}

// The invocations Cozystack's platform code makes of cozyhr v1.6.
func TestCozyhrV16Invocations(t *testing.T) {
	root := t.TempDir()
	dir := cozystackChart(t, root)
	ctx := context.Background()
	if err := env.CreateNamespace(ctx, "cozy-system"); err != nil {
		t.Fatal(err)
	}
	// cozyhr -n cozy-system -C packages/system/X apply X --plain: plain Helm,
	// release X, whatever HelmRelease exists.
	r := cozyhr(t, "-n", "cozy-system", "--working-directory", dir, "apply", "hello", "--plain").expect(t, 0)
	if !strings.Contains(r.err, "Release hello installed in namespace cozy-system") {
		t.Errorf("apply --plain:\n%s%s", r.out, r.err)
	}
	shown := cozyhr(t, "-n", "cozy-system", "-C", dir, "show", "hello", "--plain", "-s", "templates/configmap.yaml").expect(t, 0)
	if strings.Contains(shown.out, "helm.toolkit.fluxcd.io") {
		t.Errorf("show --plain added Flux's labels:\n%s", shown.out)
	}
	// --take-ownership adopts objects another release owns.
	cozyhr(t, "-n", "cozy-system", "-C", dir, "apply", "other", "--plain", "--take-ownership", "--set", "widget.enabled=false").expect(t, 0)

	// A HelmRelease named on the command line that does not exist is an
	// error that says what to do, never a quiet switch to plain Helm.
	missing := cozyhr(t, "-n", "cozy-system", "-C", dir, "diff", "nope").expect(t, 1)
	if !strings.Contains(missing.err, "HelmRelease cozy-system/nope not found") || !strings.Contains(missing.err, "--plain") {
		t.Errorf("missing HelmRelease:\n%s", missing.err)
	}

	// reconcile NAME -n NS --force against a HelmRelease with no controller
	// running: the request is made and the wait times out cleanly.
	cozystackHelmRelease(t, "cozy-hello-v16")
	rec := cozyhr(t, "reconcile", "hello", "-n", "cozy-hello-v16", "--force", "--with-source", "--timeout", "2s").expect(t, 1)
	for _, want := range []string{"ExternalArtifact cozy-system/cozy-hello is written by its generator", "annotating HelmRelease cozy-hello-v16/hello", "no controller handled the request"} {
		if !strings.Contains(rec.out+rec.err, want) {
			t.Errorf("reconcile output lacks %q:\n%s%s", want, rec.out, rec.err)
		}
	}
	hr := &helmv2.HelmRelease{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "cozy-hello-v16", Name: "hello"}, hr); err != nil {
		t.Fatal(err)
	}
	if hr.Annotations["reconcile.fluxcd.io/forceAt"] == "" {
		t.Errorf("reconcile --force did not set forceAt: %v", hr.Annotations)
	}
}
