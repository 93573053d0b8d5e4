package fleet_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/test/testenv"
)

// env is the API server the package's tests share, each in namespaces of
// its own.
var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// chartDir writes a chart named name whose one ConfigMap carries the
// release's name and the message value, and returns its directory.
func chartDir(t testing.TB, name, cozyhr string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	files := map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: " + name + "\nversion: 1.2.3\n",
		"values.yaml": "message: hello\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-greeting\n" +
			"data:\n  message: {{ .Values.message | quote }}\n  namespace: {{ .Release.Namespace | quote }}\n",
	}
	if cozyhr != "" {
		files[".cozyhr.yaml"] = cozyhr
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// instance makes a HelmRelease of chart in namespace ns with the values
// given as JSON; mutate adjusts its spec before it is created.
func instance(t testing.TB, ns, name, chart, values string, labels map[string]string, mutate func(*helmv2.HelmRelease)) *helmv2.HelmRelease {
	t.Helper()
	ctx := context.Background()
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	hr := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: time.Hour},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
				Chart: chart, SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "charts"},
			}},
		},
	}
	if values != "" {
		hr.Spec.Values = &apiextensionsv1.JSON{Raw: []byte(values)}
	}
	if mutate != nil {
		mutate(hr)
	}
	if err := env.Client.Create(ctx, hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

// recordHistory writes a status history whose latest release was made
// from chartName at version, as helm-controller records it.
func recordHistory(t testing.TB, hr *helmv2.HelmRelease, chartName, version string) {
	t.Helper()
	hr.Status.History = helmv2.Snapshots{{Name: hr.Name, Namespace: hr.Namespace, Version: 1, ChartName: chartName, ChartVersion: version,
		Status: "deployed", Digest: "sha256:0", FirstDeployed: metav1.Now(), LastDeployed: metav1.Now()}}
	if err := env.Client.Status().Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
}

func loadChart(t testing.TB, dir string, overrides map[string]any) *config.Chart {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{Dir: dir, Overrides: overrides})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func keys(hrs []helmv2.HelmRelease) []string {
	var out []string
	for _, hr := range hrs {
		out = append(out, hr.Namespace+"/"+hr.Name)
	}
	slices.Sort(out)
	return out
}

func TestListFindsTheHelmReleasesMadeFromTheChart(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	dir := chartDir(t, "lister", "")
	instance(t, "list-a", "one", "lister", "", map[string]string{"tier": "gold"}, nil)
	// Its spec names another chart, but its last release was made from
	// this one: the history counts.
	moved := instance(t, "list-b", "two", "renamed", "", nil, nil)
	recordHistory(t, moved, "lister", "1.2.3")
	instance(t, "list-b", "three", "other", "", map[string]string{"tier": "gold"}, nil)
	cfg := loadChart(t, dir, nil)

	all, err := fleet.List(ctx, env.Client, fleet.Query{Chart: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(all); !slices.Equal(got, []string{"list-a/one", "list-b/two"}) {
		t.Errorf("every namespace: %q", got)
	}
	inB, err := fleet.List(ctx, env.Client, fleet.Query{Chart: cfg, Namespace: "list-b"})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(inB); !slices.Equal(got, []string{"list-b/two"}) {
		t.Errorf("namespace list-b: %q", got)
	}
	gold, err := fleet.List(ctx, env.Client, fleet.Query{Chart: cfg, Selector: "tier=gold"})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(gold); !slices.Equal(got, []string{"list-a/one"}) {
		t.Errorf("-l tier=gold narrows the chart's instances: %q", got)
	}
	none, err := fleet.List(ctx, env.Client, fleet.Query{Chart: cfg, Namespace: "list-none"})
	if err != nil || len(none) != 0 {
		t.Errorf("an empty namespace: %q, %v", keys(none), err)
	}
	if got := (fleet.Query{Chart: cfg, Namespace: "list-none"}).NoneFound(); got != "No HelmRelease in namespace list-none was made from chart lister." {
		t.Errorf("none found: %q", got)
	}
	if got := (fleet.Query{Chart: cfg}).NoneFound(); !strings.Contains(got, "in any namespace") {
		t.Errorf("none found anywhere: %q", got)
	}
}

func TestListByTheChartsInstancesSelector(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	dir := chartDir(t, "picked", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\ninstances:\n  selector: app.kubernetes.io/part-of=picked\n")
	instance(t, "pick-a", "labelled", "anything", "", map[string]string{"app.kubernetes.io/part-of": "picked", "size": "s"}, nil)
	instance(t, "pick-a", "big", "anything", "", map[string]string{"app.kubernetes.io/part-of": "picked", "size": "l"}, nil)
	instance(t, "pick-a", "named", "picked", "", nil, nil) // made from the chart, but not selected
	cfg := loadChart(t, dir, nil)

	found, err := fleet.List(ctx, env.Client, fleet.Query{Chart: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(found); !slices.Equal(got, []string{"pick-a/big", "pick-a/labelled"}) {
		t.Errorf("instances.selector chooses: %q", got)
	}
	small, err := fleet.List(ctx, env.Client, fleet.Query{Chart: cfg, Selector: "size=s"})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(small); !slices.Equal(got, []string{"pick-a/labelled"}) {
		t.Errorf("-l narrows instances.selector: %q", got)
	}
	if got := (fleet.Query{Chart: cfg, Namespace: "x", Selector: "size=m"}).NoneFound(); got != "No HelmRelease in namespace x matches app.kubernetes.io/part-of=picked,size=m." {
		t.Errorf("none found: %q", got)
	}

	cfg.Instances.Selector = "part-of in (a"
	_, err = fleet.List(ctx, env.Client, fleet.Query{Chart: cfg})
	if err == nil || !strings.Contains(err.Error(), "instances.selector") || !strings.Contains(err.Error(), cfg.Source()) {
		t.Errorf("a broken instances.selector: %v", err)
	}
}

func TestDescribeNamesTheReleaseAsHelmControllerDoes(t *testing.T) {
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "redis"}}
	in := fleet.Describe(hr)
	if in.Key() != "tenant-a/redis" || in.Release != "redis" || in.ReleaseNamespace != "tenant-a" || in.ChartVersion != "" {
		t.Errorf("plain: %+v", in)
	}
	hr.Spec.TargetNamespace = "workloads"
	hr.Status.History = helmv2.Snapshots{{Name: "workloads-redis", Namespace: "workloads", Version: 3, ChartVersion: "0.9.1"}}
	in = fleet.Describe(hr)
	// With a target namespace helm-controller prefixes the release name.
	if in.Release != "workloads-redis" || in.ReleaseNamespace != "workloads" || in.ChartVersion != "0.9.1" {
		t.Errorf("with targetNamespace: %+v", in)
	}
	hr.Spec.ReleaseName = "cache"
	if in = fleet.Describe(hr); in.Release != "cache" {
		t.Errorf("with releaseName: %+v", in)
	}
}

func TestOverridesNameTheInstance(t *testing.T) {
	dir := chartDir(t, "named", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: dev\n  namespace: dev\n")
	cfg := loadChart(t, dir, fleet.Overrides("tenant-b", "named-b"))
	if cfg.Release.Name != "named-b" || cfg.Release.Namespace != "tenant-b" {
		t.Errorf("release %s/%s", cfg.Release.Namespace, cfg.Release.Name)
	}
	if e := cfg.HelmRelease.Enabled; e == nil || !*e || cfg.HelmRelease.Name != "named-b" || cfg.HelmRelease.Namespace != "tenant-b" {
		t.Errorf("HelmRelease %+v", cfg.HelmRelease)
	}
}

func TestEachRunsEveryInstanceAndKeepsEachError(t *testing.T) {
	found := []helmv2.HelmRelease{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "one"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "two"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "c", Name: "three"}},
	}
	dir := chartDir(t, "each", "")
	broken := errors.New("no workspace")
	ran := make([]string, len(found))
	errs := fleet.Each(context.Background(), found, 2, func(hr *helmv2.HelmRelease) (*core.Workspace, error) {
		if hr.Name == "two" {
			return nil, broken
		}
		return &core.Workspace{Config: loadChart(t, dir, fleet.Overrides(hr.Namespace, hr.Name))}, nil
	}, func(_ context.Context, n int, w *core.Workspace) error {
		ran[n] = w.Config.Release.Namespace + "/" + w.Config.Release.Name
		if n == 2 {
			return errors.New("step failed")
		}
		return nil
	})
	if errs[0] != nil || !errors.Is(errs[1], broken) || errs[2] == nil || errs[2].Error() != "step failed" {
		t.Errorf("errors %v", errs)
	}
	if !slices.Equal(ran, []string{"a/one", "", "c/three"}) {
		t.Errorf("ran %q: every instance but the one without a workspace, each as itself", ran)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	errs = fleet.Each(ctx, found, 1, func(*helmv2.HelmRelease) (*core.Workspace, error) { return &core.Workspace{}, nil },
		func(context.Context, int, *core.Workspace) error { return nil })
	for n, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("instance %d after Ctrl-C: %v, want it said as not started", n, err)
		}
	}
}

// A fleet's diff renders each instance with its own values against its
// own (here: absent) live objects, and groups what several get alike.
func TestDiffRendersEachInstanceAsItselfAndGroupsWhatIsAlike(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	dir := chartDir(t, "greeter", "")
	// Two in one namespace: their objects differ by the release's name
	// alone, which grouping takes out.
	instance(t, "greet", "alpha", "greeter", `{"message":"hi"}`, nil, nil)
	instance(t, "greet", "bravo", "greeter", `{"message":"hi"}`, nil, nil)
	instance(t, "greet-c", "greeter", "greeter", `{"message":"salut"}`, nil, func(hr *helmv2.HelmRelease) {
		hr.Spec.TargetNamespace = "greet-c-apps"
	})
	cfg := loadChart(t, dir, nil)
	found, err := fleet.List(ctx, env.Client, fleet.Query{Chart: cfg})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 3 {
		t.Fatalf("found %q", keys(found))
	}
	cluster := env.Cluster()
	insts := fleet.Diff(ctx, found, fleet.DiffOptions{Concurrency: 2, Open: func(hr *helmv2.HelmRelease) (*core.Workspace, error) {
		c := loadChart(t, dir, fleet.Overrides(hr.Namespace, hr.Name))
		return &core.Workspace{Config: c, Cluster: cluster}, nil
	}})
	for _, in := range insts {
		if in.Err != nil {
			t.Fatalf("%s: %v", in.Key(), in.Err)
		}
		if a, c, r := in.Result.Counts(); a != 1 || c != 0 || r != 0 {
			t.Errorf("%s: %d/%d/%d, want its ConfigMap added (nothing is installed)", in.Key(), a, c, r)
		}
	}
	byKey := map[string]fleet.Instance{}
	for _, in := range insts {
		byKey[in.Key()] = in
	}
	if c := byKey["greet-c/greeter"]; c.Release != "greet-c-apps-greeter" || c.ReleaseNamespace != "greet-c-apps" {
		t.Errorf("greet-c's release: %s/%s", c.ReleaseNamespace, c.Release)
	}
	added := byKey["greet-c/greeter"].Result.Changes[0]
	if added.Ref.Namespace != "greet-c-apps" || added.Ref.Name != "greet-c-apps-greeter-greeting" {
		t.Errorf("greet-c's ConfigMap is %s: rendered for its own release", added.Ref)
	}

	groups := fleet.GroupChanges(insts, false)
	if len(groups) != 2 {
		t.Fatalf("%d groups, want 2: the two greetings alike and the one in French", len(groups))
	}
	var alike, alone fleet.Group
	for _, g := range groups {
		if len(g.Instances) == 2 {
			alike = g
		} else {
			alone = g
		}
	}
	if !slices.Equal(alike.Instances, []string{"greet/alpha", "greet/bravo"}) {
		t.Errorf("the same change, different names: grouped %q", alike.Instances)
	}
	if !slices.Equal(alone.Instances, []string{"greet-c/greeter"}) || alone.Namespace != "greet-c-apps" || alone.Release != "greet-c-apps-greeter" {
		t.Errorf("the change only greet-c gets: %+v", alone)
	}
	if ungrouped := fleet.GroupChanges(insts, true); len(ungrouped) != 3 {
		t.Errorf("not grouped: %d groups, want one per instance", len(ungrouped))
	}
}
