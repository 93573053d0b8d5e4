package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tree writes files under a temporary directory and returns it.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const defaultsFile = `apiVersion: cozyhr.io/v1alpha1
kind: Defaults
charts:
  - match: apps/*
    release: {name: "{dir}-app", namespace: tenant-root}
    valuesFiles: [platform/values.yaml]
    values: {_namespace: {host: example.org}}
    render: {kubeVersion: 1.31.0, lookups: platform/objects.yaml}
    cases:
      ha: {valuesFiles: [platform/ha.yaml]}
  - match: [system/**, extra]
    release: {namespace: cozy-system}
`

// A chart without a .cozyhr.yaml gets what the first entry matching its
// path gives, paths from the defaults file's directory; its own file and
// its Makefile win where they say something.
func TestDefaultsFileGivesChartsWithoutTheirOwnFile(t *testing.T) {
	root := tree(t, map[string]string{
		FileName:                   defaultsFile,
		"apps/redis/Chart.yaml":    "apiVersion: v2\nname: redis\nversion: 0.1.0\n",
		"apps/own/Chart.yaml":      "apiVersion: v2\nname: own\nversion: 0.1.0\n",
		"apps/own/" + FileName:     "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {namespace: mine}\n",
		"system/deep/x/Chart.yaml": "apiVersion: v2\nname: x\nversion: 0.1.0\n",
		"system/deep/x/Makefile":   "NAMESPACE=cozy-x\n",
		"other/lone/Chart.yaml":    "apiVersion: v2\nname: lone\nversion: 0.1.0\n",
		"platform/values.yaml":     "_cluster: {name: root}\n",
		"platform/ha.yaml":         "replicas: 3\n",
	})
	c, err := Load(LoadOptions{Dir: filepath.Join(root, "apps", "redis")})
	if err != nil {
		t.Fatal(err)
	}
	if c.Release.Name != "redis-app" || c.Release.Namespace != "tenant-root" || c.Defaults != filepath.Join(root, FileName) || c.File != "" {
		t.Errorf("release %+v from %q (file %q)", c.Release, c.Defaults, c.File)
	}
	if len(c.ValuesFiles) != 1 || c.ValuesFiles[0] != filepath.Join(root, "platform", "values.yaml") || c.Values["_namespace"] == nil || c.Render.KubeVersion != "1.31.0" ||
		c.Render.Lookups != filepath.Join(root, "platform", "objects.yaml") {
		t.Errorf("values files %v, values %v, render %+v", c.ValuesFiles, c.Values, c.Render)
	}
	if cs := c.Cases["ha"]; len(cs.ValuesFiles) != 1 || cs.ValuesFiles[0] != filepath.Join(root, "platform", "ha.yaml") {
		t.Errorf("case ha: %+v", cs)
	}
	if own, err := Load(LoadOptions{Dir: filepath.Join(root, "apps", "own")}); err != nil || own.Release.Namespace != "mine" || own.Defaults != "" || own.ValuesFiles != nil {
		t.Errorf("a chart's own file does not win whole: %+v, %v", own, err)
	}
	if x, err := Load(LoadOptions{Dir: filepath.Join(root, "system", "deep", "x")}); err != nil || x.Release.Namespace != "cozy-x" || x.NamespaceFrom != NamedByMakefile {
		t.Errorf("the Makefile's NAMESPACE does not win: %+v, %v", x, err)
	}
	if lone, err := Load(LoadOptions{Dir: filepath.Join(root, "other", "lone")}); err != nil || lone.Defaults != "" || lone.Release.Namespace != "" {
		t.Errorf("a chart no entry matches: %+v, %v", lone, err)
	}
}

// A defaults file is validated like .cozyhr.yaml: the field and its line.
func TestABadDefaultsFileNamesTheFieldAndLine(t *testing.T) {
	root := tree(t, map[string]string{
		FileName:                strings.Replace(defaultsFile, "    render: {kubeVersion", "    rendr: {kubeVersion", 1),
		"apps/redis/Chart.yaml": "apiVersion: v2\nname: redis\nversion: 0.1.0\n",
	})
	_, err := Load(LoadOptions{Dir: filepath.Join(root, "apps", "redis")})
	var cerr *Error
	if !errors.As(err, &cerr) || len(cerr.Errors) != 1 {
		t.Fatalf("want one error, got %v", err)
	}
	if fe := cerr.Errors[0]; fe.Line != 8 || fe.Field != "charts[0].rendr" || fe.Hint != `did you mean "render"?` {
		t.Errorf("error %+v", fe)
	}
}

// -R finds the charts a defaults file gives settings as it finds those
// with their own file; a library chart it matches is still no release.
func TestRecursiveSelectionCountsChartsTheDefaultsCover(t *testing.T) {
	root := tree(t, map[string]string{
		FileName:                  "apiVersion: cozyhr.io/v1alpha1\nkind: Defaults\ncharts:\n  - match: [apps/*, library/*]\n    release: {namespace: tenant-root}\n",
		"apps/redis/Chart.yaml":   "apiVersion: v2\nname: redis\nversion: 0.1.0\n",
		"library/lib/Chart.yaml":  "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n",
		"system/plain/Chart.yaml": "apiVersion: v2\nname: plain\nversion: 0.1.0\n",
	})
	got, err := FindCharts(root, false)
	if err != nil || len(got) != 1 || got[0] != filepath.Join(root, "apps", "redis") {
		t.Errorf("found %v, %v; want apps/redis alone", got, err)
	}
}
