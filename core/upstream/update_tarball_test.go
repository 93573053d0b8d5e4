package upstream_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/upstream"
)

// releaseArchive is a GitHub-style release tarball: everything below a
// top directory named after the release, the chart under charts/app.
func releaseArchive(t *testing.T, version string, extra map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	files := map[string]string{
		"charts/app/Chart.yaml":        "apiVersion: v2\nname: app\nversion: " + version + "\nappVersion: \"" + version + "\"\n",
		"charts/app/values.yaml":       "replicas: 1\n",
		"charts/app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
		"README.md":                    "not the chart\n",
	}
	for k, v := range extra {
		files[k] = v
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		content := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: "app-" + version + "/" + name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// umbrella is a chart directory whose .cozyhr.yaml vendors the upstream
// tarball served at url.
func umbrella(t *testing.T, url, version string) *config.Chart {
	t.Helper()
	dir := t.TempDir()
	cfg := "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nupstream:\n  tarball:\n    url: " + url + "\n    path: charts/app\n"
	if version != "" {
		cfg += "    version: " + version + "\n"
	}
	for name, content := range map[string]string{"Chart.yaml": "apiVersion: v2\nname: umbrella\nversion: 0.1.0\n", ".cozyhr.yaml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUpdateVendorsAChartFromAReleaseTarball(t *testing.T) {
	archives := map[string][]byte{
		"/app-1.0.0.tar.gz": releaseArchive(t, "1.0.0", nil),
		"/app-1.1.0.tar.gz": releaseArchive(t, "1.1.0", map[string]string{"charts/app/templates/svc.yaml": "kind: Service\n"}),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, ok := archives[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	defer srv.Close()
	ctx := context.Background()
	url := srv.URL + "/app-{{ .Version }}.tar.gz"

	// A URL that needs a version nobody gave.
	_, err := upstream.Update(ctx, umbrella(t, url, ""), upstream.UpdateOptions{}, &bytes.Buffer{})
	var nv *upstream.NoVersionError
	if !errors.As(err, &nv) {
		t.Fatalf("no version: %v", err)
	}

	cfg := umbrella(t, url, "1.0.0")
	dest := filepath.Join(cfg.Dir, "charts", "app")
	dry, err := upstream.Update(ctx, cfg, upstream.UpdateOptions{DryRun: true}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !dry.DryRun || dry.NewVersion != "1.0.0" || dry.Dest != filepath.Join("charts", "app") || len(dry.Added) == 0 {
		t.Errorf("dry run: %+v", dry)
	}
	if _, err := os.Stat(dest); !os.IsNotExist(err) {
		t.Fatalf("a dry run wrote %s", dest)
	}

	res, err := upstream.Update(ctx, cfg, upstream.UpdateOptions{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NewVersion != "1.0.0" || res.AppVersion != "1.0.0" || res.Chart != "app" {
		t.Errorf("update: %+v", res)
	}
	if data, err := os.ReadFile(filepath.Join(dest, "templates", "cm.yaml")); err != nil || !strings.Contains(string(data), "ConfigMap") {
		t.Errorf("the vendored chart: %q, %v", data, err)
	}
	if _, err := os.Stat(filepath.Join(dest, "README.md")); !os.IsNotExist(err) {
		t.Error("files outside the chart's path were vendored")
	}

	// A newer version, given as an option: only what differs is said.
	res, err = upstream.Update(ctx, cfg, upstream.UpdateOptions{Version: "1.1.0"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if res.OldVersion != "1.0.0" || res.NewVersion != "1.1.0" || !slices.Contains(res.Added, filepath.Join("templates", "svc.yaml")) || !slices.Contains(res.Changed, "Chart.yaml") {
		t.Errorf("upgrade: %+v", res)
	}
	if len(res.Removed) != 0 {
		t.Errorf("removed %q", res.Removed)
	}

	// A version the server does not have changes nothing.
	if _, err := upstream.Update(ctx, cfg, upstream.UpdateOptions{Version: "9.9.9"}, &bytes.Buffer{}); err == nil {
		t.Error("a missing archive was accepted")
	}
	if data, _ := os.ReadFile(filepath.Join(dest, "Chart.yaml")); !strings.Contains(string(data), "1.1.0") {
		t.Errorf("a failed update touched the chart: %s", data)
	}
}
