package cmd

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/core/snapshot"
)

// writeSnapshot writes a snapshot of instances of the charts named, each
// "chart ns" with values.
func writeSnapshot(t *testing.T, instances map[string]map[string]any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "prod.json")
	w, err := snapshot.Create(path, snapshot.Header{Taken: time.Now(), Cluster: "sha256:00", Capabilities: snapshot.Capabilities{KubeVersion: "v1.37.2"}})
	if err != nil {
		t.Fatal(err)
	}
	for key, values := range instances {
		chart, ns, _ := strings.Cut(key, " ")
		hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: chart},
			Spec: helmv2.HelmReleaseSpec{Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: chart}}}}
		if err := w.Add(&snapshot.Instance{Chart: chart, HelmRelease: hr, Values: values}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// Over many charts, a snapshot's review gives one document with each
// changed chart's fleet, and --shard splits the instances, not the charts.
func TestASnapshotReviewOverManyCharts(t *testing.T) {
	g := newGitRepo(t)
	for _, c := range []string{"alpha", "beta", "gamma"} {
		g.write(c+"/Chart.yaml", "apiVersion: v2\nname: "+c+"\nversion: 0.1.0\n")
		g.write(c+"/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  size: {{ .Values.size | default \"s\" | quote }}\n")
	}
	base := g.commit("charts")
	for _, c := range []string{"alpha", "beta"} {
		g.write(c+"/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  size: {{ .Values.size | default \"m\" | quote }}\n")
	}
	snap := writeSnapshot(t, map[string]map[string]any{
		"alpha t1": {}, "alpha t2": {"size": "xl"}, "alpha t3": {}, "alpha t4": {},
		"beta t1": {}, "gamma t1": {},
	})
	r := cozyhrNoCluster(t, "-R", g.dir, "--all", "diff", "--base", base, "--instances", "--snapshot", snap, "-o", "json").expect(t, 0)
	var doc struct {
		Kind  string
		Items []struct {
			Chart   string
			Reports []struct {
				Kind      string
				Instances []struct{ Namespace, Name string }
			}
		}
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("%v:\n%s", err, r.out)
	}
	got := []string{}
	for _, it := range doc.Items {
		for _, rep := range it.Reports {
			for _, in := range rep.Instances {
				got = append(got, filepath.Base(it.Chart)+":"+in.Namespace)
			}
		}
	}
	slices.Sort(got) // in the snapshot's order, which a map made here
	if doc.Kind != "DiffReportList" || strings.Join(got, ",") != "alpha:t1,alpha:t2,alpha:t3,alpha:t4,beta:t1" {
		t.Errorf("kind %s, instances %v:\n%s\n%s", doc.Kind, got, r.out, r.err)
	}

	var sharded []string
	for k := 1; k <= 2; k++ {
		r := cozyhrNoCluster(t, "-R", g.dir, "--all", "diff", "--base", base, "--instances", "--snapshot", snap, "--shard", fmt.Sprintf("%d/2", k)).expect(t, 0)
		for _, line := range strings.Split(r.out, "\n") {
			if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[0], "t") && strings.Contains(f[0], "/") {
				sharded = append(sharded, f[0])
			}
		}
	}
	if len(sharded) != 5 {
		t.Errorf("shards hold %v, want the 5 instances of the 2 changed charts once each", sharded)
	}
}
