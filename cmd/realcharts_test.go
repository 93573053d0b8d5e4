package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// libraryChart writes a chart that links a library chart under charts/ by
// symlink, as platform repositories share helpers, and no .cozyhr.yaml.
func libraryChart(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	lib := filepath.Join(root, "library", "lib")
	put(t, filepath.Join(lib, "Chart.yaml"), "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n")
	put(t, filepath.Join(lib, "templates", "_name.tpl"), `{{- define "lib.name" -}}{{ .Release.Name }}-app{{- end -}}`+"\n")
	app := filepath.Join(root, "apps", "app")
	put(t, filepath.Join(app, "Chart.yaml"), "apiVersion: v2\nname: app\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: 0.1.0\n")
	put(t, filepath.Join(app, "templates", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include \"lib.name\" . }}\n")
	if err := os.MkdirAll(filepath.Join(app, "charts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "..", "library", "lib"), filepath.Join(app, "charts", "lib")); err != nil {
		t.Fatal(err)
	}
	return app
}

// put writes a file, making its directory.
func put(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, content)
}

// Helm's own info lines ("found symbolic link in path") are not printed
// for a library chart linked under charts/, a normal layout; --debug shows
// them as Helm's.
func TestALinkedLibraryChartPrintsNoHelmLogLines(t *testing.T) {
	app := libraryChart(t)
	r := cozyhr(t, "-C", app, "show", "--offline", "--plain", "-n", "apps", "web").expect(t, 0)
	if !strings.Contains(r.out, "name: web-app") {
		t.Errorf("the library's helper was not used:\n%s", r.out)
	}
	if strings.Contains(r.err, "INFO") || strings.Contains(r.err, "symbolic link") {
		t.Errorf("Helm's log line leaked:\n%s", r.err)
	}
	debug := cozyhr(t, "-C", app, "show", "--offline", "--plain", "-n", "apps", "web", "--debug").expect(t, 0)
	if !strings.Contains(debug.err, "helm: found symbolic link in path") {
		t.Errorf("--debug does not show Helm's info:\n%s", debug.err)
	}
}

// Without a .cozyhr.yaml the notice says where the release's name came
// from: the NAME argument, the chart, or a package.mk Makefile.
func TestTheNoticeSaysWhereTheReleaseNameCameFrom(t *testing.T) {
	app := libraryChart(t)
	named := cozyhr(t, "-C", app, "show", "--offline", "--plain", "-n", "apps", "s3manager-system").expect(t, 0)
	if strings.Contains(named.err, "named after the chart") || !strings.Contains(named.err, `using release "s3manager-system" in namespace "apps", as named`) {
		t.Errorf("NAME given:\n%s", named.err)
	}
	// NAME may be the chart's own name: it was still given.
	sameName := cozyhr(t, "-C", app, "show", "--offline", "--plain", "-n", "apps", "app").expect(t, 0)
	if strings.Contains(sameName.err, "named after the chart") || !strings.Contains(sameName.err, `using release "app" in namespace "apps", as named`) {
		t.Errorf("NAME equal to the chart's name:\n%s", sameName.err)
	}
	byChart := cozyhr(t, "-C", app, "show", "--offline", "--plain", "-n", "apps").expect(t, 0)
	if !strings.Contains(byChart.err, `using release "app" in namespace "apps", named after the chart`) {
		t.Errorf("no NAME:\n%s", byChart.err)
	}
	writeFile(t, filepath.Join(app, "Makefile"), "export NAME=app-system\nexport NAMESPACE=cozy-$(NAME)\n\ninclude ../../../hack/package.mk\n")
	byMakefile := cozyhr(t, "-C", app, "show", "--offline", "--plain").expect(t, 0)
	if !strings.Contains(byMakefile.err, `using release "app-system" in namespace "cozy-app-system", as its Makefile names them (NAME, NAMESPACE)`) || !strings.Contains(byMakefile.out, "name: app-system-app") {
		t.Errorf("package.mk Makefile:\n%s\n%s", byMakefile.err, byMakefile.out)
	}
	// A Makefile that sets NAME alone is not credited with the namespace.
	writeFile(t, filepath.Join(app, "Makefile"), "export NAME=app-system\n\ninclude ../../../hack/package.mk\n")
	nameOnly := cozyhr(t, "-C", app, "show", "--offline", "--plain", "-n", "apps").expect(t, 0)
	if !strings.Contains(nameOnly.err, `using release "app-system" in namespace "apps", as its Makefile names it (NAME)`) {
		t.Errorf("a Makefile with NAME alone:\n%s", nameOnly.err)
	}
}
