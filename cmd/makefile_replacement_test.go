package cmd

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/repo/repotest"
)

// copySharedChart copies ../shared/charts/NAME into a temporary directory,
// skipping the test where the shared charts are absent.
func copySharedChart(t *testing.T, name string) string {
	t.Helper()
	src := filepath.Join(sharedCharts, name)
	if _, err := os.Stat(src); err != nil {
		t.Skipf("no shared chart at %s", src)
	}
	dst := filepath.Join(t.TempDir(), name)
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// exampleConfig installs examples/makefile-replacements/NAME.cozyhr.yaml
// into dir, pointing its internet URLs at local servers.
func exampleConfig(t *testing.T, dir, name string, urls map[string]string) {
	t.Helper()
	cfg := readFile(t, filepath.Join("..", "examples", "makefile-replacements", name+".cozyhr.yaml"))
	for from, to := range urls {
		if !strings.Contains(cfg, from) {
			t.Fatalf("%s.cozyhr.yaml has no %s", name, from)
		}
		cfg = strings.ReplaceAll(cfg, from, to)
	}
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), cfg)
}

// needBuildah skips the image half of a test without buildah.
func needBuildah(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("buildah"); err != nil {
		t.Skip("buildah is not installed (hack/tools.sh installs it)")
	}
}

// TestMetallbMakefileReplaced does what metallb's make update and make image
// did, with a local Helm repository and registry standing in for the
// internet.
func TestMetallbMakefileReplaced(t *testing.T) {
	helmHome(t)
	dir := copySharedChart(t, "metallb")
	// The upstream repository serves the chart metallb vendors today.
	ch, err := loader.LoadDir(filepath.Join(dir, "charts", "metallb"))
	if err != nil {
		t.Fatal(err)
	}
	pkgDir := t.TempDir()
	if _, err := chartutil.Save(ch, pkgDir); err != nil {
		t.Fatal(err)
	}
	srv, err := repotest.NewTempServerWithCleanup(t, filepath.Join(pkgDir, "*.tgz"))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Stop()
	exampleConfig(t, dir, "metallb", map[string]string{"https://metallb.github.io/metallb": srv.URL()})

	// make update: rm -rf charts, then helm pull --untar.
	if err := os.RemoveAll(filepath.Join(dir, "charts")); err != nil {
		t.Fatal(err)
	}
	r := cozyhr(t, "-C", dir, "update").expect(t, 0)
	if !strings.Contains(r.out, "Updated metallb in charts/metallb: (none) -> 0.16.1 (appVersion v0.16.1)") {
		t.Errorf("update output:\n%s", r.out)
	}
	cozyhr(t, "-C", dir, "show", "--offline").expect(t, 0)

	// make image: both targets built, pushed, and written into values.yaml.
	needBuildah(t)
	reg := localRegistry(t)
	t.Setenv("REGISTRY", reg+"/cozystack")
	t.Setenv("IMAGE_TAG", "v1.7.0")
	// The real Dockerfile starts FROM quay.io images that cannot be pulled
	// here; this one has the same targets and build argument.
	writeFile(t, filepath.Join(dir, "images/metallb/Dockerfile"), `ARG VERSION
FROM scratch AS controller
ARG VERSION
LABEL org.opencontainers.image.version=$VERSION
COPY Dockerfile /controller
FROM scratch AS speaker
ARG VERSION
LABEL org.opencontainers.image.version=$VERSION
COPY Dockerfile /speaker
`)
	before := readFile(t, filepath.Join(dir, "values.yaml"))
	cozyhr(t, "-C", dir, "image", "--plain-http").expect(t, 0)
	controller := registryDigest(t, reg+"/cozystack/metallb-controller:v1.7.0")
	speaker := registryDigest(t, reg+"/cozystack/metallb-speaker:v1.7.0")
	want := strings.NewReplacer(
		"repository: ghcr.io/cozystack/cozystack/metallb-controller", "repository: "+reg+"/cozystack/metallb-controller",
		"repository: ghcr.io/cozystack/cozystack/metallb-speaker", "repository: "+reg+"/cozystack/metallb-speaker",
	).Replace(before)
	want = replaceLine(t, want, "tag: v1.6.0@sha256:cb7321c5674509048dfbea7938378b84013d1370eca5ace7f9665fc79b4a8a05", "tag: v1.7.0@"+controller)
	want = replaceLine(t, want, "tag: v1.6.0@sha256:61ab7e2381f0897607b15df7cb5ba4d51a947c261c1c197fcda3b79c7a280016", "tag: v1.7.0@"+speaker)
	if got := readFile(t, filepath.Join(dir, "values.yaml")); got != want {
		t.Errorf("values.yaml differs beyond the four image scalars")
	}
}

func replaceLine(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("values.yaml has no %q", old)
	}
	return strings.Replace(s, old, new, 1)
}

// TestKubeovnMakefileReplaced does what kubeovn's make update (tarball,
// patch -p4, two seds) and make image did.
func TestKubeovnMakefileReplaced(t *testing.T) {
	dir := copySharedChart(t, "kubeovn")
	vendored := filepath.Join(dir, "charts", "kube-ovn")
	// Upstream is the vendored chart without cozystack's patch.
	upstream := filepath.Join(t.TempDir(), "kube-ovn-1.15.10", "charts", "kube-ovn")
	if err := os.CopyFS(upstream, os.DirFS(vendored)); err != nil {
		t.Fatal(err)
	}
	// mtu.diff names a/packages/system/kubeovn/charts/...: -p4 from the
	// archive's top directory, as the Makefile ran it from the chart.
	unpatch := exec.Command("patch", "-R", "-p4", "--batch", "--no-backup-if-mismatch", "-i", filepath.Join(dir, "patches", "mtu.diff"))
	unpatch.Dir = filepath.Dir(filepath.Dir(upstream))
	if out, err := unpatch.CombinedOutput(); err != nil {
		t.Fatalf("unpatch: %v\n%s", err, out)
	}
	srv := serveTarball(t, "/kubeovn/kube-ovn/archive/refs/tags/v1.15.10.tar.gz", treeFiles(t, filepath.Dir(filepath.Dir(filepath.Dir(upstream)))))
	exampleConfig(t, dir, "kubeovn", map[string]string{"https://github.com": srv.URL})
	before := filesUnder(t, vendored)

	r := cozyhr(t, "-C", dir, "update").expect(t, 0)
	if !strings.Contains(r.out, "Patch applied: patches/mtu.diff") || !strings.Contains(r.out, "Files: 0 added, 0 removed, 0 changed") {
		t.Errorf("update output:\n%s", r.out)
	}
	// Patched again, the chart is what was vendored, byte for byte.
	expectUnchanged(t, vendored, before)
	dockerfile := readFile(t, filepath.Join(dir, "images/kubeovn/Dockerfile"))
	if !strings.Contains(dockerfile, "\nARG VERSION=1.15.10\n") || !strings.Contains(dockerfile, "\nARG TAG=v1.15.10\n") {
		t.Errorf("Dockerfile ARGs not propagated:\n%s", dockerfile[:200])
	}

	needBuildah(t)
	reg := localRegistry(t)
	t.Setenv("REGISTRY", reg+"/cozystack")
	t.Setenv("IMAGE_TAG", "v1.7.0")
	writeFile(t, filepath.Join(dir, "images/kubeovn/Dockerfile"), "FROM scratch\nCOPY patches /patches\n")
	valuesBefore := readFile(t, filepath.Join(dir, "values.yaml"))
	cozyhr(t, "-C", dir, "image", "--plain-http").expect(t, 0)
	digest := registryDigest(t, reg+"/cozystack/kubeovn:v1.7.0")
	want := replaceLine(t, valuesBefore, "address: ghcr.io/cozystack/cozystack", "address: "+reg+"/cozystack")
	want = replaceLine(t, want, "tag: v1.15.10@sha256:741299cbd0081a786a6b60c460fa3156b3a42a38141c559dd8ac031f50c5504f", "tag: v1.7.0@"+digest)
	if got := readFile(t, filepath.Join(dir, "values.yaml")); got != want {
		t.Errorf("values.yaml differs beyond the registry and tag scalars")
	}
}

// treeFiles reads every file under root, keyed by its slash path.
func treeFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for rel, content := range filesUnder(t, root) {
		files[filepath.ToSlash(rel)] = content
	}
	return files
}
