package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// chartDir makes a chart directory holding the given .cozyhr.yaml.
func chartDir(t *testing.T, cozyhr string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: demo\nversion: 0.1.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cozyhr != "" {
		if err := os.WriteFile(filepath.Join(dir, FileName), []byte(cozyhr), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTheExampleFileIsValidAndComplete(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", ".cozyhr.yaml.example"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(LoadOptions{Dir: chartDir(t, string(data))})
	if err != nil {
		t.Fatalf("the example does not validate: %v", err)
	}
	if c.Release.Name != "metallb" || c.Upstream == nil || c.Upstream.Helm == nil || len(c.Images) != 1 || len(c.Hooks.Apply.Pre) != 1 || len(c.Plugins.PostProcessors) != 1 {
		t.Errorf("example decoded incompletely: %+v", c)
	}
	// User-keyed maps keep their case (viper would lower-case them).
	if _, ok := c.Images[0].BuildArgs["VERSION"]; !ok {
		t.Errorf("buildArgs keys lost their case: %v", c.Images[0].BuildArgs)
	}
}

func TestDefaultsWithoutAFile(t *testing.T) {
	c, err := Load(LoadOptions{Dir: chartDir(t, "")})
	if err != nil {
		t.Fatal(err)
	}
	if c.File != "" || c.Release.Name != "demo" || !c.HelmRelease.IsEnabled() || !c.Render.CRDs() {
		t.Errorf("defaults: %+v", c)
	}
}

func TestOverridesWinOverEnvironmentOverFile(t *testing.T) {
	dir := chartDir(t, "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: file\n  namespace: file\napply:\n  wait: false\n")
	t.Setenv("COZYHR_RELEASE_NAME", "env")
	t.Setenv("COZYHR_RELEASE_NAMESPACE", "env")
	t.Setenv("COZYHR_APPLY_WAIT", "true")
	c, err := Load(LoadOptions{Dir: dir, Overrides: map[string]any{"release.namespace": "flag"}})
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.Release.Name, c.Release.Namespace, c.Apply.Wait}
	if want := []any{"env", "flag", true}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestErrorsPointAtTheLine(t *testing.T) {
	dir := chartDir(t, "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nimages:\n  - name: a\n    bulder: buildah\n")
	_, err := Load(LoadOptions{Dir: dir})
	cerr, ok := err.(*Error)
	if !ok || len(cerr.Errors) != 1 {
		t.Fatalf("want one config error, got %v", err)
	}
	fe := cerr.Errors[0]
	if fe.Line != 5 || fe.Column != 5 || fe.Field != "images[0].bulder" || fe.Hint != `did you mean "builder"?` {
		t.Errorf("error = %+v", fe)
	}
}

// A YAML syntax error names the line it is on: yaml.v3 counts some of its
// parser errors' lines from 0, and those are moved to the line they name.
func TestYAMLSyntaxErrorsNameTheirLine(t *testing.T) {
	head := "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: x\n"
	for body, line := range map[string]int{
		"  namespace: [y\n":      5, // a flow sequence left open
		"  namespace: {y: 1\n":   5,
		" namespace: y\n":        5, // a scanner error, counted from 1 already
		"  labels: a\n   b: c\n": 6,
	} {
		_, err := Load(LoadOptions{Dir: chartDir(t, head+body)})
		cerr, ok := err.(*Error)
		if !ok || len(cerr.Errors) != 1 {
			t.Fatalf("%q: want one config error, got %v", body, err)
		}
		if fe := cerr.Errors[0]; fe.Line != line || !strings.HasPrefix(fe.Message, "invalid YAML") {
			t.Errorf("%q: line %d, want %d: %+v", body, fe.Line, line, fe)
		}
	}
}

func TestNotAChartDirectory(t *testing.T) {
	_, err := Load(LoadOptions{Dir: t.TempDir()})
	if err == nil {
		t.Fatal("want an error for a directory without Chart.yaml")
	}
}

// Anchors and merge keys decode as YAML defines them; duplicate keys and
// alias bombs are errors with a line.
func TestAnchorsMergeKeysAndDuplicates(t *testing.T) {
	c, err := Load(LoadOptions{Dir: chartDir(t, `apiVersion: cozyhr.io/v1alpha1
kind: Chart
values:
  base: &base {x: 1, y: 2}
  over:
    <<: *base
    y: 3
  list: [*base]
`)})
	if err != nil {
		t.Fatal(err)
	}
	over, _ := c.Values["over"].(map[string]any)
	if over["x"] != 1 || over["y"] != 3 {
		t.Errorf("merged mapping %v, want x 1 (merged) and y 3 (its own)", over)
	}
	_, err = Load(LoadOptions{Dir: chartDir(t, "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: a}\nrelease: {name: b}\n")})
	if err == nil || !strings.Contains(err.Error(), `.cozyhr.yaml:4: key "release" is already defined at line 3`) {
		t.Errorf("duplicate key: %v", err)
	}
	bomb := "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nvalues:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
	for i := 1; i < 9; i++ {
		bomb += fmt.Sprintf("  a%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
	}
	if _, err = Load(LoadOptions{Dir: chartDir(t, bomb)}); err == nil || !strings.Contains(err.Error(), "aliases expand to too many values") {
		t.Errorf("alias bomb: %v", err)
	}
}

// A config at the size limit with a large values block loads in linear time.
func BenchmarkLoadLargeConfig(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nvalues:\n  big:\n")
	for i := 0; sb.Len() < 1000<<10; i++ {
		fmt.Fprintf(&sb, "    key%d: value%d\n", i, i)
	}
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: big\nversion: 0.1.0\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, FileName), []byte(sb.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Load(LoadOptions{Dir: dir}); err != nil {
			b.Fatal(err)
		}
	}
}

// Without a .cozyhr.yaml, a package.mk Makefile names the release; flags
// still win.
func TestMakefileNamesTheReleaseWithoutConfig(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: s3manager\nversion: 0.1.0\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte("export NAME=s3manager-system\nexport NAMESPACE=cozy-$(NAME)\n\ninclude ../../../hack/package.mk\n"), 0o644)
	c, err := Load(LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if c.Release.Name != "s3manager-system" || c.Release.Namespace != "cozy-s3manager-system" || c.NameFrom != NamedByMakefile || c.NamespaceFrom != NamedByMakefile {
		t.Errorf("release %s/%s from %q and %q", c.Release.Namespace, c.Release.Name, c.NameFrom, c.NamespaceFrom)
	}
	c, err = Load(LoadOptions{Dir: dir, Overrides: map[string]any{"release.name": "other", "release.namespace": "ns"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Release.Name != "other" || c.Release.Namespace != "ns" || c.NameFrom != NamedByOverride || c.NamespaceFrom != NamedByOverride {
		t.Errorf("flags lost to the Makefile: %s/%s", c.Release.Namespace, c.Release.Name)
	}
	// A Makefile that sets NAME alone names the release, not its namespace.
	os.WriteFile(filepath.Join(dir, "Makefile"), []byte("NAME=s3manager-system\n"), 0o644)
	if c, err = Load(LoadOptions{Dir: dir}); err != nil || c.NameFrom != NamedByMakefile || c.NamespaceFrom != "" || c.Release.Namespace != "" {
		t.Errorf("NAME alone: %q %q %q, %v", c.NameFrom, c.NamespaceFrom, c.Release.Namespace, err)
	}
}

// With --all a library chart is not taken as a chart to work on: it
// renders to nothing and is never a release of its own.
func TestFindChartsAllLeavesLibrariesOut(t *testing.T) {
	root := t.TempDir()
	for dir, chart := range map[string]string{
		"lib":   "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n",
		"app":   "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"apps2": "apiVersion: v2\nname: apps2\ntype: application\nversion: 0.1.0\n",
	} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, dir, "Chart.yaml"), []byte(chart), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found, err := FindCharts(root, true)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range found {
		names = append(names, filepath.Base(d))
	}
	if strings.Join(names, " ") != "app apps2" {
		t.Errorf("FindCharts(--all) = %v, want app apps2", names)
	}
}

// An override (a flag's value set over .cozyhr.yaml) of a field that does
// not exist is refused, naming the file, the line of the field above it and
// the fields that can be set there, instead of being dropped.
func TestAMistypedOverrideNamesFileLineAndAllowedKeys(t *testing.T) {
	dir := chartDir(t, "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: app\napply:\n  wait: true\n")
	_, err := Load(LoadOptions{Dir: dir, Overrides: map[string]any{"apply.timout": "5m", "release.name": "ok"}})
	if err == nil {
		t.Fatal("a mistyped override was accepted")
	}
	msg := err.Error()
	for _, want := range []string{".cozyhr.yaml:5:1: apply.timout: no such field to override", `did you mean "apply.timeout"?`, "fields that can be set here: ", "resume", "takeOwnership", "wait"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	// A path the file does not have at all: the file's top.
	_, err = Load(LoadOptions{Dir: dir, Overrides: map[string]any{"nothing.here": true, "images": "x"}})
	if err == nil || !strings.Contains(err.Error(), "has 2 problems") || !strings.Contains(err.Error(), "images: no such field to override; it names no field that one value can set") ||
		!strings.Contains(err.Error(), "nothing.here: no such field to override; it names no field that one value can set") {
		t.Errorf("unknown paths: %v", err)
	}
	if _, err := Load(LoadOptions{Dir: dir, Overrides: map[string]any{"apply.timeout": "5m", "helmRelease.enabled": true}}); err != nil {
		t.Errorf("known overrides: %v", err)
	}
}

// Shards split the charts by size, the largest first to the emptiest
// shard: together they hold every chart once, none is empty while another
// has two, the loads are close, and the split is the same every time.
func TestShardsAreBalancedBySize(t *testing.T) {
	root := t.TempDir()
	var charts []string
	for i, size := range []int{9000, 100, 100, 100, 100, 100, 100, 5000} {
		dir := filepath.Join(root, fmt.Sprintf("c%d", i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "values.yaml"), make([]byte, size), 0o644); err != nil {
			t.Fatal(err)
		}
		charts = append(charts, dir)
	}
	seen := map[string]int{}
	for k := 1; k <= 3; k++ {
		sel := Selection{Shard: fmt.Sprintf("%d/3", k)}
		got := sel.InShard(charts)
		if again := sel.InShard(charts); !reflect.DeepEqual(got, again) {
			t.Errorf("shard %d/3 differs between two runs: %v, %v", k, got, again)
		}
		if len(got) == 0 {
			t.Errorf("shard %d/3 is empty", k)
		}
		for _, c := range got {
			seen[c]++
		}
	}
	if len(seen) != len(charts) {
		t.Errorf("the shards hold %d of %d charts", len(seen), len(charts))
	}
	for c, n := range seen {
		if n != 1 {
			t.Errorf("%s is in %d shards", c, n)
		}
	}
	// The two large charts go to shards of their own; the small ones fill the third.
	if got := (Selection{Shard: "3/3"}).InShard(charts); len(got) != 6 {
		t.Errorf("shard 3/3 holds %v, want the six small charts", got)
	}
}
