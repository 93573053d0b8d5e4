package cmd

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// namespaceExists says a namespace exists and is not being deleted (the
// test API server runs no namespace controller to finish a deletion).
func namespaceExists(t *testing.T, name string) bool {
	t.Helper()
	ns := &corev1.Namespace{}
	err := env.Client.Get(context.Background(), client.ObjectKey{Name: name}, ns)
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil && ns.DeletionTimestamp == nil
}

// apply never makes a namespace it was told not to, nor one an apply that
// then fails leaves behind.
func TestApplyLeavesNoNamespaceItWasNotToMake(t *testing.T) {
	dir := chartCopy(t, "no-create")
	r := cozyhr(t, "-C", dir, "apply", "--create-namespace=false").expect(t, ExitFailure)
	if namespaceExists(t, "no-create") {
		t.Errorf("apply --create-namespace=false created the namespace:\n%s", r.err)
	}
	broken := chartCopy(t, "no-create-broken")
	writeFile(t, filepath.Join(broken, "templates", "broken.yaml"), `{{ fail "this template is broken" }}`+"\n")
	r = cozyhr(t, "-C", broken, "apply").expect(t, ExitFailure)
	if !strings.Contains(r.err, "this template is broken") {
		t.Errorf("the render error is not said:\n%s", r.err)
	}
	if namespaceExists(t, "no-create-broken") {
		t.Error("an apply that failed to render left its new namespace behind")
	}
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	if !namespaceExists(t, "no-create") {
		t.Error("a first apply did not create its namespace")
	}
}

// Two charts of one run that stand for the same release are refused before
// either is written.
func TestOneRunNeverWritesAReleaseTwice(t *testing.T) {
	a, b := chartCopy(t, "twice"), chartCopy(t, "twice")
	r := cozyhr(t, "-C", a, "-C", b, "apply").expect(t, ExitFailure)
	if !strings.Contains(r.err, "both stand for twice/hello") {
		t.Errorf("two charts for one release:\n%s", r.err)
	}
	if namespaceExists(t, "twice") {
		t.Error("a chart was applied")
	}
}

// A dependsOn that names nothing in the run or the cluster is a warning:
// Flux would wait for it forever.
func TestADependencyThatIsNowhereIsAWarning(t *testing.T) {
	a, b := chartCopy(t, "dep-typo-a"), chartCopy(t, "dep-typo-b")
	writeFile(t, filepath.Join(a, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: hello\n  namespace: dep-typo-a\ndependsOn: [dep-typo-b/helo]\n")
	r := cozyhr(t, "-C", a, "-C", b, "apply").expect(t, 0)
	if !strings.Contains(r.err, "depends on dep-typo-b/helo, which is neither a chart of this run nor a HelmRelease in the cluster") {
		t.Errorf("no warning for the typo:\n%s", r.err)
	}
}

// A closed port says what to check, as a frozen server does; a chart
// whose values.yaml is a list says so in the file's terms.
func TestRefusedConnectionAndAListAsValuesSayWhatToDo(t *testing.T) {
	dir := chartCopy(t, "refused")
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, kubeconfig, "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n")
	r := cozyhr(t, "--kubeconfig", kubeconfig, "-C", dir, "diff").expect(t, ExitFailure)
	if !strings.Contains(r.err, "connection refused: nothing listens there; check that the API server is up") {
		t.Errorf("connection refused:\n%s", r.err)
	}
	writeFile(t, filepath.Join(dir, "values.yaml"), "- a\n- b\n")
	r = cozyhr(t, "-C", dir, "show", "--offline").expect(t, ExitFailure)
	if !strings.Contains(r.err, "values.yaml holds a list at its top; a values file is a mapping") {
		t.Errorf("values.yaml as a list:\n%s", r.err)
	}
}

// Plugin and chart-file mistakes say what to do: a plugin path that is a
// directory, a binary that is no plugin, a binary left inside the chart.
func TestPluginAndChartFileMistakesSayWhatToDo(t *testing.T) {
	dir := chartCopy(t, "mistakes")
	config := func(path string) {
		writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: hello, namespace: mistakes}\nplugins:\n  postProcessors:\n  - name: mine\n    path: "+path+"\n")
	}
	put(t, filepath.Join(dir, "plugdir", "README"), "the plugin is built here\n")
	config("plugdir")
	r := cozyhr(t, "-C", dir, "show", "--offline").expect(t, ExitFailure)
	if !strings.Contains(r.err, "plugdir is a directory; give the plugin binary's path") {
		t.Errorf("a directory as plugin path:\n%s", r.err)
	}
	config("/bin/true")
	r = cozyhr(t, "-C", dir, "show", "--offline").expect(t, ExitFailure)
	if !strings.Contains(r.err, "/bin/true is not a cozyhr plugin") || strings.Contains(r.err, `printed ""`) {
		t.Errorf("a binary that is no plugin:\n%s", r.err)
	}
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: hello, namespace: mistakes}\n")
	writeFile(t, filepath.Join(dir, "plugdir", "plugin"), strings.Repeat("x", 6<<20))
	r = cozyhr(t, "-C", dir, "show", "--offline").expect(t, ExitFailure)
	if !strings.Contains(r.err, "larger than the maximum file size") || !strings.Contains(r.err, ".helmignore") {
		t.Errorf("a large file left in the chart:\n%s", r.err)
	}
}
