package plan_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/plan"
	"github.com/cozyhr/cozyhr/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// chart writes a chart whose .cozyhr.yaml names its HelmRelease (or, with
// hr "", a plain release) and dependencies.
func chart(t *testing.T, root, name, ns, hr string, dependsOn ...string) string {
	t.Helper()
	dir := filepath.Join(root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: " + name + "\n  namespace: " + ns + "\n"
	if hr != "" {
		cfg += "helmRelease:\n  name: " + hr + "\n  namespace: " + ns + "\n"
	}
	if len(dependsOn) > 0 {
		cfg += "dependsOn: [" + strings.Join(dependsOn, ", ") + "]\n"
	}
	for file, content := range map[string]string{"Chart.yaml": "apiVersion: v2\nname: " + name + "\nversion: 0.1.0\n", ".cozyhr.yaml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func clusterOf(t *testing.T) *kube.Cluster {
	t.Helper()
	testenv.Need(t, env)
	return env.Cluster()
}

func helmRelease(t *testing.T, ns, name string, dependsOn ...helmv2.DependencyReference) {
	t.Helper()
	ctx := context.Background()
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: helmv2.HelmReleaseSpec{
		Interval: metav1.Duration{Duration: time.Hour}, DependsOn: dependsOn,
		Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: name, SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "charts"}}},
	}}
	if err := env.Client.Create(ctx, hr); err != nil {
		t.Fatal(err)
	}
}

func TestJobsReadWhatEachChartDependsOn(t *testing.T) {
	cluster := clusterOf(t)
	root := t.TempDir()
	helmRelease(t, "plan-db", "postgres")
	helmRelease(t, "plan-app", "api", helmv2.DependencyReference{Name: "postgres", Namespace: "plan-db"}, helmv2.DependencyReference{Name: "cache"})
	dirs := []string{
		chart(t, root, "db", "plan-db", "postgres"),
		chart(t, root, "api", "plan-app", "api", "plan-app/queue", "metrics"),
		chart(t, root, "plain", "plan-plain", ""),
		filepath.Join(root, "broken"),
	}
	jobs := plan.Jobs(context.Background(), cluster, dirs)
	if len(jobs) != 4 {
		t.Fatalf("%d jobs", len(jobs))
	}
	if jobs[0].Key != "plan-db/postgres" || len(jobs[0].DependsOn) != 0 || jobs[0].Name != dirs[0] {
		t.Errorf("db: %+v", jobs[0])
	}
	// The HelmRelease's spec.dependsOn (its namespace by default), then
	// .cozyhr.yaml's dependsOn.
	if want := []string{"plan-db/postgres", "plan-app/cache", "plan-app/queue", "plan-app/metrics"}; jobs[1].Key != "plan-app/api" || !slices.Equal(jobs[1].DependsOn, want) {
		t.Errorf("api: %+v, want depends on %q", jobs[1], want)
	}
	if jobs[2].Key != "plan-plain/plain" {
		t.Errorf("a plain release is keyed by its release: %+v", jobs[2])
	}
	if jobs[3].Key != "" || jobs[3].Name != dirs[3] {
		t.Errorf("a chart whose configuration does not load: %+v", jobs[3])
	}
	b, err := batch.Plan(jobs, batch.Options{Ordered: true})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Index(b.Order, 0) > slices.Index(b.Order, 1) {
		t.Errorf("order %v: the database before the API that depends on it", b.Order)
	}
}

func TestCheckRefusesTwoChartsOfOneReleaseAndWarnsOfTypos(t *testing.T) {
	cluster := clusterOf(t)
	helmRelease(t, "plan-check", "exists")
	jobs := []batch.Job{
		{Name: "charts/a", Key: "plan-check/a", DependsOn: []string{"plan-check/b", "plan-check/exists", "plan-check/typo"}},
		{Name: "charts/b", Key: "plan-check/b"},
		{Name: "charts/broken"},
	}
	var warn bytes.Buffer
	if err := plan.Check(context.Background(), cluster, jobs, &warn); err != nil {
		t.Fatal(err)
	}
	if got := warn.String(); strings.Count(got, "Warning:") != 1 || !strings.Contains(got, "charts/a depends on plan-check/typo, which is neither a chart of this run nor a HelmRelease in the cluster") {
		t.Errorf("warnings:\n%s", got)
	}
	twice := append(jobs, batch.Job{Name: "charts/b-again", Key: "plan-check/b"})
	err := plan.Check(context.Background(), cluster, twice, &warn)
	if err == nil || !strings.Contains(err.Error(), "charts charts/b and charts/b-again both stand for plan-check/b") {
		t.Errorf("two charts of one release: %v", err)
	}
}
