package normalize

import (
	"testing"
)

// Ignore-rule flags and JSON pointers: errors, never panics.
func FuzzParseIgnoreRule(f *testing.F) {
	for _, s := range []string{"/spec/replicas", "Deployment/web=/spec/replicas", "Secret=/data/a~1b", "=/x", "Kind/=", "/a~2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rule, err := ParseIgnoreRule(s)
		if err != nil {
			return
		}
		for _, p := range rule.Paths {
			if tokens, err := parsePointer(p); err == nil {
				obj := map[string]any{"spec": map[string]any{"replicas": 1}, "data": map[string]any{"a/b": "x"}}
				removePointer(obj, tokens)
			}
		}
	})
}
