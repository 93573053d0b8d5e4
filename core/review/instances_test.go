package review_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/review"
	"github.com/cozyhr/cozyhr/core/snapshot"
)

// fleetRepo is a chart committed once and changed in the working tree,
// and a snapshot of n instances of it, each with values of its own.
func fleetRepo(tb testing.TB, n int) (dir, base, snap string, h *snapshot.Header) {
	tb.Helper()
	r := newRepo(tb)
	r.Write(map[string]string{
		"fleet/Chart.yaml":  "apiVersion: v2\nname: fleet\nversion: 0.1.0\n",
		"fleet/values.yaml": "replicas: 1\n",
		"fleet/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n" +
			"  replicas: {{ .Values.replicas | quote }}\n  region: {{ (lookup \"v1\" \"ConfigMap\" \"platform\" \"settings\").data | default dict | dig \"region\" \"none\" | quote }}\n",
		"fleet/templates/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  replicas: {{ .Values.replicas }}\n" +
			"  selector:\n    matchLabels: {app: x}\n  template:\n    metadata:\n      labels: {app: x}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.27\n",
	})
	base = r.Commit("fleet")
	r.Write(map[string]string{"fleet/templates/deploy.yaml": strings.Replace(readFileTB(tb, r.Path("fleet/templates/deploy.yaml")), "nginx:1.27", "nginx:1.28", 1)})
	snap = filepath.Join(tb.TempDir(), "snap.json")
	w, err := snapshot.Create(snap, snapshot.Header{Taken: time.Now(), Cluster: "sha256:00", Capabilities: snapshot.Capabilities{KubeVersion: "v1.37.2"}})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		ns := fmt.Sprintf("tenant-%04d", i)
		if err := w.Add(&snapshot.Instance{
			Chart: "fleet",
			HelmRelease: &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fleet"},
				Spec: helmv2.HelmReleaseSpec{Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "fleet"}}}},
			Values:  map[string]any{"replicas": float64(1 + i%3)},
			Lookups: []snapshot.Lookup{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "platform", Name: "settings", Result: map[string]any{"data": map[string]any{"region": "eu"}}}},
		}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	if h, err = snapshot.Open(snap, 0, time.Now()); err != nil {
		tb.Fatal(err)
	}
	return r.Path("fleet"), base, snap, h
}

func TestEveryInstanceOfASnapshotIsReviewedOnceAcrossShards(t *testing.T) {
	dir, base, snap, h := fleetRepo(t, 7)
	var trees review.Trees
	defer trees.Close()
	seen := map[string]int{}
	for k := 1; k <= 3; k++ {
		f, err := trees.ReviewInstances(context.Background(), dir, review.Options{Base: base},
			review.Production{Snapshot: snap, Header: h, Shard: k, Shards: 3, Concurrency: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range f.Instances {
			seen[in.Key()]++
			if in.Err != nil || in.Result == nil || !in.Result.HasChanges() {
				t.Errorf("%s: %v %v", in.Key(), in.Err, in.Result)
			}
		}
	}
	if len(seen) != 7 {
		t.Errorf("reviewed %d instances, want 7: %v", len(seen), seen)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s reviewed %d times", k, n)
		}
	}
}

// An instance whose values the head's schema refuses is a row with its
// error; the others are reviewed still.
func TestAnInstanceTheNewSchemaRefusesIsARow(t *testing.T) {
	dir, base, snap, h := fleetRepo(t, 3)
	schema := `{"type": "object", "properties": {"replicas": {"type": "integer", "maximum": 2}}}`
	if err := os.WriteFile(filepath.Join(dir, "values.schema.json"), []byte(schema), 0o644); err != nil {
		t.Fatal(err)
	}
	f := reviewFleet(t, dir, base, snap, h)
	var failed, reviewed []string
	for _, in := range f.Instances {
		if in.Err != nil {
			failed = append(failed, in.Key())
			if !strings.Contains(in.Err.Error(), "replicas") {
				t.Errorf("%s: the error does not name the field: %v", in.Key(), in.Err)
			}
		} else if in.Result != nil {
			reviewed = append(reviewed, in.Key())
		}
	}
	// tenant-0002 has replicas 3.
	if strings.Join(failed, ",") != "tenant-0002/fleet" || len(reviewed) != 2 {
		t.Errorf("failed %v, reviewed %v", failed, reviewed)
	}
}

// A key the new chart's values.yaml drops, that instances set: each says
// so (values-unread).
func TestValuesTheNewChartDropsAreNamedPerInstance(t *testing.T) {
	dir, base, snap, h := fleetRepo(t, 2)
	if err := os.WriteFile(filepath.Join(dir, "values.yaml"), []byte("count: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := reviewFleet(t, dir, base, snap, h)
	for _, in := range f.Instances {
		if in.Err != nil || len(in.Result.Findings) != 1 || in.Result.Findings[0].Rule != hazard.ValuesUnread || !strings.HasPrefix(in.Result.Findings[0].Message, "replicas is set by this instance") {
			t.Errorf("%s: %v %+v", in.Key(), in.Err, in.Result)
		}
	}
}

// BenchmarkReviewInstances reviews one changed chart for every instance of
// a snapshot: docs/performance.md has the figures.
func BenchmarkReviewInstances(b *testing.B) {
	for _, n := range []int{50, 200, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir, base, snap, h := fleetRepo(b, n)
			var trees review.Trees
			defer trees.Close()
			b.ResetTimer()
			for range b.N {
				f, err := trees.ReviewInstances(context.Background(), dir, review.Options{Base: base},
					review.Production{Snapshot: snap, Header: h, Concurrency: 2})
				if err != nil || len(f.Instances) != n {
					b.Fatal(err)
				}
			}
		})
	}
}

func readFileTB(tb testing.TB, path string) string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

// reviewFleet reviews every instance of the chart in dir in the snapshot
// between base and the working tree.
func reviewFleet(t *testing.T, dir, base, snap string, h *snapshot.Header) *review.Fleet {
	t.Helper()
	var trees review.Trees
	defer trees.Close()
	f, err := trees.ReviewInstances(context.Background(), dir, review.Options{Base: base}, review.Production{Snapshot: snap, Header: h})
	if err != nil {
		t.Fatal(err)
	}
	return f
}
