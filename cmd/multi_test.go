package cmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cozyhr/cozyhr/cmd/output"
	sigsyaml "sigs.k8s.io/yaml"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/test/testenv"
)

// chartAt copies examples/hello to root/rel as release hello in namespace
// ns, with more .cozyhr.yaml after the release block.
func chartAt(t *testing.T, root, rel, ns, more string) string {
	t.Helper()
	dir := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "examples", "hello"))); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: hello\n  namespace: "+ns+"\n"+more)
	return dir
}

// monorepo is a tree of charts as platform repositories keep them: nested
// at several depths, with a vendored subchart, a chart without
// .cozyhr.yaml and a hidden directory, which -R leaves out.
func monorepo(t *testing.T, prefix string) string {
	t.Helper()
	root := t.TempDir()
	chartAt(t, root, "apps/web", prefix+"-web", "labels: {tier: apps}\n")
	chartAt(t, root, "apps/team/deep/api", prefix+"-api", "labels: {tier: apps, team: api}\n")
	chartAt(t, root, "system/base", prefix+"-base", "labels: {tier: system}\n")
	// A vendored subchart is part of its umbrella, even with a config.
	vendored := filepath.Join(root, "system/base/charts/vendored")
	if err := os.MkdirAll(vendored, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(vendored, "Chart.yaml"), "apiVersion: v2\nname: vendored\nversion: 0.1.0\n")
	writeFile(t, filepath.Join(vendored, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\n")
	ignored := chartAt(t, root, "system/no-config", prefix+"-noconfig", "")
	if err := os.Remove(filepath.Join(ignored, ".cozyhr.yaml")); err != nil {
		t.Fatal(err)
	}
	chartAt(t, root, ".git/hidden", prefix+"-hidden", "")
	return root
}

var summaryTime = regexp.MustCompile(`\b\d+\.\ds\b`)

// TestManyChartsRecursive: -R finds the charts of a tree, leaves out what
// is not one, runs them in one process, prints each chart's output whole in
// path order, then a summary; exit codes aggregate.
func TestManyChartsRecursive(t *testing.T) {
	root := monorepo(t, "many")
	t.Chdir(root)
	// Only namespaced kinds: the chart's CRD is shared, and other tests
	// may have created it.
	r := cozyhr(t, "diff", "--brief", "-R", ".", "--exit-code", "--kind", "ConfigMap,Deployment").expect(t, 2)
	golden(t, "many/diff-brief", summaryTime.ReplaceAllString(r.out, "N.Ns"))
	for _, left := range []string{"vendored", "no-config", "hidden"} {
		if strings.Contains(r.out+r.err, left) {
			t.Errorf("-R took %s:\n%s", left, r.out)
		}
	}

	// --all takes the chart without a .cozyhr.yaml too; -L selects by label.
	r = cozyhr(t, "show", "--offline", "-R", ".", "--all").expect(t, 0)
	if !strings.Contains(r.out, "# ==> system/no-config <==") || !strings.Contains(r.err, "system/no-config") {
		t.Errorf("--all left out the chart without a config:\n%s", r.err)
	}
	r = cozyhr(t, "diff", "--brief", "-L", "tier=apps,team!=api").expect(t, 0)
	if !strings.Contains(r.out, "==> apps/web <==") || strings.Contains(r.out, "api") || strings.Contains(r.out, "system") {
		t.Errorf("-L tier=apps,team!=api:\n%s", r.out)
	}

	// Apply them all, then nothing is left to change: exit 0.
	r = cozyhr(t, "apply", "-R", ".").expect(t, 0)
	for _, want := range []string{"apps/web", "installed, revision 1"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("apply summary lacks %q:\n%s", want, r.out)
		}
	}
	r = cozyhr(t, "diff", "-R", ".", "--exit-code").expect(t, 0)
	if strings.Count(r.out, "no changes") != 3 {
		t.Errorf("after apply:\n%s", r.out)
	}

	// Repeated -C and globs select too; a glob that matches nothing is an error.
	r = cozyhr(t, "get", "-C", "apps/web", "-C", "system/*").expect(t, 1)
	if !strings.Contains(r.out+r.err, "apps/web: ") || !strings.Contains(r.out+r.err, "system/base: ") || strings.Contains(r.out+r.err, "apps/team") {
		t.Errorf("-C apps/web -C 'system/*':\n%s", r.out)
	}
	cozyhr(t, "diff", "-C", "nothing/*").expect(t, 1)
	r = cozyhr(t, "history", "-R", ".").expect(t, 1)
	if !strings.Contains(r.err, "works on one chart") {
		t.Errorf("history over many charts:\n%s", r.err)
	}
	cozyhr(t, "delete", "-R", ".").expect(t, 0)
}

// TestManyChartsOneFails: a chart that fails to render fails alone; the
// others are diffed, the exit code is 1 and the failing chart is named.
// --fail-fast starts nothing after it.
func TestManyChartsOneFails(t *testing.T) {
	root := monorepo(t, "onefails")
	writeFile(t, filepath.Join(root, "apps/web/templates/broken.yaml"), `{{ fail "this chart is broken" }}`)
	t.Chdir(root)
	r := cozyhr(t, "diff", "--brief", "-R", ".", "--kind", "ConfigMap,Deployment").expect(t, 1)
	if !strings.Contains(r.err, "Error: 1 of 3 charts failed: apps/web") || !strings.Contains(r.err, "this chart is broken") {
		t.Errorf("the failing chart is not named:\n%s", r.err)
	}
	if strings.Count(r.out, "3 to add, 0 to change") != 0 || strings.Count(r.out, "Plan:") != 2 {
		t.Errorf("the good charts were not diffed:\n%s", r.out)
	}
	golden(t, "many/one-fails", summaryTime.ReplaceAllString(r.out, "N.Ns"))
	// With --exit-code, changes in the good charts and a failure are both
	// said: exit 3, in the summary and in a Markdown review alike.
	cozyhr(t, "diff", "--brief", "-R", ".", "--kind", "ConfigMap,Deployment", "--exit-code").expect(t, ExitChangesAndFailure)
	cozyhr(t, "diff", "-R", ".", "--kind", "ConfigMap,Deployment", "--exit-code", "-o", "markdown").expect(t, ExitChangesAndFailure)
	cozyhr(t, "diff", "-R", ".", "--kind", "ConfigMap,Deployment", "-o", "markdown").expect(t, ExitFailure)

	// The order by size, as on a first run: the run above recorded what
	// each chart took, and the broken chart, the quickest, would go last.
	t.Setenv("COZYHR_CACHE", t.TempDir())
	r = cozyhr(t, "diff", "--brief", "-R", ".", "--fail-fast", "--concurrency", "1").expect(t, 1)
	if !strings.Contains(r.out, "skipped: not started: --fail-fast after apps/web failed") {
		t.Errorf("--fail-fast:\n%s", r.out)
	}
}

// TestManyChartsApplyInDependencyOrder: apply runs a chart only after the
// charts it depends on (the HelmRelease's spec.dependsOn, .cozyhr.yaml's
// dependsOn) succeeded; a failure skips its dependants and says so, while
// independent charts are applied.
func TestManyChartsApplyInDependencyOrder(t *testing.T) {
	root := t.TempDir()
	// db <- api (HelmRelease spec.dependsOn) <- web (.cozyhr.yaml dependsOn)
	chartAt(t, root, "db", "order-db", "")
	chartAt(t, root, "api", "order-api", "")
	chartAt(t, root, "web", "order-web", "dependsOn: [order-api/hello]\n")
	// broken <- child; lonely depends on nothing.
	broken := chartAt(t, root, "broken", "order-broken", "")
	writeFile(t, filepath.Join(broken, "templates/broken.yaml"), `{{ fail "broken on purpose" }}`)
	chartAt(t, root, "child", "order-child", "dependsOn: [order-broken/hello]\n")
	chartAt(t, root, "lonely", "order-lonely", "")
	hr := createHelmRelease(t, "order-api", "hello", `{}`)
	hr.Spec.DependsOn = []helmv2.DependencyReference{{Name: "hello", Namespace: "order-db"}}
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)

	r := cozyhr(t, "apply", "-R", ".", "--concurrency", "2").expect(t, 1)
	golden(t, "many/apply-order", summaryTime.ReplaceAllString(r.out, "N.Ns"))
	// Plain progress lines: each start comes after its dependency ended.
	for _, before := range [][2]string{{"db: installed", "api: started"}, {"api: installed", "web: started"}} {
		if i, j := strings.Index(r.err, before[0]), strings.Index(r.err, before[1]); i < 0 || j < 0 || i > j {
			t.Errorf("%q does not come before %q:\n%s", before[0], before[1], r.err)
		}
	}
	if strings.Contains(r.err, "child: started") {
		t.Errorf("the dependant of a failed chart ran:\n%s", r.err)
	}
	if !strings.Contains(r.err, "Error: 1 of 6 charts failed: broken; 1 not run") {
		t.Errorf("the error does not name the failure and what did not run:\n%s", r.err)
	}
	// delete runs the other way round: dependants first.
	r = cozyhr(t, "delete", "-R", ".", "--concurrency", "1").expect(t, 0)
	if i, j := strings.Index(r.err, "web: started"), strings.Index(r.err, "db: started"); i < 0 || j < 0 || i > j {
		t.Errorf("delete did not remove web before db:\n%s", r.err)
	}

	// delete removed the HelmRelease; a cycle through .cozyhr.yaml alone.
	writeFile(t, filepath.Join(root, "db/.cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: hello, namespace: order-db}\ndependsOn: [order-web/hello]\n")
	writeFile(t, filepath.Join(root, "api/.cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: hello, namespace: order-api}\ndependsOn: [order-db/hello]\n")
	r = cozyhr(t, "apply", "-R", ".").expect(t, 1)
	if !strings.Contains(r.err, "depend on each other in a cycle") {
		t.Errorf("a cycle is not named:\n%s", r.err)
	}
}

// TestManyChartsCtrlC: Ctrl-C in the middle of an apply over many charts
// stops every chart's run, kills every plugin, frees every lock, and
// still prints the summary.
func TestManyChartsCtrlC(t *testing.T) {
	bin := cozyhrBinary(t)
	plugins := pluginDir(t)
	root := t.TempDir()
	calls := filepath.Join(t.TempDir(), "calls")
	for _, name := range []string{"a", "b", "c", "d"} {
		chartAt(t, root, name, "ctrlc-"+name, "plugins:\n  postProcessors:\n    - {name: faulty, timeout: 5m, config: {mode: hang, record: "+calls+"}}\n")
	}
	run := exec.Command(bin, "--kubeconfig", env.Kubeconfig, "apply", "-R", root, "--concurrency", "2")
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	run.Stdout, run.Stderr = &stdout, stderr
	run.Env = append(os.Environ(), "COZYHR_PLUGINS_PATH="+plugins)
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = run.Process.Kill() }()
	// The charts share one plugin host, so one process serves both calls;
	// it records each call before it hangs.
	if err := testenv.WaitFor(context.Background(), 60*time.Second, func(context.Context) (bool, error) {
		data, _ := os.ReadFile(calls)
		return strings.Count(string(data), "\n") == 2, nil
	}); err != nil {
		t.Fatalf("two charts never reached their plugin: %v\n%s", pluginProcesses(plugins), stderr.String())
	}
	if err := run.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_ = run.Wait()
	if code := run.ProcessState.ExitCode(); code != 130 {
		t.Errorf("exit %d after Ctrl-C, want 130:\n%s", code, stderr.String())
	}
	for _, want := range []string{"interrupted", "skipped: not started: interrupted"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, stdout.String())
		}
	}
	expectNoPluginProcesses(t, plugins)
	var leases coordinationv1.LeaseList
	if err := env.Client.List(context.Background(), &leases, client.MatchingLabels{"app.kubernetes.io/managed-by": "cozyhr"}); err != nil {
		t.Fatal(err)
	}
	for _, l := range leases.Items {
		if strings.HasPrefix(l.Namespace, "ctrlc-") {
			t.Errorf("lock %s/%s left held", l.Namespace, l.Name)
		}
	}
}

// -o json (and yaml) over many charts is one document: every chart in path
// order with its release, result and reports, and a chart that failed
// with its whole error, not only on stderr.
func TestManyChartsWriteOneDocument(t *testing.T) {
	root := monorepo(t, "onedoc")
	writeFile(t, filepath.Join(root, "apps/web/templates/broken.yaml"), `{{ fail "this chart is broken" }}`)
	t.Chdir(root)
	for _, format := range []string{"json", "yaml"} {
		r := cozyhr(t, "diff", "-R", ".", "--kind", "ConfigMap,Deployment", "-o", format).expect(t, 1)
		data := []byte(r.out)
		if format == "yaml" {
			var err error
			if data, err = sigsyaml.YAMLToJSON(data); err != nil {
				t.Fatalf("-o yaml is not one YAML document: %v\n%s", err, r.out)
			}
		}
		var doc output.RunList
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("-o %s is not one document: %v\n%s", format, err, r.out)
		}
		var charts []string
		for _, it := range doc.Items {
			charts = append(charts, it.Chart)
		}
		if doc.Kind != "DiffReportList" || strings.Join(charts, " ") != "apps/team/deep/api apps/web system/base" {
			t.Fatalf("-o %s: kind %q, charts %q", format, doc.Kind, charts)
		}
		web, api := doc.Items[1], doc.Items[0]
		if !strings.Contains(web.Error, "this chart is broken") || len(web.Reports) != 0 || !strings.HasPrefix(web.Result, "failed") {
			t.Errorf("-o %s: the failed chart is %+v", format, web)
		}
		var report output.JSONReport
		if len(api.Reports) != 1 || json.Unmarshal(api.Reports[0], &report) != nil || report.Summary.Add != 2 || api.Release != "onedoc-api/hello" {
			t.Errorf("-o %s: the good chart is %+v", format, api)
		}
	}
}

// A chart no file gives a namespace is named once, after the run, with
// what to do, not left to its own error to explain.
func TestManyChartsNameThoseWithoutANamespaceOnce(t *testing.T) {
	root := monorepo(t, "unplaced")
	t.Chdir(root)
	r := cozyhr(t, "show", "--offline", "-R", ".", "--all").expect(t, 0)
	want := `cozyhr: 1 of 4 charts have no namespace (no .cozyhr.yaml, defaults file or Makefile NAMESPACE) and fell back to the kubeconfig's, offline "default": system/no-config; give them one in a defaults file (docs/review.md) or with -n`
	if strings.Count(r.err, want) != 1 {
		t.Errorf("the charts without a namespace are not named once:\n%s", r.err)
	}
	if r := cozyhr(t, "show", "--offline", "-R", ".", "--all", "-n", "given").expect(t, 0); strings.Contains(r.err, "have no namespace") {
		t.Errorf("-n gives every chart a namespace:\n%s", r.err)
	}
}
