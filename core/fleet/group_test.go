package fleet_test

import (
	"slices"
	"testing"

	"github.com/gonvenience/ytbx"
	"github.com/homeport/dyff/pkg/dyff"
	yaml "go.yaml.in/yaml/v3"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/manifest"
)

// changed is the change of one object between two YAML documents, as the
// diff stage reports it.
func changed(t *testing.T, ref manifest.Ref, from, to string, hazards ...string) core.ObjectDiff {
	t.Helper()
	doc := func(s string) ytbx.InputFile {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(s), &n); err != nil {
			t.Fatal(err)
		}
		return ytbx.InputFile{Documents: []*yaml.Node{&n}}
	}
	report, err := dyff.CompareInputFiles(doc(from), doc(to))
	if err != nil {
		t.Fatal(err)
	}
	var found []hazard.Finding
	for _, h := range hazards {
		found = append(found, hazard.Finding{Rule: hazard.ImmutableField, Severity: hazard.High, Message: h})
	}
	return core.ObjectDiff{Ref: ref, Action: core.ActionChange, Report: &report, Hazards: found}
}

func added(ref manifest.Ref, obj map[string]any) core.ObjectDiff {
	return core.ObjectDiff{Ref: ref, Action: core.ActionAdd, Object: obj}
}

func inst(ns, name string, changes ...core.ObjectDiff) fleet.Instance {
	return fleet.Instance{Namespace: ns, Name: name, Release: name, ReleaseNamespace: ns, Result: &core.DiffResult{Changes: changes}}
}

func deployment(ns, name string) manifest.Ref {
	return manifest.Ref{Kind: "Deployment", Namespace: ns, Name: name}
}

func TestGroupChangesFieldByField(t *testing.T) {
	// Both get the image bump from the template; only b's replicas differ,
	// as its values say.
	a := inst("tenant-a", "web-a", changed(t, deployment("tenant-a", "web-a"),
		"spec:\n  replicas: 1\n  image: nginx:1.27\n", "spec:\n  replicas: 1\n  image: nginx:1.28\n"))
	b := inst("tenant-b", "web-b", changed(t, deployment("tenant-b", "web-b"),
		"spec:\n  replicas: 2\n  image: nginx:1.27\n", "spec:\n  replicas: 3\n  image: nginx:1.28\n", "scaling up"))
	groups := fleet.GroupChanges([]fleet.Instance{a, b}, false)
	if len(groups) != 2 {
		t.Fatalf("%d groups, want b's replicas and the image for both", len(groups))
	}
	var both, onlyB []fleet.Group
	for _, g := range groups {
		if len(g.Instances) == 2 {
			both = append(both, g)
		} else {
			onlyB = append(onlyB, g)
		}
	}
	if len(both) != 1 || both[0].Change.Report.Diffs[0].Path.String() != "/spec/image" {
		t.Fatalf("the change both get: %+v", both)
	}
	if both[0].Namespace != "tenant-a" || both[0].Release != "web-a" || !slices.Equal(both[0].Instances, []string{"tenant-a/web-a", "tenant-b/web-b"}) {
		t.Errorf("the shared group is named after its first instance: %+v", both[0])
	}
	// The hazard goes with b's first field, the replicas: the image change
	// carries none, so it groups with a's.
	if len(onlyB) != 1 || onlyB[0].Change.Report.Diffs[0].Path.String() != "/spec/replicas" || len(onlyB[0].Change.Hazards) != 1 {
		t.Fatalf("changes only b gets: %+v", onlyB)
	}
}

func TestGroupChangesTakesOutEachInstancesOwnNames(t *testing.T) {
	objA := map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "app-a-auth"}, "data": map[string]any{"owner": "app-a"}}
	objB := map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "app-b-auth"}, "data": map[string]any{"owner": "app-b"}}
	objC := map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "app-c-auth"}, "data": map[string]any{"owner": "someone else"}}
	insts := []fleet.Instance{
		inst("ns", "app-a", added(manifest.Ref{Kind: "Secret", Namespace: "ns", Name: "app-a-auth"}, objA)),
		inst("ns", "app-b", added(manifest.Ref{Kind: "Secret", Namespace: "ns", Name: "app-b-auth"}, objB)),
		inst("ns", "app-c", added(manifest.Ref{Kind: "Secret", Namespace: "ns", Name: "app-c-auth"}, objC)),
		{Namespace: "ns", Name: "failed", Err: errNoRender},
	}
	groups := fleet.GroupChanges(insts, false)
	if len(groups) != 2 || !slices.Equal(groups[0].Instances, []string{"ns/app-a", "ns/app-b"}) || !slices.Equal(groups[1].Instances, []string{"ns/app-c"}) {
		t.Errorf("groups: %+v", groups)
	}
	// An instance named only by its HelmRelease falls back to its names.
	bare := fleet.Instance{Namespace: "ns", Name: "app-d", Result: &core.DiffResult{Changes: []core.ObjectDiff{
		added(manifest.Ref{Kind: "Secret", Namespace: "ns", Name: "app-d-auth"}, map[string]any{"kind": "Secret", "metadata": map[string]any{"name": "app-d-auth"}, "data": map[string]any{"owner": "app-d"}})}}}
	if groups := fleet.GroupChanges(append(insts[:2:2], bare), false); len(groups) != 1 || len(groups[0].Instances) != 3 {
		t.Errorf("with a bare instance: %+v", groups)
	}
}

func TestFieldPieces(t *testing.T) {
	c := changed(t, deployment("a", "b"), "x: 1\ny: 1\nz: 1\n", "x: 2\ny: 2\nz: 1\n", "hazard")
	pieces := fleet.FieldPieces(c)
	if len(pieces) != 2 {
		t.Fatalf("%d pieces, want one per changed field", len(pieces))
	}
	if len(pieces[0].Hazards) != 1 || pieces[1].Hazards != nil {
		t.Errorf("hazards: %q then %q", pieces[0].Hazards, pieces[1].Hazards)
	}
	if len(c.Report.Diffs) != 2 {
		t.Error("splitting changed the original report")
	}
	whole := added(deployment("a", "b"), map[string]any{"kind": "Deployment"})
	if got := fleet.FieldPieces(whole); len(got) != 1 || got[0].Action != core.ActionAdd {
		t.Errorf("an addition stays whole: %+v", got)
	}
	one := changed(t, deployment("a", "b"), "x: 1\n", "x: 2\n")
	if got := fleet.FieldPieces(one); len(got) != 1 || got[0].Report != one.Report {
		t.Errorf("a change of one field stays as it is")
	}
}

var errNoRender = errorString("does not render")

type errorString string

func (e errorString) Error() string { return string(e) }
