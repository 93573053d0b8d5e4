package core

import (
	"cmp"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/normalize"
)

// CompareRenders diffs two renders of a chart with no cluster: base (an
// older revision, say) as the "live" side and head as the desired one. The
// same structural diff, ignore rules, kind and label filters and Secret
// masking as the live diff apply; hooks are left out as there. A nil side
// is a chart that does not exist there: everything is added or removed.
func CompareRenders(base, head *Desired, opts DiffOptions) (*DiffResult, error) {
	keep, err := manifest.Filter(opts.Kinds, opts.LabelSelector)
	if err != nil {
		return nil, err
	}
	baseObjs, err := renderedObjects(base, keep)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	headObjs, err := renderedObjects(head, keep)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	rules := opts.Ignore
	if side := cmp.Or(head, base); side != nil {
		rules = append(normalize.HelmReleaseIgnoreRules(side.Target.HelmRelease), rules...)
	}
	res := &DiffResult{}
	for key, obj := range headObjs {
		ref := manifest.RefOf(obj)
		want := normalize.Desired(obj.Object, nil, nil)
		old, ok := baseObjs[key]
		if !ok {
			res.addWhole(ActionAdd, obj, want, "", opts.ShowSecrets)
			continue
		}
		have := normalize.Desired(old.Object, nil, nil)
		if err := res.addPair(ref, obj, have, want, rules, opts.ShowSecrets); err != nil {
			return nil, err
		}
	}
	for key, obj := range baseObjs {
		if _, ok := headObjs[key]; ok {
			continue
		}
		res.addWhole(ActionRemove, obj, normalize.Desired(obj.Object, nil, nil), "", opts.ShowSecrets)
	}
	res.finish()
	return res, nil
}

// renderedObjects are a render's CRDs and resources by identity, parsed,
// each a copy, namespaced ones without a namespace given the release's.
func renderedObjects(d *Desired, keep func(*unstructured.Unstructured) bool) (map[string]*unstructured.Unstructured, error) {
	if d == nil {
		return nil, nil
	}
	objs, err := manifest.ParseObjects(append(append([]manifest.Object(nil), d.Rendered.CRDs...), d.Rendered.Manifests...))
	if err != nil {
		return nil, err
	}
	out := make(map[string]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(o.Object)}
		// Without a cluster the scope of a kind is unknown: both sides get
		// the same treatment, so an object compares with itself.
		if u.GetNamespace() == "" && u.GetKind() != "Namespace" && u.GetKind() != "CustomResourceDefinition" {
			u.SetNamespace(d.Target.Namespace)
		}
		if keep(u) {
			out[manifest.RefOf(u).Key()] = u
		}
	}
	return out, nil
}
