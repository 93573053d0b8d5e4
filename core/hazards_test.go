package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Changes the API server will refuse, and removals that lose data, are
// marked; the rest are not.
func TestHazardsAreFlagged(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := writeTestFile(filepath.Join(dir, name), content); err != nil {
			t.Fatal(err)
		}
	}
	write("Chart.yaml", "apiVersion: v2\nname: h\nversion: 0.1.0\n")
	write("templates/sts.yaml", `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: {{ .Values.service | default "db" }}
  selector: {matchLabels: {app: {{ .Values.app | default "db" }}}}
  replicas: {{ .Values.replicas | default 1 }}
  template: {metadata: {labels: {app: db}}, spec: {containers: [{name: db, image: db}]}}
`)
	write("templates/pvc.yaml", `{{- if not .Values.dropClaim }}
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec: {resources: {requests: {storage: {{ .Values.size | default "10Gi" }}}}}
{{- end }}
`)
	render := func(set ...string) *Desired {
		t.Helper()
		return renderPlain(t, dir, "h", set...)
	}
	base := render()
	res, err := CompareRenders(t.Context(), base, render("replicas=3"), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Flagged() != 0 {
		t.Errorf("a replica count flagged: %+v", res.Changes)
	}
	res, err = CompareRenders(t.Context(), base, render("app=other", "service=other", "size=5Gi", "dropClaim=false"), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range res.Changes {
		for _, h := range c.Hazards {
			got = append(got, c.Ref.Kind+": "+h.Message)
		}
	}
	joined := strings.Join(got, "\n")
	for _, want := range []string{"spec.selector is immutable", "spec.serviceName is immutable", "PersistentVolumeClaim: spec.resources.requests.storage shrinks"} {
		if !strings.Contains(joined, want) {
			t.Errorf("%q not flagged:\n%s", want, joined)
		}
	}
	res, err = CompareRenders(t.Context(), base, render("dropClaim=true"), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || len(res.Changes[0].Hazards) != 1 || !strings.Contains(res.Changes[0].Hazards[0].Message, "may delete its volume") {
		t.Errorf("a removed claim: %+v", res.Changes)
	}
}

func writeTestFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}
