package core

import (
	"cmp"
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/normalize"
)

// CompareRenders diffs two renders of a chart with no cluster: base (an
// older revision, say) as the "live" side and head as the desired one. The
// same structural diff, ignore rules, kind and label filters and Secret
// masking as the live diff apply. Hooks are compared too, marked as hooks:
// a change that touches only a hook is a change of the chart, though the
// live diff cannot see hooks (Helm deletes most of them once run). A nil
// side is a chart that does not exist there: everything is added or
// removed.
func CompareRenders(ctx context.Context, base, head *Desired, opts DiffOptions) (*DiffResult, error) {
	keep, err := manifest.Filter(opts.Kinds, opts.LabelSelector)
	if err != nil {
		return nil, err
	}
	baseDocs, headDocs := documents(base), documents(head)
	same := 0
	// A document whose text is the same on both sides is the same object,
	// unchanged: it is counted, not parsed (most of a review's work when a
	// change touches little of a chart). Filters need the parsed object,
	// and a namespace change changes what an unnamespaced document means.
	if base != nil && head != nil && base.Target.Namespace == head.Target.Namespace && len(opts.Kinds) == 0 && opts.LabelSelector == "" {
		baseDocs, headDocs, same = dropIdentical(baseDocs, headDocs)
	}
	baseObjs, err := renderedObjects(base, baseDocs, keep)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	headObjs, err := renderedObjects(head, headDocs, keep)
	if err != nil {
		return nil, fmt.Errorf("head: %w", err)
	}
	rules := opts.Ignore
	if side := cmp.Or(head, base); side != nil {
		rules = append(normalize.HelmReleaseIgnoreRules(side.Target.HelmRelease), rules...)
	}
	res := &DiffResult{}
	// record marks a hook's change as the hook's, on whichever side it is one.
	record := func(key string, change *ObjectDiff, hidden []normalize.IgnoredField) {
		if change != nil {
			change.Hook = baseObjs[key].hook || headObjs[key].hook
		}
		res.record(change, hidden)
	}
	n := 0
	for key, r := range headObjs {
		// Thousands of objects take seconds: a stopped run stops here too.
		if n++; n%64 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		obj := r.obj
		ref := manifest.RefOf(obj)
		want := normalize.Desired(obj.Object, nil, nil)
		old, ok := baseObjs[key]
		if !ok {
			record(key, wholeChange(ActionAdd, obj, want, "", opts.ShowSecrets), nil)
			continue
		}
		have := normalize.Desired(old.obj.Object, nil, nil)
		change, hidden, err := comparePair(ref, obj, have, want, rules, opts.ShowSecrets)
		if err != nil {
			return nil, err
		}
		record(key, change, hidden)
	}
	for key, r := range baseObjs {
		if _, ok := headObjs[key]; ok {
			continue
		}
		record(key, wholeChange(ActionRemove, r.obj, normalize.Desired(r.obj.Object, nil, nil), "", opts.ShowSecrets), nil)
	}
	res.Unchanged += same
	res.finish()
	res.CRDs = crdsChanged(res, head)
	if base != nil && head != nil && base.Chart != nil && head.Chart != nil {
		res.Findings = hazard.Release(base.Chart.Metadata.Version, head.Chart.Metadata.Version, len(res.Changes))
	}
	return res, nil
}

// crdsChanged are the changes of CRDs that head's crds/ directory holds.
func crdsChanged(res *DiffResult, head *Desired) []string {
	if head == nil || len(head.Rendered.CRDs) == 0 {
		return nil
	}
	names := map[string]bool{}
	for _, o := range head.Rendered.CRDs {
		if o.Unstructured != nil {
			names[o.GetName()] = true
		}
	}
	var out []string
	for _, c := range res.Changes {
		if c.Ref.Kind == "CustomResourceDefinition" && c.Action != ActionRemove && names[c.Ref.Name] {
			out = append(out, c.Ref.Name)
		}
	}
	return out
}

// CompareDeployed diffs a release's deployed manifest (a snapshot's) with
// a render of it: what upgrading the release to the render changes. A
// release manifest holds neither hooks nor crds/ CRDs, so the comparison
// leaves them out.
func CompareDeployed(ctx context.Context, deployed string, d *Desired, opts DiffOptions) (*DiffResult, error) {
	objs, err := manifest.ParseManifests([]byte(deployed))
	if err != nil {
		return nil, fmt.Errorf("deployed manifest: %w", err)
	}
	r := *d.Rendered
	r.CRDs, r.Hooks = nil, nil
	head := *d
	head.Rendered = &r
	return CompareRenders(ctx, &Desired{Target: d.Target, Rendered: &Rendered{Manifests: objs}}, &head, opts)
}

// documents are a render's CRDs, resources and hooks.
func documents(d *Desired) []manifest.Object {
	if d == nil {
		return nil
	}
	return append(append(append([]manifest.Object(nil), d.Rendered.CRDs...), d.Rendered.Manifests...), d.Rendered.Hooks...)
}

// rendered is one object of a render and whether Helm runs it as a hook.
type rendered struct {
	obj  *unstructured.Unstructured
	hook bool
}

// dropIdentical takes out of both sides the documents whose text the
// other side has too, one for one, and says how many pairs it took.
func dropIdentical(base, head []manifest.Object) ([]manifest.Object, []manifest.Object, int) {
	count := make(map[string]int, len(base))
	for _, o := range base {
		if len(o.Raw) > 0 {
			count[string(o.Raw)]++
		}
	}
	var keptHead []manifest.Object
	matched := make(map[string]int, len(head))
	for _, o := range head {
		key := string(o.Raw)
		if len(o.Raw) > 0 && count[key] > matched[key] {
			matched[key]++
			continue
		}
		keptHead = append(keptHead, o)
	}
	var keptBase []manifest.Object
	same := 0
	for _, o := range base {
		key := string(o.Raw)
		if len(o.Raw) > 0 && matched[key] > 0 {
			matched[key]--
			same++
			continue
		}
		keptBase = append(keptBase, o)
	}
	return keptBase, keptHead, same
}

// renderedObjects are documents of a render by identity, parsed,
// each a copy, namespaced ones without a namespace given the release's.
func renderedObjects(d *Desired, docs []manifest.Object, keep func(*unstructured.Unstructured) bool) (map[string]rendered, error) {
	if d == nil {
		return nil, nil
	}
	objs, err := manifest.ParseObjects(docs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]rendered, len(objs))
	for _, o := range objs {
		u := &unstructured.Unstructured{Object: runtime.DeepCopyJSON(o.Object)}
		// Without a cluster the scope of a kind is unknown: both sides get
		// the same treatment, so an object compares with itself.
		if u.GetNamespace() == "" && u.GetKind() != "Namespace" && u.GetKind() != "CustomResourceDefinition" {
			u.SetNamespace(d.Target.Namespace)
		}
		if keep(u) {
			out[manifest.RefOf(u).Key()] = rendered{obj: u, hook: o.Hook}
		}
	}
	return out, nil
}
