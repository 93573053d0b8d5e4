package manifest

import (
	"strings"
	"testing"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

var yamlSamples = []map[string]any{
	{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "x", "labels": map[string]any{"a": "1", "b": "true", "c": "", "d": "null", "file10": "x", "file2": "y"}},
		"data":     map[string]any{"multi": "line one\nline two\n", "html": "<a href=\"x\">&amp;</a>", "colon": "a: b", "lead": " x", "tab": "a\tb", "long": strings.Repeat("word ", 40), "unicode": "é ✓"},
		"spec": map[string]any{
			"int": int64(3), "neg": int64(-1), "big": int64(1) << 60, "float": 1.5, "tiny": 1e-9, "huge": 1e21, "whole": 2.0,
			"yes": true, "nil": nil, "empty": map[string]any{}, "none": []any{},
			"list": []any{"a", int64(1), map[string]any{"k": "v"}, []any{true, 0.25}},
		},
	},
}

// TestYAMLIsWhatSigsYAMLWrites: the direct marshal writes what
// sigs.k8s.io/yaml writes, byte for byte.
func TestYAMLIsWhatSigsYAMLWrites(t *testing.T) {
	for _, obj := range yamlSamples {
		sameYAML(t, obj)
	}
}

func sameYAML(t *testing.T, obj map[string]any) {
	t.Helper()
	want, err := yaml.Marshal(obj)
	if err != nil {
		t.Skip()
	}
	got, err := YAML(obj)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("YAML:\n%s\nsigs.k8s.io/yaml:\n%s", got, want)
	}
}

func FuzzYAML(f *testing.F) {
	for _, s := range []string{"plain", "1", "yes", "a: b", "x\ny", " lead", "<>&", "- x", "0777", "1e3"} {
		f.Add(s, int64(7), 1.25)
	}
	f.Fuzz(func(t *testing.T, s string, i int64, x float64) {
		if !utf8.ValidString(s) {
			t.Skip() // objects decoded from JSON hold none
		}
		sameYAML(t, map[string]any{s: s, "n": i, "f": x, "l": []any{s, i, x}, "m": map[string]any{s: nil}})
	})
}
