package core

import (
	"context"
	"fmt"
	"reflect"
	"sort"

	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/normalize"
	"github.com/gonvenience/ytbx"
	"github.com/homeport/dyff/pkg/dyff"
	yaml "go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"
	releaseutil "helm.sh/helm/v4/pkg/release/v1/util"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Action says what applying the desired state does to one object.
type Action string

// Actions, in the order they are reported.
const (
	ActionAdd    Action = "add"
	ActionChange Action = "change"
	ActionRemove Action = "remove"
)

// DiffOptions tune the diff stage.
type DiffOptions struct {
	// ShowSecrets prints Secret data; by default values are masked.
	ShowSecrets bool
	// Parallelism bounds concurrent API reads; 0 means a sensible default.
	Parallelism int
	// Ignore hides fields (from .cozyhr.yaml and flags); the HelmRelease's
	// driftDetection.ignore rules are added automatically.
	Ignore []normalize.IgnoreRule
	// Kinds and LabelSelector keep only matching objects.
	Kinds         []string
	LabelSelector string
	// ServerSide compares the live object with the result of a server-side
	// apply dry-run of the rendered one: defaults and admission webhooks
	// included, nothing pruned.
	ServerSide bool
}

// ObjectDiff is the difference for one object.
type ObjectDiff struct {
	Ref    manifest.Ref
	Action Action
	// Note explains an unusual case, such as a kind the server does not serve.
	Note string
	// Report holds the field changes of an ActionChange.
	Report *dyff.Report
	// Object is the (masked) object added or removed.
	Object map[string]any
	// Live and Desired are the two compared sides of an ActionChange, after
	// normalisation and masking.
	Live, Desired map[string]any
	// Hazards say why the change will hurt: the API server will refuse it
	// (an immutable field), or it takes data with it (a removed CRD, PVC,
	// Namespace or StatefulSet).
	Hazards []string
}

// DiffResult is the outcome of comparing the desired state with the cluster.
type DiffResult struct {
	// Case is the value case compared, when a chart has several.
	Case      string
	Changes   []ObjectDiff
	Unchanged int
	// Ignored lists the differences that ignore rules hid.
	Ignored []normalize.IgnoredField
	// Notes explain what was deliberately not compared.
	Notes []string
}

// HasChanges reports whether applying would change anything.
func (r *DiffResult) HasChanges() bool { return len(r.Changes) > 0 }

// Counts returns how many objects would be added, changed and removed.
func (r *DiffResult) Counts() (add, change, remove int) {
	for _, c := range r.Changes {
		switch c.Action {
		case ActionAdd:
			add++
		case ActionChange:
			change++
		case ActionRemove:
			remove++
		}
	}
	return
}

// Diff compares the desired state with the live objects in the cluster.
// It uses d's parsed objects in place (their namespaces defaulted) rather
// than a copy of them: the caller is done with d once it is diffed.
// Objects rendered but absent are additions; objects of the current release
// that are no longer rendered are removals; the rest are compared field by
// field after normalisation (see normalizeLive).
func (w *Workspace) Diff(ctx context.Context, d *Desired, opts DiffOptions) (*DiffResult, error) {
	if w.Cluster == nil {
		return nil, &NeedsClusterError{What: "diff compares with live objects and"}
	}
	reader, err := w.liveReader(d.Target, opts.Parallelism)
	if err != nil {
		return nil, err
	}

	previous := map[string]*unstructured.Unstructured{}
	if d.Previous != nil {
		// A stored document with the text of a rendered one is that object:
		// only the others are parsed (most are the same from one revision
		// to the next, and a release of thousands of objects is not held
		// twice).
		rendered := make(map[string]*unstructured.Unstructured, len(d.Rendered.Manifests))
		for _, o := range d.Rendered.Manifests {
			if o.Unstructured != nil && len(o.Raw) > 0 {
				rendered[string(manifest.Body(o.Raw))] = o.Unstructured
			}
		}
		var docs []manifest.Object
		for _, doc := range releaseutil.SplitManifests(d.Previous.Manifest) {
			if u := rendered[string(manifest.Body([]byte(doc)))]; u != nil {
				reader.DefaultNamespace(u)
				previous[manifest.RefOf(u).Key()] = u
				continue
			}
			docs = append(docs, manifest.Object{Source: "release " + d.Previous.Name, Raw: []byte(doc)})
		}
		objs, err := manifest.ParseObjects(docs)
		if err != nil {
			return nil, fmt.Errorf("release %s manifest: %w", d.Previous.Name, err)
		}
		for _, o := range objs {
			reader.DefaultNamespace(o.Unstructured)
			previous[manifest.RefOf(o.Unstructured).Key()] = o.Unstructured
		}
	}

	desired := make([]*unstructured.Unstructured, 0, len(d.Rendered.CRDs)+len(d.Rendered.Manifests))
	crdKinds := map[schema.GroupKind]bool{}
	// CRDs are compared only when the coming install or upgrade would
	// write them: Helm's upgrade, and the default Flux upgrade policy, skip
	// crds/.
	res := &DiffResult{}
	if policy := w.crdPolicy(d.Target, d.upgrades()); policy != CRDsSkip {
		for _, o := range d.Rendered.CRDs {
			desired = append(desired, o.Unstructured)
		}
	} else if len(d.Rendered.CRDs) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d CRD(s) in crds/ not compared: an upgrade leaves them alone (CRD policy Skip; see spec.upgrade.crds, or apply.crds in .cozyhr.yaml)", len(d.Rendered.CRDs)))
	}
	for _, o := range d.Rendered.Manifests {
		desired = append(desired, o.Unstructured)
	}
	for _, o := range append(append([]manifest.Object(nil), d.Rendered.CRDs...), d.Rendered.Manifests...) {
		if o.GetKind() == "CustomResourceDefinition" {
			group, _, _ := unstructured.NestedString(o.Object, "spec", "group")
			kind, _, _ := unstructured.NestedString(o.Object, "spec", "names", "kind")
			crdKinds[schema.GroupKind{Group: group, Kind: kind}] = true
		}
	}

	keep, err := manifest.Filter(opts.Kinds, opts.LabelSelector)
	if err != nil {
		return nil, err
	}
	desired = manifest.FilterObjects(desired, keep)
	rules := append(normalize.HelmReleaseIgnoreRules(d.Target.HelmRelease), opts.Ignore...)

	type pair struct {
		desired, live, applied *unstructured.Unstructured
		note                   string
	}
	pairs := make([]pair, len(desired))
	seen := map[string]bool{}
	for i, obj := range desired {
		reader.DefaultNamespace(obj)
		seen[manifest.RefOf(obj).Key()] = true
		pairs[i].desired = obj
	}
	var removedRefs []*unstructured.Unstructured
	for key, obj := range previous {
		if !seen[key] && keep(obj) {
			removedRefs = append(removedRefs, obj)
		}
	}
	removedLive := make([]*unstructured.Unstructured, len(removedRefs))

	all := append(append([]*unstructured.Unstructured(nil), desired...), removedRefs...)
	state, err := reader.ReadAll(ctx, all)
	if err != nil {
		return nil, err
	}
	for i := range pairs {
		ref := manifest.RefOf(pairs[i].desired)
		pairs[i].live = state.Objects[ref.Key()]
		if state.Unknown[ref.GroupKind()] {
			if crdKinds[ref.GroupKind()] {
				pairs[i].note = "its CRD is created by this release"
			} else {
				pairs[i].note = "its kind is not served by the cluster (CRD missing?)"
			}
		}
	}
	for i, obj := range removedRefs {
		removedLive[i] = state.Objects[manifest.RefOf(obj).Key()]
	}
	if opts.ServerSide {
		g, gctx := errgroup.WithContext(ctx)
		// Dry-runs go at once, within their own rate limit (kube.DryRunDynamic).
		g.SetLimit(32)
		for i := range pairs {
			if pairs[i].live == nil {
				continue
			}
			g.Go(func() (err error) {
				pairs[i].applied, err = reader.ApplyDryRun(gctx, kube.WithHelmOwnership(pairs[i].desired, d.Target.ReleaseName, d.Target.Namespace), fieldManager(d.Target))
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	}

	// Each pair is let go once compared: what stays is the changes.
	for i := range pairs {
		p := pairs[i]
		pairs[i], desired[i] = pair{}, nil
		ref := manifest.RefOf(p.desired)
		delete(state.Objects, ref.Key())
		var prev map[string]any
		if po := previous[ref.Key()]; po != nil {
			prev = po.Object
			delete(previous, ref.Key()) // only removals read it below
		}
		want := normalize.Desired(p.desired.Object, liveObject(p.live), prev)
		if p.live == nil {
			res.addWhole(ActionAdd, p.desired, want, p.note, opts.ShowSecrets)
			continue
		}
		var have map[string]any
		if opts.ServerSide {
			have, want = normalize.Server(p.live.Object), normalize.Server(p.applied.Object)
		} else {
			have = normalize.Live(p.live.Object, want, prev)
		}
		if err := res.addPair(ref, p.desired, have, want, rules, opts.ShowSecrets); err != nil {
			return nil, err
		}
	}
	for _, live := range removedLive {
		if live == nil {
			continue // already gone
		}
		// Show the object as the chart last rendered it: the live copy's
		// server-assigned fields (clusterIP, defaults) say nothing useful.
		res.addWhole(ActionRemove, live, normalize.Live(live.Object, previous[manifest.RefOf(live).Key()].Object, nil), "", opts.ShowSecrets)
	}
	res.finish()
	return res, nil
}

// addWhole records an object added or removed whole, its Secret data
// masked unless showSecrets.
func (res *DiffResult) addWhole(action Action, obj *unstructured.Unstructured, normalized map[string]any, note string, showSecrets bool) {
	if !showSecrets && manifest.IsSecret(obj) {
		manifest.MaskAll(normalized)
	}
	res.Changes = append(res.Changes, ObjectDiff{Ref: manifest.RefOf(obj), Action: action, Note: note, Object: normalized})
}

// finish orders the changes and marks what will hurt.
func (res *DiffResult) finish() {
	res.sort()
	res.flagHazards()
}

// Flagged counts the changes with hazards.
func (r *DiffResult) Flagged() int {
	n := 0
	for _, c := range r.Changes {
		if len(c.Hazards) > 0 {
			n++
		}
	}
	return n
}

// addPair compares one object's two sides, both normalised: ignore rules
// hide what they select, Secret data is masked unless showSecrets, and a
// difference that remains is a change.
func (res *DiffResult) addPair(ref manifest.Ref, obj *unstructured.Unstructured, have, want map[string]any, rules []normalize.IgnoreRule, showSecrets bool) error {
	hidden, err := normalize.ApplyIgnoreRules(rules, obj, have, want)
	if err != nil {
		return err
	}
	res.Ignored = append(res.Ignored, hidden...)
	if !showSecrets && manifest.IsSecret(obj) {
		manifest.MaskPair(have, want)
	}
	// Most objects are unchanged: skip dyff's YAML round trip for them.
	if reflect.DeepEqual(have, want) {
		res.Unchanged++
		return nil
	}
	report, err := compare(ref, have, want)
	if err != nil {
		return err
	}
	if len(report.Diffs) == 0 {
		res.Unchanged++
		return nil
	}
	res.Changes = append(res.Changes, ObjectDiff{Ref: ref, Action: ActionChange, Report: report, Live: have, Desired: want})
	return nil
}

// sort orders changes by kind, namespace and name.
func (res *DiffResult) sort() {
	sort.SliceStable(res.Changes, func(i, j int) bool {
		a, b := res.Changes[i].Ref, res.Changes[j].Ref
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}
func liveObject(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	return u.Object
}

// compare diffs two objects structurally with dyff.
func compare(ref manifest.Ref, from, to map[string]any) (*dyff.Report, error) {
	fromNode, err := toYAMLNode(from)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", ref, err)
	}
	toNode, err := toYAMLNode(to)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", ref, err)
	}
	report, err := dyff.CompareInputFiles(
		ytbx.InputFile{Location: "live", Documents: []*yaml.Node{fromNode}},
		ytbx.InputFile{Location: "desired", Documents: []*yaml.Node{toNode}},
		dyff.KubernetesEntityDetection(false),
	)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", ref, err)
	}
	return &report, nil
}

func toYAMLNode(obj map[string]any) (*yaml.Node, error) {
	data, err := sigsyaml.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	return &n, nil
}
