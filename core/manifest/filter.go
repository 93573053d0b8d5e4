package manifest

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
)

// Filter keeps objects of the given kinds (case-insensitive, any of)
// that match the label selector; empty arguments keep everything.
func Filter(kinds []string, selector string) (func(*unstructured.Unstructured) bool, error) {
	sel := labels.Everything()
	if selector != "" {
		var err error
		if sel, err = labels.Parse(selector); err != nil {
			return nil, fmt.Errorf("label selector %q: %w", selector, err)
		}
	}
	want := map[string]bool{}
	for _, k := range kinds {
		for _, part := range strings.Split(k, ",") {
			if part = strings.TrimSpace(part); part != "" {
				want[strings.ToLower(part)] = true
			}
		}
	}
	return func(u *unstructured.Unstructured) bool {
		if len(want) > 0 && !want[strings.ToLower(u.GetKind())] {
			return false
		}
		return sel.Matches(labels.Set(u.GetLabels()))
	}, nil
}

// FilterObjects keeps the objects keep accepts, in place.
func FilterObjects(objs []*unstructured.Unstructured, keep func(*unstructured.Unstructured) bool) []*unstructured.Unstructured {
	out := objs[:0]
	for _, o := range objs {
		if keep(o) {
			out = append(out, o)
		}
	}
	return out
}
