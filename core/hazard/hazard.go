// Package hazard says which changes of a release will hurt: a change the
// API server will refuse (an immutable field), a volume claim that
// shrinks, and a removal that takes data with it.
package hazard

import (
	"fmt"
	"strings"

	"github.com/homeport/dyff/pkg/dyff"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// immutable are fields the API server refuses to change, by kind, as the
// path prefixes a dyff report names them with (go-patch style).
func immutable(kind string) []string {
	switch kind {
	case "Deployment", "DaemonSet", "ReplicaSet":
		return []string{"/spec/selector"}
	case "StatefulSet":
		return []string{"/spec/selector", "/spec/volumeClaimTemplates", "/spec/serviceName"}
	case "Job":
		return []string{"/spec/selector", "/spec/template"}
	case "Service":
		return []string{"/spec/clusterIP"}
	case "PersistentVolumeClaim":
		return []string{"/spec/storageClassName", "/spec/volumeName", "/spec/accessModes"}
	case "RoleBinding", "ClusterRoleBinding":
		return []string{"/roleRef"}
	}
	return nil
}

// Change says what will hurt in a change of an object of kind, whose
// differences are report, from live to desired.
func Change(kind string, report *dyff.Report, live, desired map[string]any) []string {
	if report == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, d := range report.Diffs {
		path := d.Path.ToGoPatchStyle()
		for _, field := range immutable(kind) {
			if (path == field || strings.HasPrefix(path, field+"/")) && !seen[field] {
				seen[field] = true
				out = append(out, fmt.Sprintf("%s is immutable: the API server will refuse this change (delete and recreate the %s, or keep the field)", strings.ReplaceAll(strings.TrimPrefix(field, "/"), "/", "."), kind))
			}
		}
	}
	if kind == "PersistentVolumeClaim" && shrinks(live, desired) {
		out = append(out, "spec.resources.requests.storage shrinks: a volume claim cannot shrink; the API server will refuse this change")
	}
	return out
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

// Removal says what removing an object of kind takes with it, "" when
// nothing.
func Removal(kind string) string {
	switch kind {
	case "CustomResourceDefinition":
		return "removing a CRD deletes every custom resource of its kind, cluster-wide"
	case "PersistentVolumeClaim":
		return "removing a volume claim may delete its volume and the data on it"
	case "Namespace":
		return "removing a namespace deletes everything in it"
	case "StatefulSet":
		return "removing a StatefulSet stops its pods; their volume claims stay behind"
	}
	return ""
}
