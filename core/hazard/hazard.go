// Package hazard says which changes of a release will hurt, each by a
// rule with an id, a severity and its reason: a change the API server
// will refuse (an immutable field), a volume claim that shrinks, a removal
// that takes data with it, privileges and RBAC widened, replicas to zero,
// a major image bump. rules.go lists them.
package hazard

import (
	"fmt"
	"slices"
	"strings"

	"github.com/homeport/dyff/pkg/dyff"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Severity ranks what a finding costs.
type Severity string

const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities are the severities, least first.
var severities = []Severity{Low, Medium, High, Critical}

// ParseSeverity reads a severity by name.
func ParseSeverity(s string) (Severity, error) {
	if i := slices.Index(severities, Severity(s)); i >= 0 {
		return severities[i], nil
	}
	return "", fmt.Errorf("severity %q: give one of low, medium, high, critical", s)
}

// AtLeast reports whether s is min or worse.
func (s Severity) AtLeast(min Severity) bool {
	return slices.Index(severities, s) >= slices.Index(severities, min)
}

// Finding is one rule that fires on one change.
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
}

func (f Finding) String() string { return f.Message }

func finding(rule, format string, args ...any) Finding {
	return Finding{Rule: rule, Severity: Rules[rule].Severity, Message: fmt.Sprintf(format, args...)}
}

// immutable are fields the API server refuses to change, by kind, as the
// path prefixes a dyff report names them with (go-patch style).
func immutable(kind string) []string {
	switch kind {
	case "Deployment", "DaemonSet", "ReplicaSet":
		return []string{"/spec/selector"}
	case "StatefulSet":
		return []string{"/spec/selector", "/spec/volumeClaimTemplates", "/spec/serviceName", "/spec/podManagementPolicy"}
	case "Job":
		return []string{"/spec/selector", "/spec/template", "/spec/completionMode"}
	case "Service":
		return []string{"/spec/clusterIP", "/spec/clusterIPs"}
	case "PersistentVolumeClaim":
		return []string{"/spec/storageClassName", "/spec/volumeName", "/spec/accessModes", "/spec/volumeMode", "/spec/selector", "/spec/dataSource", "/spec/dataSourceRef"}
	case "RoleBinding", "ClusterRoleBinding":
		return []string{"/roleRef"}
	case "StorageClass":
		return []string{"/provisioner", "/parameters", "/reclaimPolicy", "/volumeBindingMode"}
	}
	return nil
}

// Change says what will hurt in a change of an object of kind, whose
// differences are report, from live to desired.
func Change(kind string, report *dyff.Report, live, desired map[string]any) []Finding {
	if report == nil {
		return nil
	}
	var out []Finding
	seen := map[string]bool{}
	for _, d := range report.Diffs {
		path := d.Path.ToGoPatchStyle()
		for _, field := range immutable(kind) {
			if (path == field || strings.HasPrefix(path, field+"/")) && !seen[field] {
				seen[field] = true
				out = append(out, finding(ImmutableField, "%s is immutable: the API server will refuse this change (delete and recreate the %s, or keep the field)", strings.ReplaceAll(strings.TrimPrefix(field, "/"), "/", "."), kind))
			}
		}
	}
	if (kind == "ConfigMap" || kind == "Secret") && isImmutable(live) && len(report.Diffs) > 0 {
		out = append(out, finding(ImmutableField, "the live %s is immutable (immutable: true): the API server will refuse any change to its data", kind))
	}
	if kind == "Service" && changesTo(live, desired, "ExternalName", "spec", "type") {
		out = append(out, finding(ImmutableField, "spec.type becomes ExternalName: the API server refuses it while spec.clusterIP is set"))
	}
	if kind == "PersistentVolumeClaim" && shrinks(live, desired) {
		out = append(out, finding(PVCShrink, "spec.resources.requests.storage shrinks: a volume claim cannot shrink; the API server will refuse this change"))
	}
	out = append(out, Widened(kind, live, desired)...)
	return out
}

func isImmutable(obj map[string]any) bool {
	v, _, _ := unstructured.NestedBool(obj, "immutable")
	return v
}

// changesTo reports whether the string at path becomes want.
func changesTo(live, desired map[string]any, want string, path ...string) bool {
	l, _, _ := unstructured.NestedString(live, path...)
	d, _, _ := unstructured.NestedString(desired, path...)
	return d == want && l != want
}

// shrinks reports a requested storage smaller than the live one.
func shrinks(live, desired map[string]any) bool {
	get := func(obj map[string]any) (resource.Quantity, bool) {
		s, ok, _ := unstructured.NestedString(obj, "spec", "resources", "requests", "storage")
		if !ok {
			return resource.Quantity{}, false
		}
		q, err := resource.ParseQuantity(s)
		return q, err == nil
	}
	l, lok := get(live)
	d, dok := get(desired)
	return lok && dok && d.Cmp(l) < 0
}

// Removal says what removing an object of kind takes with it.
func Removal(kind string) []Finding {
	switch kind {
	case "CustomResourceDefinition":
		return []Finding{finding(RemovalTakesData, "removing a CRD deletes every custom resource of its kind, cluster-wide")}
	case "PersistentVolumeClaim":
		return []Finding{finding(RemovalTakesData, "removing a volume claim may delete its volume and the data on it")}
	case "Namespace":
		return []Finding{finding(RemovalTakesData, "removing a namespace deletes everything in it")}
	case "StatefulSet":
		return []Finding{finding(RemovalTakesData, "removing a StatefulSet stops its pods; their volume claims stay behind")}
	case "NetworkPolicy":
		return []Finding{finding(NetworkPolicyRemoved, "removing a NetworkPolicy opens the traffic it denied")}
	}
	return nil
}

// Addition says what adding an object brings: the privileges and RBAC it
// grants from nothing.
func Addition(kind string, obj map[string]any) []Finding {
	return Widened(kind, nil, obj)
}
