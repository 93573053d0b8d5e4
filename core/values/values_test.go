package values

import (
	"reflect"
	"strings"
	"testing"
)

func TestComposeValuesOrder(t *testing.T) {
	got, err := Compose(
		map[string]any{"a": 1, "m": map[string]any{"x": 1, "y": 1}, "l": []any{1, 2}},
		t.TempDir(), nil,
		map[string]any{"m": map[string]any{"y": 2}, "l": []any{3}},
		Overrides{Values: []string{"a=4"}, StringValues: []string{"s=5"}},
	)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"a": int64(4), "m": map[string]any{"x": 1, "y": 2}, "l": []any{3}, "s": "5"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ComposeValues = %#v\nwant %#v", got, want)
	}
}

func FuzzSetValues(f *testing.F) {
	for _, s := range []string{"a=b", "a.b[0].c=1", "a={x,y}", "=x", "a[", `a={"b":1}`, "a\\.b=c", "a[1000000]=x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Helm refuses huge list indexes itself; keep the fuzzer's memory small.
		if strings.Contains(s, "[") && len(s) > 64 {
			return
		}
		for _, o := range []Overrides{{Values: []string{s}}, {StringValues: []string{s}}, {JSONValues: []string{s}}, {LiteralValues: []string{s}}} {
			_, _ = Compose(nil, "", nil, nil, o)
		}
	})
}
