package fleet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/snapshot"
	"github.com/cozyhr/cozyhr/test/testenv"
)

// lookupChart is a chart whose template looks up a Secret.
func lookupChart(tb testing.TB, name string) string {
	dir := chartDir(tb, name, "")
	tpl := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-seen\ndata:\n" +
		"  token: {{ (lookup \"v1\" \"Secret\" .Release.Namespace \"upstream\").data | default dict | dig \"token\" \"\" | quote }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "seen.yaml"), []byte(tpl), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

func TestTakeRecordsValuesAndLookupsWithNoSecretInClear(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	dir := lookupChart(t, "takes")
	const fromValues, fromLookup = "password-in-valuesFrom-8812", "token-looked-up-4471"
	for _, ns := range []string{"take-a", "take-b"} {
		instance(t, ns, "takes", "takes", `{"message": "hi `+ns+`"}`, nil, func(hr *helmv2.HelmRelease) {
			hr.Spec.ValuesFrom = []helmv2.ValuesReference{{Kind: "Secret", Name: "creds", ValuesKey: "password", TargetPath: "password"}}
		})
		for _, s := range []*corev1.Secret{
			{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: ns}, StringData: map[string]string{"password": fromValues}},
			{ObjectMeta: metav1.ObjectMeta{Name: "upstream", Namespace: ns}, StringData: map[string]string{"token": fromLookup}},
		} {
			if err := env.Client.Create(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "snap.json")
	sum, err := fleet.Take(ctx, path, fleet.TakeOptions{Dirs: []string{dir}, Cluster: env.Cluster(), Concurrency: 2, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Instances != 2 || sum.Charts != 1 {
		t.Errorf("summary %+v", sum)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), fromValues) || strings.Contains(string(data), fromLookup) {
		t.Fatalf("a secret value in clear:\n%s", data)
	}
	if _, err := snapshot.Open(path, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	var placeholders []string
	err = snapshot.Each(path, func(in *snapshot.Instance) error {
		if len(in.Lookups) != 1 || in.Lookups[0].Name != "upstream" || in.Error != "" {
			t.Errorf("%s: lookups %v, error %q", in.Key(), in.Lookups, in.Error)
		}
		placeholders = append(placeholders, fmt.Sprint(in.Values["password"]))
		if in.Values["message"] != "hi "+in.HelmRelease.Namespace {
			t.Errorf("%s: values %v", in.Key(), in.Values)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(placeholders) != 2 || placeholders[0] != placeholders[1] || !strings.HasPrefix(placeholders[0], snapshot.PlaceholderPrefix) {
		t.Errorf("one secret value in two instances, placeholders %v: want one placeholder for both", placeholders)
	}
}

// BenchmarkTake takes a snapshot of 200, then 1,000 HelmReleases of 20 charts from the
// local API server (no releases installed: their storage is read and found
// empty): docs/performance.md has the figures.
func BenchmarkTake(b *testing.B) {
	if env == nil {
		b.Skip("no API server")
	}
	var dirs []string
	for c := range 20 {
		name := fmt.Sprintf("bench%02d", c)
		dirs = append(dirs, lookupChart(b, name))
		for i := range 10 {
			instance(b, fmt.Sprintf("bench-%02d-%d", c, i), name, name, `{"message": "m"}`, nil, nil)
		}
	}
	path := filepath.Join(b.TempDir(), "snap.json")
	take := func(n int) func(b *testing.B) {
		return func(b *testing.B) {
			for range b.N {
				sum, err := fleet.Take(context.Background(), path, fleet.TakeOptions{Dirs: dirs, Cluster: env.Cluster(), Concurrency: 2, Now: time.Now()})
				if err != nil || sum.Instances != n {
					b.Fatal(err, sum)
				}
			}
			b.StopTimer()
			if fi, err := os.Stat(path); err == nil {
				b.ReportMetric(float64(fi.Size())/1e6, "MB")
			}
		}
	}
	// Sub-benchmarks, so that the instances are made once each.
	b.Run("200", take(200))
	for c := range 20 {
		for i := 10; i < 50; i++ {
			instance(b, fmt.Sprintf("bench-%02d-%d", c, i), fmt.Sprintf("bench%02d", c), fmt.Sprintf("bench%02d", c), `{"message": "m"}`, nil, nil)
		}
	}
	b.Run("1000", take(1000))
}
