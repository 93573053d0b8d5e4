package cmd

import (
	"path/filepath"
	"strings"
	"testing"
)

// A chart that renders nothing prints one newline, as helm template does;
// a library chart is refused, as helm template refuses it.
func TestShowOfNothingAndOfALibraryChartIsHelms(t *testing.T) {
	empty := t.TempDir()
	writeFile(t, filepath.Join(empty, "Chart.yaml"), "apiVersion: v2\nname: empty\nversion: 0.1.0\n")
	put(t, filepath.Join(empty, "templates", "_helpers.tpl"), "{{- define \"x\" -}}{{- end -}}\n")
	r := cozyhr(t, "-C", empty, "show", "--offline").expect(t, 0)
	if r.out != "\n" {
		t.Errorf("an empty render: %q, want one newline", r.out)
	}

	lib := t.TempDir()
	writeFile(t, filepath.Join(lib, "Chart.yaml"), "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n")
	put(t, filepath.Join(lib, "templates", "_helpers.tpl"), "{{- define \"lib.name\" -}}lib{{- end -}}\n")
	r = cozyhr(t, "-C", lib, "show", "--offline").expect(t, ExitFailure)
	if !strings.Contains(r.err, "chart lib: library charts are not installable") || r.out != "" {
		t.Errorf("a library chart: out %q, err %q", r.out, r.err)
	}
}
