package manifest

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
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
	want, err := sigsyaml.Marshal(obj)
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

// TestYAMLDocumentIsWhatParsingGives: the node tree built directly from an
// object is the one its YAML text parses to, so dyff reports the same.
func TestYAMLDocumentIsWhatParsingGives(t *testing.T) {
	obj := map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "x", "labels": map[string]any{"a": "1", "b": "true", "c": "", "d": "null", "e": "~", "f": "1.5", "g": "0x10", "h": "yes"}},
		"data": map[string]any{
			"multi": "line one\nline two\n", "trailing": "a\nb", "colon": "a: b", "hash": "# c", "lead": " x", "dash": "- x",
			"quote": `"q"`, "star": "*x", "amp": "&x", "bang": "!x", "pct": "%x", "at": "@x", "tick": "`x", "brace": "{x}", "bracket": "[x]",
			"unicode": "é", "tab": "a\tb", "date": "2024-01-01", "octal": "0777", "inf": ".inf", "nan": ".NaN", "long": strings.Repeat("word ", 40),
		},
		"spec": map[string]any{
			"int": int64(3), "neg": int64(-1), "big": int64(1) << 60, "float": 1.5, "tiny": 1e-9, "huge": 1e300, "whole": 2.0,
			"yes": true, "no": false, "nil": nil, "empty": map[string]any{}, "none": []any{},
			"list":           []any{"a", int64(1), map[string]any{"k": "v"}, []any{true}},
			"key with space": "v", "1": "numeric key", "true": "bool key",
		},
	}
	data, err := sigsyaml.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var parsed yaml.Node
	if err := yaml.Unmarshal(data, &parsed); err != nil {
		t.Fatal(err)
	}
	var diffs []string
	sameNode(&diffs, "", &parsed, YAMLDocument(obj))
	if len(diffs) > 0 {
		t.Errorf("built nodes differ from parsed ones:\n%s\nYAML:\n%s", strings.Join(diffs, "\n"), data)
	}
}

func sameNode(diffs *[]string, path string, want, got *yaml.Node) {
	if want.Kind != got.Kind || want.Tag != got.Tag || want.Value != got.Value || want.Style != got.Style {
		*diffs = append(*diffs, fmt.Sprintf("%s: kind %v/%v tag %q/%q value %q/%q style %v/%v", path, want.Kind, got.Kind, want.Tag, got.Tag, want.Value, got.Value, want.Style, got.Style))
		return
	}
	if len(want.Content) != len(got.Content) {
		*diffs = append(*diffs, fmt.Sprintf("%s: %d children, built %d", path, len(want.Content), len(got.Content)))
		return
	}
	for i := range want.Content {
		sameNode(diffs, fmt.Sprintf("%s/%d", path, i), want.Content[i], got.Content[i])
	}
}

// FuzzYAMLDocument: for any strings, as keys (in order) or values, the
// built node is the parsed one.
func FuzzYAMLDocument(f *testing.F) {
	for _, s := range []string{"plain", "1", "yes", "Off", "a: b", "x\ny", " lead", "é", "-", ".5", "a_b/c.d-e", "NULL", "~"} {
		f.Add(s, "file10")
	}
	f.Add("file2", "file10")
	f.Add("a01", "a1")
	f.Add("x100", "x20")
	f.Fuzz(func(t *testing.T, s, other string) {
		if !utf8.ValidString(s) || !utf8.ValidString(other) {
			t.Skip() // objects decoded from JSON hold none
		}
		obj := map[string]any{s: other, other: s, "list": []any{s}, "file2": int64(1)}
		data, err := sigsyaml.Marshal(obj)
		if err != nil {
			t.Skip()
		}
		var parsed yaml.Node
		if err := yaml.Unmarshal(data, &parsed); err != nil {
			t.Skip()
		}
		var diffs []string
		sameNode(&diffs, "", &parsed, YAMLDocument(obj))
		if len(diffs) > 0 {
			t.Errorf("%q: %s", s, strings.Join(diffs, "\n"))
		}
	})
}
