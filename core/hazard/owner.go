package hazard

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The annotations Helm marks each object of a release with; Helm refuses
// to touch an object whose marks name another release unless it is told
// to take ownership (helm-controller does, unless disableTakeOwnership).
const (
	releaseNameAnnotation      = "meta.helm.sh/release-name"
	releaseNamespaceAnnotation = "meta.helm.sh/release-namespace"
)

// OtherOwner says whether the live object is not marked as release's (in
// namespace): owner is the release that marks it, as "name in namespace",
// or "" when Helm does not manage it at all.
func OtherOwner(live map[string]any, release, namespace string) (owner string, other bool) {
	name, _, _ := unstructured.NestedString(live, "metadata", "annotations", releaseNameAnnotation)
	ns, _, _ := unstructured.NestedString(live, "metadata", "annotations", releaseNamespaceAnnotation)
	if name == release && ns == namespace {
		return "", false
	}
	if name == "" {
		return "", true
	}
	return name + " in " + ns, true
}

// TakenFrom is the finding for an object the change takes from another
// release that still owns it live.
func TakenFrom(owner string) Finding {
	return finding(ObjectMoves, "belongs to release %s: helm-controller takes it over, and release %s deletes it at its next upgrade if its chart no longer has it (or the two take it from each other); first mark it helm.sh/resource-policy: keep in release %s", owner, owner, owner)
}

// Moves is the finding for an object that leaves release from for
// release to in the same change.
func Moves(from, to string) Finding {
	return finding(ObjectMoves, "moves from release %s to release %s: if %s is upgraded first it takes the object and %s's upgrade then deletes it; if %s goes first it deletes it and %s creates it again, empty. First mark it helm.sh/resource-policy: keep in release %s", from, to, to, from, from, to, from)
}

// OwnerLine names an object and the release that owns it, for a
// prediction.
func OwnerLine(ref, owner string) string {
	if owner == "" {
		return ref + " (no release's)"
	}
	return fmt.Sprintf("%s (release %s)", ref, owner)
}
