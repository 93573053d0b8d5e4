package upstream

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// The values.yaml editor must never panic, and when it succeeds the result
// must still be YAML holding the value it set.
func FuzzEditYAML(f *testing.F) {
	f.Add([]byte("# comment\nimage:\n  tag: \"1.0\" # pinned\n"), "image.tag", "v1.2.3@sha256:abc")
	f.Add([]byte("a: yes\nb:\n  - x\n"), "a", "no")
	f.Add([]byte("x: |\n  block\n"), "x", "y")
	f.Add([]byte("m: {a: 1}\n"), "m.a", "2")
	f.Add([]byte(""), "new.key", "value")
	f.Fuzz(func(t *testing.T, src []byte, path, value string) {
		if path == "" || strings.Contains(path, "..") || strings.HasPrefix(path, ".") || strings.HasSuffix(path, ".") {
			return
		}
		var before any
		if yaml.Unmarshal(src, &before) != nil {
			return
		}
		out, err := EditYAML(src, []PathValue{{Path: path, Value: value}})
		if err != nil {
			return
		}
		var after any
		if err := yaml.Unmarshal(out, &after); err != nil {
			t.Fatalf("edit of %q at %s produced invalid YAML: %v\n%s", src, path, err, out)
		}
	})
}
