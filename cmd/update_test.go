package cmd

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo/repotest"

	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// helmHome keeps Helm's config and caches inside the test.
func helmHome(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HELM_CACHE_HOME", filepath.Join(home, "cache"))
	t.Setenv("HELM_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("HELM_DATA_HOME", filepath.Join(home, "data"))
}

// widgetChart is a small upstream chart; its ConfigMap template is what the
// test patches change.
func widgetChart(version, appVersion, greeting string) *chart.Chart {
	return &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "widget", Version: version, AppVersion: appVersion},
		Values:   map[string]any{"greeting": greeting},
		Templates: []*chart.File{{Name: "templates/cm.yaml", Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: widget
data:
  greeting: {{ .Values.greeting | quote }}
  version: ` + appVersion + `
`)}},
		Raw: []*chart.File{{Name: "values.yaml", Data: []byte("greeting: " + greeting + "\n")}},
	}
}

// packageCharts saves charts as .tgz files in a new directory.
func packageCharts(t *testing.T, charts ...*chart.Chart) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range charts {
		if _, err := chartutil.Save(c, dir); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// umbrella makes a chart directory that vendors widget under charts/.
func umbrella(t *testing.T, cozyhrYAML string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "app")
	for path, content := range map[string]string{
		"Chart.yaml": "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"values.yaml": `# Values of the app umbrella chart.
widget:
  # The image cozyhr image writes.
  image:
    repository: example.com/widget
    tag: "2.0.0"

  greeting: hello # kept as is
`,
		"images/widget/Dockerfile":           "FROM scratch\nARG VERSION=2.0.0\nCOPY hello.txt /hello.txt\n",
		"images/widget/hello.txt":            "hello\n",
		"patches/01-greeting.diff":           greetingPatch,
		".cozyhr.yaml":                       cozyhrYAML,
		"charts/widget/Chart.yaml":           "apiVersion: v2\nname: widget\nversion: 0.9.0\nappVersion: 1.9.0\n",
		"charts/widget/templates/stale.yaml": "# removed by update\n",
	} {
		writeFile(t, mkdirFor(t, filepath.Join(dir, path)), content)
	}
	return dir
}

func mkdirFor(t *testing.T, path string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// greetingPatch is written against the chart directory, as git diff there
// would write it: strip 1.
const greetingPatch = `diff --git a/charts/widget/templates/cm.yaml b/charts/widget/templates/cm.yaml
--- a/charts/widget/templates/cm.yaml
+++ b/charts/widget/templates/cm.yaml
@@ -5,2 +5,3 @@
 data:
+  patched: "true"
   greeting: {{ .Values.greeting | quote }}
`

const conflictingPatch = `--- a/charts/widget/templates/cm.yaml
+++ b/charts/widget/templates/cm.yaml
@@ -4,3 +4,3 @@
   name: widget
 data:
-  greeting: {{ .Values.salutation | quote }}
+  greeting: {{ .Values.salutation | upper | quote }}
`

const updateConfig = `apiVersion: cozyhr.io/v1alpha1
kind: Chart
release:
  name: app
  namespace: default
upstream:
%s
  propagate:
    - from: appVersion
      file: images/widget/Dockerfile
      match: "ARG VERSION=.*"
      replace: "ARG VERSION={{ .AppVersion }}"
    - from: appVersion
      valuesPath: widget.image.tag
`

// filesUnder reads every file under dir, to prove a failed update wrote nothing.
func filesUnder(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func expectUnchanged(t *testing.T, dir string, before map[string]string) {
	t.Helper()
	after := filesUnder(t, dir)
	for f, b := range before {
		if after[f] != b {
			t.Errorf("%s changed", f)
		}
	}
	for f := range after {
		if _, ok := before[f]; !ok {
			t.Errorf("%s appeared", f)
		}
	}
}

func TestUpdateFromHelmRepository(t *testing.T) {
	helmHome(t)
	charts := packageCharts(t, widgetChart("1.0.0", "2.0.0", "hi"), widgetChart("1.0.3", "2.0.3", "hi"), widgetChart("1.1.0", "2.1.0", "hi"))
	srv, err := repotest.NewTempServerWithCleanup(t, filepath.Join(charts, "*.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	dir := umbrella(t, fmt.Sprintf(updateConfig, "  helm:\n    repo: "+srv.URL()+"\n    chart: widget\n    version: \"~1.0\""))

	// --dry-run reports and writes nothing.
	before := filesUnder(t, dir)
	dry := cozyhr(t, "-C", dir, "update", "--dry-run").expect(t, 0)
	golden(t, "update/dry-run", dry.out)
	expectUnchanged(t, dir, before)

	r := cozyhr(t, "-C", dir, "update").expect(t, 0)
	golden(t, "update/helm-repo", r.out)
	if !strings.Contains(r.err, "Fetching widget from "+srv.URL()+" version ~1.0") {
		t.Errorf("stderr: %s", r.err)
	}
	cm := readFile(t, filepath.Join(dir, "charts/widget/templates/cm.yaml"))
	if !strings.Contains(cm, `patched: "true"`) || !strings.Contains(cm, "version: 2.0.3") {
		t.Errorf("charts/widget is not 1.0.3 patched:\n%s", cm)
	}
	if _, err := os.Stat(filepath.Join(dir, "charts/widget/templates/stale.yaml")); !os.IsNotExist(err) {
		t.Errorf("the old vendored copy was not replaced")
	}
	if got := readFile(t, filepath.Join(dir, "images/widget/Dockerfile")); got != "FROM scratch\nARG VERSION=2.0.3\nCOPY hello.txt /hello.txt\n" {
		t.Errorf("Dockerfile:\n%s", got)
	}
	if got := readFile(t, filepath.Join(dir, "values.yaml")); !strings.Contains(got, "    tag: \"2.0.3\"\n") || !strings.Contains(got, "# kept as is") {
		t.Errorf("values.yaml:\n%s", got)
	}

	// --version overrides; the same patch applies again.
	r = cozyhr(t, "-C", dir, "update", "--version", "1.1.0").expect(t, 0)
	if !strings.Contains(r.out, "1.0.3 -> 1.1.0 (appVersion 2.1.0)") {
		t.Errorf("output:\n%s", r.out)
	}

	// A patch that does not apply changes nothing and says how to reproduce.
	writeFile(t, filepath.Join(dir, "patches/02-conflict.diff"), conflictingPatch)
	before = filesUnder(t, dir)
	r = cozyhr(t, "-C", dir, "update", "--version", "1.0.0").expect(t, 1)
	for _, want := range []string{"patch patches/02-conflict.diff does not apply; nothing was changed.", "Hunk #1 FAILED", "To reproduce on the fetched chart", "patch -p1 < " + filepath.Join(dir, "patches/02-conflict.diff")} {
		if !strings.Contains(r.err, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.err)
		}
	}
	expectUnchanged(t, dir, before)
	if kept := regexpFind(`fetched chart \(kept in ([^)]+)\)`, r.err); kept != "" {
		os.RemoveAll(filepath.Dir(kept))
	}
}

func regexpFind(pattern, s string) string {
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if len(m) < 2 {
		return ""
	}
	return m[1]
}

func TestUpdateNetworkFailureChangesNothing(t *testing.T) {
	helmHome(t)
	closed := httptest.NewServer(http.NotFoundHandler())
	url := closed.URL
	closed.Close()
	dir := umbrella(t, fmt.Sprintf(updateConfig, "  helm:\n    repo: "+url+"\n    chart: widget"))
	before := filesUnder(t, dir)
	r := cozyhr(t, "-C", dir, "update").expect(t, 1)
	if !strings.Contains(r.err, "fetch widget from "+url) || !strings.Contains(r.err, "connection refused") {
		t.Errorf("stderr:\n%s", r.err)
	}
	expectUnchanged(t, dir, before)
}

func TestUpdateFromOCIRegistry(t *testing.T) {
	helmHome(t)
	reg := httptest.NewServer(ggcrregistry.New(ggcrregistry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	host := strings.TrimPrefix(reg.URL, "http://")
	rc, err := registry.NewClient(registry.ClientOptPlainHTTP(), registry.ClientOptWriter(&bytes.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	charts := packageCharts(t, widgetChart("1.1.0", "2.1.0", "hi"), widgetChart("1.2.0", "2.2.0", "hi"), widgetChart("2.0.0", "3.0.0", "hi"))
	for _, version := range []string{"1.1.0", "1.2.0", "2.0.0"} {
		data, err := os.ReadFile(filepath.Join(charts, "widget-"+version+".tgz"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rc.Push(data, host+"/charts/widget:"+version); err != nil {
			t.Fatal(err)
		}
	}
	dir := umbrella(t, fmt.Sprintf(updateConfig, "  oci:\n    url: oci://"+host+"/charts/widget\n    version: 1.1.0"))
	r := cozyhr(t, "-C", dir, "update", "--plain-http").expect(t, 0)
	if !strings.Contains(r.out, "Updated widget in charts/widget: 0.9.0 -> 1.1.0 (appVersion 2.1.0)") || !strings.Contains(r.out, "Patch applied: patches/01-greeting.diff") {
		t.Errorf("output:\n%s\nstderr:\n%s", r.out, r.err)
	}
	// A constraint picks the newest tag that meets it, as helm pull does.
	r = cozyhr(t, "-C", dir, "update", "--plain-http", "--version", "^1").expect(t, 0)
	if !strings.Contains(r.out, "1.1.0 -> 1.2.0 (appVersion 2.2.0)") {
		t.Errorf("--version ^1: output:\n%s\nstderr:\n%s", r.out, r.err)
	}
}

// serveTarball serves files (path in the archive: content) as a .tar.gz
// at urlPath, and 404 elsewhere.
func serveTarball(t *testing.T, urlPath string, files map[string]string) *httptest.Server {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
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
	data := buf.Bytes()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != urlPath {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestUpdateFromTarball(t *testing.T) {
	c := widgetChart("1.1.0", "2.1.0", "hi")
	files := map[string]string{
		"widget-2.1.0/README.md":                       "not part of the chart\n",
		"widget-2.1.0/charts/widget/Chart.yaml":        "apiVersion: v2\nname: widget\nversion: 1.1.0\nappVersion: 2.1.0\n",
		"widget-2.1.0/charts/widget/values.yaml":       "greeting: hi\n",
		"widget-2.1.0/charts/widget/templates/cm.yaml": string(c.Templates[0].Data),
	}
	srv := serveTarball(t, "/archive/v2.1.0.tar.gz", files)
	dir := umbrella(t, fmt.Sprintf(updateConfig, "  tarball:\n    url: "+srv.URL+"/archive/v{{ .Version }}.tar.gz\n    path: charts/widget\n    version: 2.0.0"))
	// The configured version 2.0.0 does not exist: a clear 404.
	r := cozyhr(t, "-C", dir, "update").expect(t, 1)
	if !strings.Contains(r.err, "/archive/v2.0.0.tar.gz: 404 Not Found") {
		t.Errorf("stderr:\n%s", r.err)
	}
	r = cozyhr(t, "-C", dir, "update", "--version", "2.1.0").expect(t, 0)
	golden(t, "update/tarball", r.out)
}
