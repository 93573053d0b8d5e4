package hazard

import (
	"encoding/json"
	"fmt"
	"slices"

	"strings"

	"github.com/homeport/dyff/pkg/dyff"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FieldConflicts says which of the changed fields (go-patch paths, as dyff
// names them) a foreign manager owns on the live object: a server-side
// apply that forces conflicts, as helm-controller's does, takes them, and
// a client-side patch overwrites them; either way the other manager may
// set them back.
func FieldConflicts(foreign []metav1.ManagedFieldsEntry, paths []string) []Finding {
	var out []Finding
	for _, e := range foreign {
		var fields map[string]any
		if json.Unmarshal(e.FieldsV1.Raw, &fields) != nil {
			continue
		}
		var owned []string
		for _, p := range paths {
			if owns(fields, strings.Split(strings.TrimPrefix(p, "/"), "/")) && !slices.Contains(owned, p) {
				owned = append(owned, p)
			}
		}
		if len(owned) > 0 {
			who := e.Manager
			if e.Subresource != "" {
				who += " (through " + e.Subresource + ")"
			}
			out = append(out, finding(FieldConflict, "%s owned by %s on the live object: the upgrade takes %s (a server-side apply forcing conflicts, as helm-controller's does, or a client-side patch), and %s may set %s again",
				dotted(owned), who, pronoun(owned), e.Manager, pronoun(owned)))
		}
	}
	return out
}

func dotted(paths []string) string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = strings.ReplaceAll(strings.TrimPrefix(p, "/"), "/", ".")
	}
	return strings.Join(out, ", ") + map[bool]string{true: " is", false: " are"}[len(paths) == 1]
}

func pronoun(paths []string) string {
	if len(paths) == 1 {
		return "it"
	}
	return "them"
}

// owns walks a fieldsV1 set along path: "f:name" for a field, "k:{...}"
// for a list entry named name=value. It owns the path when the walk meets
// a leaf: the field itself, or an atomic value above it. A path that ends
// on a map or an entry is keys added or removed there (dyff names such a
// change by the map): owning the map itself (".", having created it) or
// some of its keys is no claim on the others.
func owns(set map[string]any, path []string) bool {
	for _, seg := range path {
		next, ok := child(set, seg)
		if !ok {
			return false
		}
		if len(next) == 0 {
			return true
		}
		set = next
	}
	return false
}

func child(set map[string]any, seg string) (map[string]any, bool) {
	if v, ok := set["f:"+seg].(map[string]any); ok {
		return v, true
	}
	name, value, named := strings.Cut(seg, "=")
	if !named {
		return nil, false
	}
	for key, v := range set {
		var id map[string]any
		if !strings.HasPrefix(key, "k:") || json.Unmarshal([]byte(key[2:]), &id) != nil {
			continue
		}
		if fmt.Sprint(id[name]) == value {
			m, ok := v.(map[string]any)
			return m, ok
		}
	}
	return nil, false
}

// ReportPaths are the go-patch paths of a dyff report's differences.
func ReportPaths(report *dyff.Report) []string {
	if report == nil {
		return nil
	}
	out := make([]string, 0, len(report.Diffs))
	for _, d := range report.Diffs {
		out = append(out, d.Path.ToGoPatchStyle())
	}
	return out
}
