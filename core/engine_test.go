package core_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/types"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
)

// hello is the example chart's configuration, loaded with no .cozyhr.yaml
// of its own but overrides.
func hello(t *testing.T, overrides map[string]any) *config.Chart {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{Dir: filepath.Join("..", "examples", "hello"), Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestWithCaseAddsTheCasesValuesOverTheCharts(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: c\nversion: 0.1.0\n",
		"base.yaml":  "a: 1\n",
		"ha.yaml":    "b: 2\n",
		".cozyhr.yaml": `apiVersion: cozyhr.io/v1alpha1
kind: Chart
valuesFiles: [base.yaml]
values:
  replicas: 1
  image: {repository: nginx, tag: "1.27"}
cases:
  ha:
    valuesFiles: [ha.yaml]
    values:
      replicas: 3
      image: {tag: "1.28"}
  plain: {}
`,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ha, err := core.WithCase(cfg, "ha")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ha.ValuesFiles, []string{"base.yaml", "ha.yaml"}) {
		t.Errorf("values files %q: the case's after the chart's", ha.ValuesFiles)
	}
	want := map[string]any{"replicas": 3, "image": map[string]any{"repository": "nginx", "tag": "1.28"}}
	if fmt.Sprint(ha.Values) != fmt.Sprint(want) {
		t.Errorf("values %v, want %v (merged as Helm merges)", ha.Values, want)
	}
	// The chart's own configuration is left as it was.
	if !slices.Equal(cfg.ValuesFiles, []string{"base.yaml"}) || fmt.Sprint(cfg.Values["image"]) != "map[repository:nginx tag:1.27]" {
		t.Errorf("the chart's configuration changed: %q %v", cfg.ValuesFiles, cfg.Values)
	}
	// Appending a second case's files does not write into the first's.
	plain, _ := core.WithCase(cfg, "plain")
	if !slices.Equal(plain.ValuesFiles, []string{"base.yaml"}) || !slices.Equal(ha.ValuesFiles, []string{"base.yaml", "ha.yaml"}) {
		t.Errorf("cases share a backing array: %q %q", plain.ValuesFiles, ha.ValuesFiles)
	}
	_, err = core.WithCase(cfg, "prod")
	if err == nil || !strings.Contains(err.Error(), `no value case "prod"`) || !strings.Contains(err.Error(), "it names ha, plain") {
		t.Errorf("an unknown case: %v", err)
	}
	// A case's values file that is not there is blamed on the case.
	cfg.Cases["ha"].ValuesFiles[0] = "absent.yaml"
	if _, err := core.WithCase(cfg, "ha"); err == nil || !strings.Contains(err.Error(), "cases.ha.valuesFiles[0]") || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("a missing case values file: %v", err)
	}
	_, err = core.WithCase(hello(t, nil), "x")
	if err == nil || !strings.Contains(err.Error(), "it names none") {
		t.Errorf("a chart without cases: %v", err)
	}
}

// The engine's typed errors word what failed and name no flag or command:
// the command line says how to go on.
func TestTypedErrorsSayWhatFailed(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "app"}
	cause := errors.New("boom")
	for err, want := range map[error]string{
		&core.NeedsClusterError{What: "diff"}:                                      "diff needs a cluster",
		&core.NamespaceMissingError{Namespace: "x"}:                                `namespace "x" does not exist`,
		&core.KubeVersionError{Chart: "c", Requires: ">=1.40", Kubernetes: "1.37"}: "chart c requires kubeVersion >=1.40, which is incompatible with Kubernetes 1.37",
		&core.HelmReleaseNotFoundError{Key: key, Release: "app", Namespace: "ns"}:  "HelmRelease ns/app not found: create it, or work on release app in namespace ns as plain Helm",
		&core.NoRevisionError{Release: "app", Revision: 3, Earlier: true}:          "release app has no earlier revision than 3 to roll back to",
		&core.NoRevisionError{Release: "app", Revision: 9}:                         "release app has no revision 9",
		&core.SuspendedError{Key: key}:                                             "HelmRelease ns/app is suspended, so Flux would ignore the request; resume it first",
		&core.StillSuspendedError{Err: cause, Key: key}:                            "boom\nHelmRelease ns/app is still suspended, so Flux will not touch the release: fix the problem and apply again, or resume the HelmRelease to hand it back to Flux",
		&core.DependenciesError{Chart: "app", Err: cause}:                          "chart app: boom (run helm dependency build)",
	} {
		if err.Error() != want {
			t.Errorf("%T: %q, want %q", err, err.Error(), want)
		}
	}
	if !errors.Is(&core.StillSuspendedError{Err: cause}, cause) || !errors.Is(&core.DependenciesError{Err: cause}, cause) {
		t.Error("the errors that wrap another do not unwrap to it")
	}
}

func TestMissingDependenciesAreADependenciesError(t *testing.T) {
	dir := t.TempDir()
	chart := "apiVersion: v2\nname: umbrella\nversion: 0.1.0\ndependencies:\n- name: sub\n  version: 1.0.0\n  repository: https://charts.example.com\n"
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte(chart), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := core.LoadChart(dir)
	var de *core.DependenciesError
	if !errors.As(err, &de) || de.Chart != dir || !strings.Contains(err.Error(), "sub") {
		t.Errorf("a missing subchart: %v", err)
	}
	// A vendored sub-chart whose own dependency is missing is refused too,
	// naming the sub-chart (helm checks only the top chart's).
	sub := filepath.Join(dir, "charts", "sub")
	if err := os.MkdirAll(filepath.Join(sub, "crds"), 0o755); err != nil {
		t.Fatal(err)
	}
	nested := "apiVersion: v2\nname: sub\nversion: 1.0.0\ndependencies:\n- name: crds\n  version: 1.0.0\n  repository: file://../crds\n"
	if err := os.WriteFile(filepath.Join(sub, "Chart.yaml"), []byte(nested), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = core.LoadChart(dir)
	if !errors.As(err, &de) || de.Chart != sub || !strings.Contains(err.Error(), "missing in charts/ directory: crds") {
		t.Errorf("a sub-chart's missing dependency: %v", err)
	}
}

func TestTemplatePathsAndRenderedKinds(t *testing.T) {
	cfg := hello(t, nil)
	paths := core.TemplatePaths(cfg)
	for _, want := range []string{"templates/configmap.yaml", "templates/deployment.yaml"} {
		if !slices.Contains(paths, want) {
			t.Errorf("templates %q lack %s", paths, want)
		}
	}
	for _, p := range paths {
		if strings.HasSuffix(p, "NOTES.txt") || strings.HasPrefix(filepath.Base(p), "_") {
			t.Errorf("%s renders no object", p)
		}
	}
	if !slices.IsSorted(paths) {
		t.Errorf("templates not sorted: %q", paths)
	}
	kinds := core.RenderedKinds(context.Background(), cfg)
	for _, want := range []string{"ConfigMap", "Deployment", "Secret", "Service"} {
		if !slices.Contains(kinds, want) {
			t.Errorf("kinds %q lack %s", kinds, want)
		}
	}
	broken := *cfg
	broken.Dir = t.TempDir()
	if got := core.TemplatePaths(&broken); got != nil {
		t.Errorf("no chart: %q", got)
	}
	if got := core.RenderedKinds(context.Background(), &broken); got != nil {
		t.Errorf("no chart renders no kinds: %q", got)
	}
}

// A values.yaml larger than Helm loads is said as that, before anything is
// parsed (parsing it again cost seconds and hundreds of MB).
func TestAValuesFileTooLargeForHelmIsSaidAsThat(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: big\nversion: 0.1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := "a: |\n" + strings.Repeat("  0123456789012345678901234567890123456789012345678901234567890123456789\n", 100_000)
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := core.LoadChart(dir)
	if err == nil || !strings.Contains(err.Error(), "values.yaml is 6 MiB, larger than the 5 MiB Helm loads from a chart") || strings.Contains(err.Error(), ".helmignore") {
		t.Errorf("a 6 MiB values.yaml: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "plugin.bin"), []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := core.LoadChart(dir); err == nil || !strings.Contains(err.Error(), "list it in the chart's .helmignore") {
		t.Errorf("another file too large: %v", err)
	}
}
