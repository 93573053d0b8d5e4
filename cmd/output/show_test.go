package output

import "testing"

func TestMatchTemplate(t *testing.T) {
	for _, c := range []struct {
		source, pattern string
		want            bool
	}{
		{"hello/templates/cm.yaml", "templates/cm.yaml", true},
		{"hello/templates/cm.yaml", "hello/templates/cm.yaml", true},
		{"hello/templates/cm.yaml", "templates/*.yaml", true},
		{"hello/charts/sub/templates/cm.yaml", "charts/sub/templates/cm.yaml", true},
		{"hello/templates/cm.yaml", "templates/svc.yaml", false},
	} {
		if got := matchTemplate("hello", c.source, c.pattern); got != c.want {
			t.Errorf("matchTemplate(%q, %q) = %v", c.source, c.pattern, got)
		}
	}
}
