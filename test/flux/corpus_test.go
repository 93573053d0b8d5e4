package flux_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/cozyhr/cozyhr/test/testtree"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/repo/v1/repotest"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/test/testenv"
)

// corpusChart is a real chart of a platform repository and the release its
// HelmRelease installs it as.
type corpusChart struct {
	dir, name, namespace string
}

// corpusCharts are the charts under ../shared/charts and ../shared/corpus,
// or under $CORPUS (make test-corpus CORPUS=DIR): every directory with a
// Chart.yaml that is not a library and not vendored under charts/. Release
// names and namespaces come from each chart's Makefile (package.mk's NAME
// and NAMESPACE), else the directory's name and cozy-NAME.
func corpusCharts(t *testing.T) []corpusChart {
	t.Helper()
	roots := []string{sharedCharts, filepath.Join(sharedCharts, "..", "corpus")}
	if dir := os.Getenv("CORPUS"); dir != "" {
		roots = []string{dir}
	}
	var out []corpusChart
	for _, root := range roots {
		if _, err := os.Stat(root); err != nil {
			continue
		}
		var dirs []string
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "charts" || strings.HasPrefix(d.Name(), ".")) && path != root {
				return filepath.SkipDir
			}
			if d.Name() == "Chart.yaml" {
				dirs = append(dirs, filepath.Dir(path))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// ingress-nginx creates cert-manager Certificates: it goes before
		// cert-manager, whose admission webhook would otherwise be called.
		for i, d := range dirs {
			if filepath.Base(d) == "ingress-nginx" {
				dirs = append([]string{d}, append(dirs[:i:i], dirs[i+1:]...)...)
				break
			}
		}
		// Application charts last (see TestCorpus).
		sort.SliceStable(dirs, func(i, j int) bool { return !isApp(dirs[i]) && isApp(dirs[j]) })
		for _, d := range dirs {
			if isLibrary(t, d) {
				continue
			}
			name, ns := packageNames(d)
			out = append(out, corpusChart{dir: d, name: name, namespace: ns})
		}
	}
	return out
}

// isApp says a chart is an application chart (packages/apps/NAME).
func isApp(dir string) bool { return filepath.Base(filepath.Dir(dir)) == "apps" }

func isLibrary(t *testing.T, dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return regexp.MustCompile(`(?m)^type:\s*library\s*$`).Match(data)
}

// packageNames are the release name and namespace a package.mk Makefile
// gives (config.MakefileNames), else the directory's name and cozy-NAME
// (tenant-root for an application chart).
func packageNames(dir string) (name, namespace string) {
	name, namespace = config.MakefileNames(dir)
	if name == "" {
		name = filepath.Base(dir)
	}
	if namespace == "" {
		namespace = "cozy-" + name
		if isApp(dir) {
			namespace = "tenant-root"
		}
	}
	return name, namespace
}

// materialize copies a chart into a temporary directory that helm can load
// from anywhere: a symlink keeps pointing where it did (made absolute), and
// a file under charts/ that only holds a relative path to a chart (a git
// symlink checked out as a file) becomes that symlink.
func materialize(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	testtree.Copy(t, src, dst, func(path string, data []byte) string {
		if data == nil { // a symlink
			abs, _ := filepath.EvalSymlinks(path)
			return abs
		}
		if filepath.Base(filepath.Dir(path)) == "charts" && len(data) < 256 && !strings.ContainsAny(string(data), "\n:") {
			linked := filepath.Join(filepath.Dir(path), strings.TrimSpace(string(data)))
			if _, err := os.Stat(filepath.Join(linked, "Chart.yaml")); err == nil {
				abs, _ := filepath.Abs(linked)
				return abs
			}
		}
		return ""
	})
	return dst
}

// corpusRow is one chart's line in the corpus report.
type corpusRow struct {
	chart, installed              string
	diff, serverSide, stored, tpl string
	objects                       int
}

// TestCorpus lets the real helm-controller install every chart of the
// corpus and checks, for each one it installs: diff --exit-code and diff
// --server-side --exit-code exit 0; show equals the manifest and hooks
// helm-controller stored, byte for byte per object; and show --plain
// --offline equals Helm 4's helm template byte for byte (generated here
// with the Helm SDK) unless the chart renders random values. Charts that
// cannot install here (no kubelet, a CRD no chart provides) are listed
// with the reason; the report is logged as a table.
func TestCorpus(t *testing.T) {
	charts := corpusCharts(t)
	if len(charts) == 0 {
		t.Skip("no corpus: ../shared is absent and CORPUS is not set")
	}
	clusterPrerequisites(t)
	var rows []corpusRow
	defer func() {
		var b strings.Builder
		tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CHART\tINSTALLED\tDIFF\tDIFF --SERVER-SIDE\tSHOW = STORED\tSHOW = HELM TEMPLATE\tOBJECTS")
		for _, r := range rows {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", r.chart, r.installed, r.diff, r.serverSide, r.stored, r.tpl, r.objects)
		}
		tw.Flush()
		t.Logf("corpus report:\n%s", b.String())
	}()
	for _, c := range charts {
		row := corpusRow{chart: shortPath(c.dir), installed: "yes", diff: "-", serverSide: "-", stored: "-", tpl: "-"}
		t.Run(filepath.Base(c.dir), func(t *testing.T) {
			defer func() { rows = append(rows, row) }()
			if isApp(c.dir) {
				// What a platform cluster serves for application charts;
				// they run last, so that no system chart finds a stub in
				// place of a CRD it installs.
				if err := env.AppChartPrerequisites(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			dir := materialize(t, c.dir)
			ch, err := loader.Load(dir)
			if err != nil {
				t.Fatalf("load %s: %v", c.dir, err)
			}
			// Helm 4's helm template, byte for byte, needs no cluster.
			row.tpl = checkHelmTemplate(t, dir, ch, c)

			fc := &fluxChart{Name: c.name, Namespace: c.namespace, Dir: dir, repo: newRepo(t)}
			fc.publish(t)
			createNamespace(t, c.namespace)
			hr := fc.helmRelease(t, nil)
			key := client.ObjectKeyFromObject(hr)
			t.Cleanup(func() { deleteAndWait(t, key) })
			if why := waitInstalled(key, time.Minute); why != "" {
				row.installed = "no: " + why
				t.Logf("%s is not installable here: %s", c.dir, why)
				return
			}
			args := []string{"-C", dir, "-n", c.namespace}
			row.diff = passFail(t, "diff --exit-code", cozyhr(t, append(args, "diff", "--exit-code", c.name)...))
			row.serverSide = passFail(t, "diff --server-side --exit-code", cozyhr(t, append(args, "diff", "--server-side", "--exit-code", c.name)...))
			show := cozyhr(t, append(args, "show", "--show-secrets", c.name)...).expect(t, 0)
			rel := storedRelease(t, c.namespace, c.name)
			want := splitDocuments(strings.TrimSpace(rel.Manifest) + "\n")
			row.objects = len(want)
			for _, h := range rel.Hooks {
				want = append(want, document{Source: h.Path, Text: h.Manifest + "\n"})
			}
			var got []document
			for _, d := range splitDocuments(show.out) {
				// show prints the crds/ directories first; the release
				// stores templates only.
				if strings.Contains(d.Source, "/templates/") {
					got = append(got, d)
				}
			}
			row.stored = "ok"
			if !compareDocuments(t, got, want) {
				row.stored = "FAIL"
			}
			if strings.Contains(show.err, "INFO") || strings.Contains(show.err, "level=") {
				t.Errorf("Helm's log lines on stderr:\n%s", show.err)
			}
		})
	}
}

// checkHelmTemplate compares show --plain --offline with what helm template
// prints for the same chart, release and namespace.
func checkHelmTemplate(t *testing.T, dir string, ch *chart.Chart, c corpusChart) string {
	t.Helper()
	want, err := helmTemplate(ch, c.name, c.namespace)
	if err != nil {
		t.Logf("helm template fails on %s (%v): nothing to compare", c.dir, err)
		return "n/a: helm template fails"
	}
	if again, _ := helmTemplate(ch, c.name, c.namespace); again != want {
		return "n/a: random values"
	}
	got := cozyhr(t, "-C", dir, "-n", c.namespace, "show", "--plain", "--offline", "--show-secrets", c.name)
	if got.code != 0 {
		t.Errorf("show --plain --offline: exit %d\n%s", got.code, got.err)
		return "FAIL"
	}
	if strings.Contains(got.err, "INFO") || strings.Contains(got.err, "level=") {
		t.Errorf("Helm's log lines on stderr:\n%s", got.err)
	}
	if got.out != want {
		gl, wl := strings.Split(got.out, "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Errorf("show --plain --offline differs from helm template at line %d: %q vs %q", i+1, gl[i], wl[i])
				return "FAIL"
			}
		}
		t.Errorf("show --plain --offline differs from helm template in length: %d lines vs %d; ends %q vs %q", len(gl), len(wl), tail(got.out), tail(want))
		return "FAIL"
	}
	return "ok"
}

// helmTemplate is Helm 4's helm template NAME . -n NS --include-crds: the
// manifest trimmed as a whole, then each hook.
func helmTemplate(ch *chart.Chart, name, namespace string) (string, error) {
	install := action.NewInstall(action.NewConfiguration())
	install.DryRunStrategy, install.Replace, install.IncludeCRDs = action.DryRunClient, true, true
	install.ReleaseName, install.Namespace = name, namespace
	install.KubeVersion = &common.DefaultCapabilities.KubeVersion
	r, err := install.Run(ch, map[string]any{})
	if err != nil {
		return "", err
	}
	rel := r.(*release.Release)
	var b strings.Builder
	fmt.Fprintln(&b, strings.TrimSpace(rel.Manifest))
	for _, h := range rel.Hooks {
		fmt.Fprintf(&b, "---\n# Source: %s\n%s\n", h.Path, h.Manifest)
	}
	return b.String(), nil
}

// shortPath is a chart's path from the corpus root on, for the report.
func shortPath(dir string) string {
	parts := strings.Split(filepath.ToSlash(filepath.Clean(dir)), "/")
	for i, p := range parts {
		if p == "charts" || p == "corpus" {
			return strings.Join(parts[i:], "/")
		}
	}
	return dir
}

func tail(s string) string {
	if len(s) > 40 {
		return s[len(s)-40:]
	}
	return s
}

func passFail(t *testing.T, what string, r result) string {
	t.Helper()
	if r.code == 0 {
		return "ok"
	}
	t.Errorf("%s after Flux installed: exit %d\n%s\n%s", what, r.code, r.out, r.err)
	return "FAIL"
}

// waitInstalled waits until helm-controller reconciled the HelmRelease and
// says why it is not Ready, if it is not.
func waitInstalled(key client.ObjectKey, timeout time.Duration) string {
	hr := &helmv2.HelmRelease{}
	err := testenv.WaitFor(context.Background(), timeout, func(ctx context.Context) (bool, error) {
		if err := env.Client.Get(ctx, key, hr); err != nil {
			return false, err
		}
		ready := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition)
		if ready == nil || ready.ObservedGeneration != hr.Generation || ready.Status == metav1.ConditionUnknown {
			return false, nil
		}
		return ready.Status == metav1.ConditionTrue || !apimeta.IsStatusConditionTrue(hr.Status.Conditions, meta.ReconcilingCondition), nil
	})
	ready := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition)
	switch {
	case err != nil && ready == nil:
		return fmt.Sprintf("not reconciled in %s", timeout)
	case ready.Status == metav1.ConditionTrue:
		return ""
	}
	msg := ready.Message
	if len(msg) > 160 {
		msg = msg[:160] + "…"
	}
	return msg
}

// newRepo is a Helm repository on 127.0.0.1 for one chart.
func newRepo(t *testing.T) *repotest.Server {
	t.Helper()
	s := repotest.NewTempServer(t)
	t.Cleanup(s.Stop)
	return s
}
