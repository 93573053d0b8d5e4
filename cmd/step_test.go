package cmd

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/test/testgit"
)

// A command's per-chart step runs without cobra: options completed, a run
// made from its spec, the step called, as a Go program or a test would.
func TestAStepRunsWithoutCobra(t *testing.T) {
	repo := testgit.New(t)
	repo.Write(map[string]string{
		"app/Chart.yaml":        "apiVersion: v2\nname: app\nversion: 0.1.0\n",
		"app/values.yaml":       "greeting: hello\n",
		"app/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
	})
	repo.Commit("app")
	repo.Write(map[string]string{"app/values.yaml": "greeting: bonjour\n"})

	var out, errOut bytes.Buffer
	streams := IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	g := newGlobalOptions(streams)
	defer g.trees.Close()
	o := &diffOptions{base: "HEAD", output: string(output.Brief), exitCode: true}
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	r := g.newRun(context.Background(), &spec{stage: "diff"}, repo.Path("app"), streams)
	err := o.runReview(r)
	if ExitCode(err) != ExitChanges {
		t.Fatalf("exit %d (%v), want changes\n%s", ExitCode(err), err, errOut.String())
	}
	if !strings.Contains(out.String(), "ConfigMap") || r.result != "0 to add, 1 to change, 0 to delete" {
		t.Errorf("output %q, result %q", out.String(), r.result)
	}
	if !strings.Contains(errOut.String(), "comparing HEAD (") {
		t.Errorf("stderr %q", errOut.String())
	}
}
