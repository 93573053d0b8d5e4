package output

import (
	"bytes"
	"errors"
	"html"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/manifest"
)

func addedConfigMap(ns, name string) core.ObjectDiff {
	return core.ObjectDiff{Action: core.ActionAdd, Ref: manifest.Ref{Version: "v1", Kind: "ConfigMap", Namespace: ns, Name: name},
		Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": name, "namespace": ns}}}
}

// Grouped, a change several instances get reads with placeholders; with
// --no-group each instance's change is printed under its real names.
func TestFleetNamesInstancesAsItGroupsThem(t *testing.T) {
	insts := []fleet.Instance{
		{Namespace: "team", Name: "alpha", Release: "alpha", ReleaseNamespace: "team",
			Result: &core.DiffResult{Changes: []core.ObjectDiff{addedConfigMap("team", "alpha-settings")}}},
		{Namespace: "team", Name: "bravo", Release: "bravo", ReleaseNamespace: "team",
			Result: &core.DiffResult{Changes: []core.ObjectDiff{addedConfigMap("team", "bravo-settings")}}},
	}
	var grouped bytes.Buffer
	if err := FleetReport(&grouped, "app", insts, Dyff, HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(grouped.String(), "+ ConfigMap <namespace>/<release>-settings will be created (2 instances, the same change: team/alpha, team/bravo)") {
		t.Errorf("grouped:\n%s", grouped.String())
	}
	var each bytes.Buffer
	if err := FleetReport(&each, "app", insts, Dyff, HumanOptions{NoGroup: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"+ ConfigMap team/alpha-settings will be created (only team/alpha)", "+ ConfigMap team/bravo-settings will be created (only team/bravo)", "name: bravo-settings"} {
		if !strings.Contains(each.String(), want) {
			t.Errorf("--no-group lacks %q:\n%s", want, each.String())
		}
	}
	if strings.Contains(each.String(), "<release>") || strings.Contains(each.String(), "<namespace>") {
		t.Errorf("--no-group printed placeholders:\n%s", each.String())
	}
}

// An instance's error is one row, whole: the field a schema refused is
// on the error's later lines.
func TestFleetRowsKeepTheWholeError(t *testing.T) {
	insts := []fleet.Instance{{Namespace: "team", Name: "alpha", Err: schemaError{}}}
	var out bytes.Buffer
	if err := Fleet(&out, insts, nil, HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "values don't meet the specifications of the schema(s) in the following chart(s): app: - at '/replicas': got string, want integer") {
		t.Errorf("row:\n%s", out.String())
	}
}

type schemaError struct{}

func (schemaError) Error() string {
	return "values don't meet the specifications of the schema(s) in the following chart(s):\napp:\n- at '/replicas': got string, want integer\n"
}

// The Markdown report groups a fleet's changes as the terminal does, each
// change once with the instances it concerns, and the table says where each
// instance's objects live (its release's namespace, targetNamespace
// counted) beside the HelmRelease.
func TestFleetMarkdownGroupsAsTheTerminalDoes(t *testing.T) {
	insts := []fleet.Instance{
		{Namespace: "team", Name: "alpha", Release: "alpha", ReleaseNamespace: "team",
			Result: &core.DiffResult{Changes: []core.ObjectDiff{addedConfigMap("team", "alpha-settings")}}},
		{Namespace: "team", Name: "bravo", Release: "target-bravo", ReleaseNamespace: "target",
			Result: &core.DiffResult{Changes: []core.ObjectDiff{addedConfigMap("target", "target-bravo-settings")}}},
	}
	var md, terminal bytes.Buffer
	if err := FleetReport(&md, "app", insts, Markdown, HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := FleetReport(&terminal, "app", insts, Dyff, HumanOptions{}); err != nil {
		t.Fatal(err)
	}
	// alpha and bravo differ in metadata.namespace: two groups, and the
	// same two in both formats.
	var headers []string
	for _, line := range strings.Split(terminal.String(), "\n") {
		if strings.HasPrefix(line, "+ ") {
			headers = append(headers, line)
		}
	}
	if len(headers) != 2 || strings.Count(md.String(), "<details>") != len(headers) {
		t.Fatalf("terminal groups %q, markdown %d details:\n%s", headers, strings.Count(md.String(), "<details>"), md.String())
	}
	for _, h := range headers {
		if !strings.Contains(md.String(), "<details><summary><code>"+html.EscapeString(h)+"</code></summary>") {
			t.Errorf("markdown lacks the group %q:\n%s", h, md.String())
		}
	}
	if !strings.Contains(md.String(), "| `team/bravo` | 1 | 0 | 0 |") {
		t.Errorf("markdown table:\n%s", md.String())
	}
	for _, row := range []string{"team/alpha   team/alpha", "team/bravo   target/target-bravo"} {
		if !strings.Contains(terminal.String(), row) {
			t.Errorf("the table lacks %q:\n%s", row, terminal.String())
		}
	}
}

func TestFleetSaysImagesAcrossInstances(t *testing.T) {
	deploy := func(image string) map[string]any {
		return map[string]any{"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": "app", "image": image}}}}}}
	}
	change := core.ObjectDiff{Action: core.ActionChange, Ref: manifest.Ref{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "a", Name: "web"},
		Live: deploy("nginx:1.27"), Desired: deploy("nginx:1.28")}
	insts := []fleet.Instance{
		{Namespace: "a", Name: "web", Result: &core.DiffResult{Changes: []core.ObjectDiff{change}}},
		{Namespace: "b", Name: "web", Result: &core.DiffResult{Changes: []core.ObjectDiff{change}}},
		{Namespace: "c", Name: "web", Err: errors.New("failed")},
	}
	if got := fleetImages(insts); got != "Images across instances: ~ nginx:1.27 → nginx:1.28 (2)" {
		t.Errorf("got %q", got)
	}
}
