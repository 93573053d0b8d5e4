package hazard

import (
	"strings"
	"testing"

	"github.com/gonvenience/ytbx"
	"github.com/homeport/dyff/pkg/dyff"
)

func report(t *testing.T, paths ...string) *dyff.Report {
	t.Helper()
	r := &dyff.Report{}
	for _, p := range paths {
		path, err := ytbx.ParseGoPatchStylePathString(p)
		if err != nil {
			t.Fatal(err)
		}
		r.Diffs = append(r.Diffs, dyff.Diff{Path: &path})
	}
	return r
}

func TestImmutableFieldsAreFlaggedOnce(t *testing.T) {
	got := Change("StatefulSet", report(t, "/spec/selector/matchLabels/app", "/spec/selector/matchLabels/tier", "/spec/replicas"), nil, nil)
	if len(got) != 1 || !strings.HasPrefix(got[0].Message, "spec.selector is immutable") || got[0].Rule != ImmutableField || got[0].Severity != High {
		t.Errorf("got %q", got)
	}
	if got := Change("Deployment", report(t, "/spec/replicas"), nil, nil); got != nil {
		t.Errorf("a mutable field is flagged: %q", got)
	}
	if got := Change("Deployment", nil, nil, nil); got != nil {
		t.Errorf("no report is flagged: %q", got)
	}
}

func TestShrinkingClaimIsFlagged(t *testing.T) {
	claim := func(size string) map[string]any {
		return map[string]any{"spec": map[string]any{"resources": map[string]any{"requests": map[string]any{"storage": size}}}}
	}
	if got := Change("PersistentVolumeClaim", report(t), claim("10Gi"), claim("5Gi")); len(got) != 1 || !strings.Contains(got[0].Message, "shrinks") || got[0].Rule != PVCShrink {
		t.Errorf("shrinking: %q", got)
	}
	if got := Change("PersistentVolumeClaim", report(t), claim("5Gi"), claim("10Gi")); got != nil {
		t.Errorf("growing: %q", got)
	}
}

func TestRemovalsThatTakeData(t *testing.T) {
	for kind, want := range map[string]string{"CustomResourceDefinition": "every custom resource", "PersistentVolumeClaim": "data", "Namespace": "everything", "StatefulSet": "volume claims", "ConfigMap": ""} {
		got := ""
		for _, f := range Removal(kind) {
			got += f.Message
		}
		if !strings.Contains(got, want) || (want == "") != (got == "") {
			t.Errorf("%s: %q", kind, got)
		}
	}
}
