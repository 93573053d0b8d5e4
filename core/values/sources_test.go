package values_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core/values"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Every kind of override, as helm's flags take them, each over the last.
func TestComposeReadsEverySourceAsHelmDoes(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "config.yaml", "fromConfigFile: true\nimage: {tag: config}\n")
	dashF := write(t, dir, "override.yaml", "fromDashF: true\nimage: {pullPolicy: Always}\n")
	cert := write(t, dir, "cert.pem", "-----BEGIN-----\n")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/values.yaml" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, "fromURL: yes\n")
	}))
	defer srv.Close()

	got, err := values.Compose(map[string]any{"fromHelmRelease": 1, "image": map[string]any{"repository": "nginx"}}, dir, []string{"config.yaml"},
		map[string]any{"inline": true}, values.Overrides{
			Files:         []string{dashF, "-", srv.URL + "/values.yaml"},
			Stdin:         strings.NewReader("fromStdin: 1\n"),
			JSONValues:    []string{`list=[1,"two"]`},
			Values:        []string{"count=3", "nested.key=v"},
			StringValues:  []string{"version=1.10"},
			FileValues:    []string{"tls.cert=" + cert},
			LiteralValues: []string{"raw=a,b=c"},
		})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"fromHelmRelease": 1, "fromConfigFile": true, "inline": true, "fromDashF": true, "fromStdin": 1, "fromURL": true, // yes is YAML 1.1's true, as Helm reads it
		"image": map[string]any{"repository": "nginx", "tag": "config", "pullPolicy": "Always"},
		"list":  []any{1, "two"},
		"count": 3, "nested": map[string]any{"key": "v"},
		"version": "1.10",
		"tls":     map[string]any{"cert": "-----BEGIN-----\n"},
		"raw":     "a,b=c",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("composed:\n%v\nwant:\n%v", got, want)
	}
}

func TestComposeSaysWhichOverrideFailed(t *testing.T) {
	dir := t.TempDir()
	list := write(t, dir, "list.yaml", "- a\n")
	cases := []struct {
		o    values.Overrides
		kind string
		want string
	}{
		{values.Overrides{Files: []string{filepath.Join(dir, "missing.yaml")}}, values.KindFile, "no such file"},
		{values.Overrides{Files: []string{list}}, values.KindFile, "holds a list at its top; a values file is a mapping"},
		{values.Overrides{Files: []string{"-"}}, values.KindFile, "no standard input"},
		{values.Overrides{Files: []string{"http://127.0.0.1:1/values.yaml"}}, values.KindFile, "127.0.0.1:1"},
		{values.Overrides{JSONValues: []string{"a={"}}, values.KindJSON, ""},
		{values.Overrides{Values: []string{"=x"}}, values.KindValue, ""},
		{values.Overrides{FileValues: []string{"a=" + filepath.Join(dir, "absent")}}, values.KindFileRef, "absent"},
	}
	for _, c := range cases {
		_, err := values.Compose(nil, dir, nil, nil, c.o)
		var oe *values.OverrideError
		if !errors.As(err, &oe) || oe.Kind != c.kind || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v", c.o, err)
		}
	}
	_, err := values.Compose(nil, dir, []string{"nowhere.yaml"}, nil, values.Overrides{})
	if err == nil || !strings.Contains(err.Error(), "valuesFiles in .cozyhr.yaml") {
		t.Errorf("a missing valuesFiles entry: %v", err)
	}
}

func TestReadFileRefusesWhatIsNotValues(t *testing.T) {
	dir := t.TempDir()
	if v, err := values.ReadFile(write(t, dir, "empty.yaml", "")); err != nil || len(v) != 0 {
		t.Errorf("an empty file: %v, %v", v, err)
	}
	if _, err := values.ReadFile(write(t, dir, "scalar.yaml", "just text\n")); err == nil || !strings.Contains(err.Error(), "holds a string at its top") {
		t.Errorf("a scalar: %v", err)
	}
	if _, err := values.ReadFile(write(t, dir, "broken.yaml", "a: [\n")); err == nil || !strings.Contains(err.Error(), "broken.yaml") {
		t.Errorf("broken YAML: %v", err)
	}
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(65 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := values.ReadFile(big); err == nil || !strings.Contains(err.Error(), "larger than the 64 MiB") {
		t.Errorf("a file too large: %v", err)
	}
}

func TestMergeAndDeepCopy(t *testing.T) {
	dst := map[string]any{"a": map[string]any{"x": 1, "y": 2}, "list": []any{1, 2}, "keep": true}
	values.Merge(dst, map[string]any{"a": map[string]any{"y": 3, "z": 4}, "list": []any{9}, "new": "n"})
	want := map[string]any{"a": map[string]any{"x": 1, "y": 3, "z": 4}, "list": []any{9}, "keep": true, "new": "n"}
	if !reflect.DeepEqual(dst, want) {
		t.Errorf("merged %v, want %v (maps merge, lists replace)", dst, want)
	}
	orig := map[string]any{"m": map[string]any{"l": []any{map[string]any{"k": "v"}}}}
	cp := values.DeepCopy(orig)
	cp["m"].(map[string]any)["l"].([]any)[0].(map[string]any)["k"] = "changed"
	values.Merge(cp, map[string]any{"m": map[string]any{"extra": 1}})
	if orig["m"].(map[string]any)["l"].([]any)[0].(map[string]any)["k"] != "v" || len(orig["m"].(map[string]any)) != 1 {
		t.Errorf("the original changed with its copy: %v", orig)
	}
}
