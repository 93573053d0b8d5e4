// Package normalize makes a rendered object and its live counterpart
// comparable: what the server and Helm add or rewrite is taken out of both
// sides alike, and ignore rules hide what the user says not to compare.
package normalize

import (
	"fmt"
	"reflect"

	"github.com/cozyhr/cozyhr/core/manifest"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
)

// managedByLabel is the ownership label Helm sets to "Helm" on every object.
const managedByLabel = "app.kubernetes.io/managed-by"

// Metadata the API server or Helm writes and the chart never does.
var (
	serverMetadata = []string{
		"managedFields", "uid", "resourceVersion", "generation", "creationTimestamp",
		"selfLink", "deletionGracePeriodSeconds",
	}
	bookkeepingAnnotations = []string{
		"meta.helm.sh/release-name", "meta.helm.sh/release-namespace",
		"kubectl.kubernetes.io/last-applied-configuration",
		"deployment.kubernetes.io/revision",
	}
)

// Live strips what the server and Helm add, then keeps only the
// fields that the desired object or the previous release's object has.
// Those are exactly the fields helm upgrade's three-way merge touches:
// a field only the server set (a default) is left out, while a field the
// chart used to set and no longer does still shows as a removal.
func Live(live, desired, previous map[string]any) map[string]any {
	if desired == nil {
		obj := runtime.DeepCopyJSON(withoutServerMetadata(live))
		delete(obj, "status")
		return obj
	}
	// prune builds what it keeps afresh: live itself is not copied first.
	obj := withoutServerMetadata(live)
	delete(obj, "status")
	keep := []any{desired}
	if previous != nil {
		prev := previous
		if _, ok := prev["stringData"]; ok {
			prev = runtime.DeepCopyJSON(previous)
			manifest.StringDataToData(prev)
		}
		keep = append(keep, prev)
	}
	pruned, _ := prune(obj, keep).(map[string]any)
	return pruned
}

// withoutServerMetadata is live without the metadata the server and Helm
// write (uid, managedFields, Helm's release annotations); annotations or
// labels left empty are dropped. Only metadata is copied.
func withoutServerMetadata(live map[string]any) map[string]any {
	md, ok := live["metadata"].(map[string]any)
	if !ok {
		return live
	}
	out := make(map[string]any, len(live))
	for k, v := range live {
		out[k] = v
	}
	meta := make(map[string]any, len(md))
	for k, v := range md {
		meta[k] = v
	}
	for _, k := range serverMetadata {
		delete(meta, k)
	}
	for _, field := range []string{"annotations", "labels"} {
		m, ok := meta[field].(map[string]any)
		if !ok {
			continue
		}
		kept := make(map[string]any, len(m))
		for k, v := range m {
			kept[k] = v
		}
		if field == "annotations" {
			for _, k := range bookkeepingAnnotations {
				delete(kept, k)
			}
		}
		if len(kept) == 0 {
			delete(meta, field)
		} else {
			meta[field] = kept
		}
	}
	out["metadata"] = meta
	return out
}

// prune keeps the parts of v that any of keep has. Maps are pruned key by
// key; lists element by element by index; an element beyond every kept
// list is kept whole, since it is a real difference.
func prune(v any, keep []any) any {
	switch t := v.(type) {
	case map[string]any:
		var maps []map[string]any
		for _, k := range keep {
			if m, ok := k.(map[string]any); ok {
				maps = append(maps, m)
			}
		}
		if len(maps) == 0 {
			return v
		}
		out := map[string]any{}
		for key, val := range t {
			var sub []any
			for _, m := range maps {
				if kv, ok := m[key]; ok {
					sub = append(sub, kv)
				}
			}
			if len(sub) > 0 {
				out[key] = prune(val, sub)
			}
		}
		return out
	case []any:
		var lists [][]any
		for _, k := range keep {
			if l, ok := k.([]any); ok {
				lists = append(lists, l)
			}
		}
		if len(lists) == 0 {
			return v
		}
		out := make([]any, len(t))
		for i, el := range t {
			var sub []any
			for _, l := range lists {
				if i < len(l) {
					sub = append(sub, l[i])
				}
			}
			if len(sub) == 0 {
				out[i] = el
				continue
			}
			out[i] = prune(el, sub)
		}
		return out
	default:
		return v
	}
}

// Desired removes what the server would drop or rewrite from a
// rendered object, comparing with the live one: nulls, empty maps or lists
// and zero scalars where the live object has nothing (omitted defaults), and
// resource quantities the server canonicalised (2048Mi is stored as 2Gi).
// Secret stringData is folded into data.
//
// A field the previous release applied with the same value but that the live
// object lacks was pruned by the server (an unknown field, such as min/max in
// a CRD schema): it is not a change either. Metadata is exempt, so that a
// label removed by hand still shows.
func Desired(desired, live, previous map[string]any) map[string]any {
	// What the server and Helm write is taken out of the desired object too:
	// a chart may write Helm's own ownership annotations in its templates.
	obj := runtime.DeepCopyJSON(withoutServerMetadata(desired))
	// status is the server's, on both sides (a chart that templates a CRD
	// with an empty status writes nothing the server keeps).
	delete(obj, "status")
	// Helm writes its ownership label on every object whatever the
	// template says (kubevirt's CDI chart says cdi-operator).
	if md, ok := obj["metadata"].(map[string]any); ok {
		if labels, ok := md["labels"].(map[string]any); ok {
			if _, ok := labels[managedByLabel]; ok {
				labels[managedByLabel] = "Helm"
			}
		}
	}
	if obj["kind"] == "Secret" && obj["apiVersion"] == "v1" {
		manifest.StringDataToData(obj)
	}
	if live != nil {
		// Compared with what Live keeps: an empty annotations map
		// matches a live one that holds only Helm's bookkeeping.
		reconcileDesired(obj, withoutServerMetadata(live), previous, "")
	} else {
		dropNulls(obj)
	}
	return obj
}

// quantityParents are the keys under which values are resource.Quantity.
var quantityParents = map[string]bool{"limits": true, "requests": true, "hard": true, "overhead": true, "capacity": true}

func reconcileDesired(obj, live, previous map[string]any, parent string) {
	for k, v := range obj {
		lv, inLive := live[k]
		pv, inPrevious := previous[k]
		if !inLive && live != nil && inPrevious && parent != "" && k != "metadata" && reflect.DeepEqual(v, pv) {
			delete(obj, k)
			continue
		}
		switch t := v.(type) {
		case nil:
			// A null the server kept (an open schema keeps it) is no change.
			if !inLive || lv != nil {
				delete(obj, k)
			}
		case map[string]any:
			lm, _ := lv.(map[string]any)
			pm, _ := pv.(map[string]any)
			if k == "metadata" && parent == "" {
				pm = nil
			}
			reconcileDesired(t, lm, pm, k)
			emptyLike(obj, k, len(t) == 0, inLive, lv)
		case []any:
			if emptyLike(obj, k, len(t) == 0, inLive, lv) {
				continue
			}
			ll, _ := lv.([]any)
			pl, _ := pv.([]any)
			for i, el := range t {
				if em, ok := el.(map[string]any); ok {
					var lm, pm map[string]any
					if i < len(ll) {
						lm, _ = ll[i].(map[string]any)
					}
					if i < len(pl) {
						pm, _ = pl[i].(map[string]any)
					}
					reconcileDesired(em, lm, pm, k)
				}
			}
		default:
			if !inLive && live != nil && isZero(v) {
				delete(obj, k)
				continue
			}
			if inLive && (quantityParents[parent] || k == "sizeLimit") && sameQuantity(v, lv) {
				obj[k] = lv
			}
		}
	}
}

// emptyLike settles an empty map or list in the desired object the way the
// server stores it: absent when the live object omits it, null when the
// field is not omitempty and the server keeps a null (RBAC rules: []).
func emptyLike(obj map[string]any, k string, empty, inLive bool, lv any) bool {
	if !empty {
		return false
	}
	switch {
	case !inLive:
		delete(obj, k)
		return true
	case lv == nil:
		obj[k] = nil
		return true
	}
	return false
}

func dropNulls(obj map[string]any) {
	for k, v := range obj {
		switch t := v.(type) {
		case nil:
			delete(obj, k)
		case map[string]any:
			dropNulls(t)
		case []any:
			for _, el := range t {
				if em, ok := el.(map[string]any); ok {
					dropNulls(em)
				}
			}
		}
	}
}

func isZero(v any) bool {
	switch t := v.(type) {
	case bool:
		return !t
	case string:
		return t == ""
	case int64:
		return t == 0
	case float64:
		return t == 0
	}
	return false
}

func sameQuantity(a, b any) bool {
	qa, err := resource.ParseQuantity(fmt.Sprint(a))
	if err != nil {
		return false
	}
	qb, err := resource.ParseQuantity(fmt.Sprint(b))
	if err != nil {
		return false
	}
	return qa.Cmp(qb) == 0
}

// Server strips only what changes on every write (status and the
// server's metadata), for comparing two complete server-side objects.
func Server(obj map[string]any) map[string]any {
	out := runtime.DeepCopyJSON(obj)
	delete(out, "status")
	if md, ok := out["metadata"].(map[string]any); ok {
		for _, k := range serverMetadata {
			delete(md, k)
		}
	}
	return out
}
