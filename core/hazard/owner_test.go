package hazard

import "testing"

func marked(release, namespace string) map[string]any {
	annotations := map[string]any{}
	if release != "" {
		annotations[releaseNameAnnotation] = release
		annotations[releaseNamespaceAnnotation] = namespace
	}
	return map[string]any{"metadata": map[string]any{"annotations": annotations}}
}

// An object Helm's marks give to another release, or to none, is not
// this release's; one marked as this release's is.
func TestOtherOwner(t *testing.T) {
	for _, c := range []struct {
		name  string
		live  map[string]any
		owner string
		other bool
	}{
		{"this release's", marked("web", "prod"), "", false},
		{"another release's", marked("db", "prod"), "db in prod", true},
		{"the same name in another namespace", marked("web", "staging"), "web in staging", true},
		{"no release's", marked("", ""), "", true},
	} {
		owner, other := OtherOwner(c.live, "web", "prod")
		if owner != c.owner || other != c.other {
			t.Errorf("%s: OtherOwner = %q, %v; want %q, %v", c.name, owner, other, c.owner, c.other)
		}
	}
	if f := TakenFrom("db in prod"); f.Rule != ObjectMoves || f.Severity != High {
		t.Errorf("TakenFrom: %+v", f)
	}
}
