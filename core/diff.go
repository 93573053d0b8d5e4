package core

import (
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/normalize"
	"github.com/cozyhr/cozyhr/core/predict"
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
	Hazards []hazard.Finding
	// Muted are the findings the chart's configuration turned off.
	Muted []hazard.Finding
	// Hook says Helm runs the object as a hook (a review compares hooks;
	// the live diff cannot).
	Hook bool
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
	// CRDs are the chart's crds/ CRDs a comparison of two renders adds or
	// changes: helm-controller applies them only as its CRD policy says.
	CRDs []string
	// Prediction is what helm-controller will do with the change, when a
	// live HelmRelease governs the release.
	Prediction *predict.Prediction
	// Findings are the release's as a whole (hazard.Release).
	Findings []hazard.Finding
	// Owned are the live objects the change writes that Helm's marks say
	// are not this release's: another release's, or none's.
	Owned []Owned
	// rules are the settings ApplyRules applied, for findings flagged
	// later (Flag).
	rules map[string]string
	// foreign are the live objects' fields other managers own, by object.
	foreign map[string][]metav1.ManagedFieldsEntry
}

// Owned is a live object the change takes from Owner ("" for no release).
type Owned struct{ Ref, Owner string }

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
// field after normalisation (see normalize.Live), each as soon as its live
// counterpart is read.
func (w *Workspace) Diff(ctx context.Context, d *Desired, opts DiffOptions) (*DiffResult, error) {
	if w.Cluster == nil {
		return nil, &NeedsClusterError{What: "diff compares with live objects and"}
	}
	reader, err := w.liveReader(d.Target, opts.Parallelism)
	if err != nil {
		return nil, err
	}
	reader.Manager = fieldManager(d.Target)

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
	res := &DiffResult{foreign: map[string][]metav1.ManagedFieldsEntry{}}
	// CRDs the coming install or upgrade does not write (crdsUpdated) are
	// compared only to name those it leaves behind, never as changes.
	lastMethod := ""
	if d.Previous != nil {
		lastMethod = d.Previous.ApplyMethod
	}
	policy := w.crdPolicy(d.Target, d.upgrades())
	updated := w.crdsUpdated(d.Target, d.upgrades(), predict.ServerSideApply(d.Target.HelmRelease, lastMethod, !d.upgrades()))
	skipped := map[string]bool{}
	templated := map[string]bool{}
	for _, o := range d.Rendered.Manifests {
		if o.GetKind() == "CustomResourceDefinition" {
			templated[o.GetName()] = true
		}
	}
	for _, o := range d.Rendered.CRDs {
		if templated[o.GetName()] {
			continue // the release's own copy is applied after, and stays
		}
		desired = append(desired, o.Unstructured)
		if !updated {
			skipped[o.GetName()] = true
		}
	}
	if policy == CRDsSkip && len(skipped) > 0 {
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
	for name := range skipped { // only those the filters keep are compared
		if !slices.ContainsFunc(desired, func(u *unstructured.Unstructured) bool {
			return u.GetKind() == "CustomResourceDefinition" && u.GetName() == name
		}) {
			delete(skipped, name)
		}
	}
	rules := append(normalize.HelmReleaseIgnoreRules(d.Target.HelmRelease), opts.Ignore...)

	removed := map[*unstructured.Unstructured]bool{}
	seen := map[string]bool{}
	for _, obj := range desired {
		reader.DefaultNamespace(obj)
		seen[manifest.RefOf(obj).Key()] = true
	}
	objs := desired
	for key, obj := range previous {
		if !seen[key] && keep(obj) {
			removed[obj] = true
			objs = append(objs, obj)
		}
	}
	seen, desired = nil, nil
	release, namespace, manager := d.Target.ReleaseName, d.Target.Namespace, fieldManager(d.Target)

	// Each object is compared as its live counterpart is read, and let go:
	// what stays is the changes, never the whole release twice.
	var mu sync.Mutex
	var removedLive []*unstructured.Unstructured
	record := func(change *ObjectDiff, hidden []normalize.IgnoredField) {
		mu.Lock()
		defer mu.Unlock()
		res.record(change, hidden)
	}
	// In server-side mode, the objects the default comparison finds
	// changed are dry-run 32 at once, within their own rate limit
	// (kube.DryRunDynamic), while the reads go on.
	dryRuns, dctx := errgroup.WithContext(ctx)
	dryRuns.SetLimit(32)
	err = reader.Visit(ctx, objs, func(obj, live *unstructured.Unstructured, unknown bool) error {
		ref := manifest.RefOf(obj)
		mu.Lock()
		if removed[obj] {
			if live != nil {
				removedLive = append(removedLive, live)
			}
			mu.Unlock()
			return nil
		}
		var prev map[string]any
		if po := previous[ref.Key()]; po != nil {
			prev = po.Object
			delete(previous, ref.Key()) // only removals read it afterwards
		}
		mu.Unlock()
		want := normalize.Desired(obj.Object, liveObject(live), prev)
		if live == nil {
			note := ""
			if unknown && crdKinds[ref.GroupKind()] {
				note = "its CRD is created by this release"
			} else if unknown {
				note = "its kind is not served by the cluster (CRD missing?)"
			}
			record(wholeChange(ActionAdd, obj, want, note, opts.ShowSecrets), nil)
			return nil
		}
		// Helm never marks the CRDs of crds/, nor looks at their marks.
		if owner, other := hazard.OtherOwner(live.Object, release, namespace); other && !slices.ContainsFunc(d.Rendered.CRDs, func(o manifest.Object) bool { return o.Unstructured == obj }) {
			mu.Lock()
			res.Owned = append(res.Owned, Owned{Ref: ref.String(), Owner: owner})
			mu.Unlock()
		}
		if foreign := live.GetManagedFields(); len(foreign) > 0 { // kube.ForeignManagers's
			mu.Lock()
			res.foreign[ref.String()] = foreign
			mu.Unlock()
		}
		have := normalize.Live(live.Object, want, prev)
		if !opts.ServerSide {
			change, hidden, err := comparePair(ref, obj, have, want, rules, opts.ShowSecrets)
			if err == nil {
				record(change, hidden)
			}
			return err
		}
		// An object the live one already matches, field for field, is not
		// dry-run: applying what is there changes nothing, and the server
		// would answer with the live object.
		hidden, same, err := hideAndMask(obj, have, want, rules, opts.ShowSecrets)
		if err != nil || same {
			if err == nil {
				record(nil, hidden)
			}
			return err
		}
		dryRuns.Go(func() error {
			applied, err := reader.ApplyDryRun(dctx, kube.WithHelmOwnership(obj, release, namespace), manager)
			if err != nil {
				return err
			}
			change, hidden, err := comparePair(ref, obj, normalize.Server(live.Object), normalize.Server(applied.Object), rules, opts.ShowSecrets)
			if err == nil {
				record(change, hidden)
			}
			return err
		})
		return nil
	})
	if werr := dryRuns.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return nil, err
	}
	for _, live := range removedLive {
		// Show the object as the chart last rendered it: the live copy's
		// server-assigned fields (clusterIP, defaults) say nothing useful.
		record(wholeChange(ActionRemove, live, normalize.Live(live.Object, previous[manifest.RefOf(live).Key()].Object, nil), "", opts.ShowSecrets), nil)
	}
	res.finish()
	res.CRDs = crdsChanged(res, d)
	if d.Previous != nil && d.Previous.Chart != nil && d.Previous.Chart.Metadata != nil {
		res.Findings = append(hazard.Release(d.Previous.Chart.Metadata.Version, d.Chart.Metadata.Version, len(res.Changes)),
			hazard.UnreadValues(d.Previous.Chart.Values, d.Chart.Values, d.Values)...)
	}
	before := len(res.Changes)
	res.Changes = slices.DeleteFunc(res.Changes, func(c ObjectDiff) bool {
		return c.Ref.Kind == "CustomResourceDefinition" && skipped[c.Ref.Name] && (policy == CRDsSkip || c.Action != ActionAdd)
	})
	res.Unchanged -= len(skipped) - (before - len(res.Changes)) // nor counted
	return res, nil
}

// wholeChange is an object added or removed whole, its Secret data masked
// unless showSecrets.
func wholeChange(action Action, obj *unstructured.Unstructured, normalized map[string]any, note string, showSecrets bool) *ObjectDiff {
	if !showSecrets && manifest.IsSecret(obj) {
		manifest.MaskAll(normalized)
	}
	return &ObjectDiff{Ref: manifest.RefOf(obj), Action: action, Note: note, Object: normalized}
}

// record counts one compared object: a change, or nil for none.
func (res *DiffResult) record(change *ObjectDiff, hidden []normalize.IgnoredField) {
	res.Ignored = append(res.Ignored, hidden...)
	if change == nil {
		res.Unchanged++
	} else {
		res.Changes = append(res.Changes, *change)
	}
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

// comparePair compares one object's two sides, both normalised: ignore
// rules hide what they select, Secret data is masked unless showSecrets,
// and a difference that remains is a change (nil when there is none).
func comparePair(ref manifest.Ref, obj *unstructured.Unstructured, have, want map[string]any, rules []normalize.IgnoreRule, showSecrets bool) (*ObjectDiff, []normalize.IgnoredField, error) {
	hidden, same, err := hideAndMask(obj, have, want, rules, showSecrets)
	if err != nil || same {
		return nil, hidden, err
	}
	report, err := compare(ref, have, want)
	if err != nil {
		return nil, nil, err
	}
	if len(report.Diffs) == 0 {
		return nil, hidden, nil
	}
	return &ObjectDiff{Ref: ref, Action: ActionChange, Report: report, Live: have, Desired: want}, hidden, nil
}

// hideAndMask applies the ignore rules and masks Secret data on both
// sides, and says whether they are then the same. Most objects are: they
// skip dyff's YAML round trip.
func hideAndMask(obj *unstructured.Unstructured, have, want map[string]any, rules []normalize.IgnoreRule, showSecrets bool) ([]normalize.IgnoredField, bool, error) {
	hidden, err := normalize.ApplyIgnoreRules(rules, obj, have, want)
	if err != nil {
		return nil, false, err
	}
	if !showSecrets && manifest.IsSecret(obj) {
		manifest.MaskPair(have, want)
	}
	return hidden, reflect.DeepEqual(have, want), nil
}

// sort orders changes, and the hidden fields, by kind, namespace and
// name: objects are compared in whatever order the reads return them.
func (res *DiffResult) sort() {
	sort.SliceStable(res.Changes, func(i, j int) bool {
		return refLess(res.Changes[i].Ref, res.Changes[j].Ref)
	})
	sort.SliceStable(res.Ignored, func(i, j int) bool {
		a, b := res.Ignored[i], res.Ignored[j]
		if a.Ref != b.Ref {
			return refLess(a.Ref, b.Ref)
		}
		return a.Path < b.Path
	})
}

func refLess(a, b manifest.Ref) bool {
	if a.Kind != b.Kind {
		return a.Kind < b.Kind
	}
	if a.Namespace != b.Namespace {
		return a.Namespace < b.Namespace
	}
	if a.Name != b.Name {
		return a.Name < b.Name
	}
	return a.Group < b.Group
}
func liveObject(u *unstructured.Unstructured) map[string]any {
	if u == nil {
		return nil
	}
	return u.Object
}

// compare diffs two objects structurally with dyff.
func compare(ref manifest.Ref, from, to map[string]any) (*dyff.Report, error) {
	report, err := dyff.CompareInputFiles(
		ytbx.InputFile{Location: "live", Documents: []*yaml.Node{manifest.YAMLDocument(from)}},
		ytbx.InputFile{Location: "desired", Documents: []*yaml.Node{manifest.YAMLDocument(to)}},
		dyff.KubernetesEntityDetection(false),
	)
	if err != nil {
		return nil, fmt.Errorf("diff %s: %w", ref, err)
	}
	return &report, nil
}

// DiffChart renders the chart and compares it with the live objects, the
// chart's own ignore rules (.cozyhr.yaml diff.ignore) before opts'.
func (w *Workspace) DiffChart(ctx context.Context, render RenderOptions, opts DiffOptions, debug io.Writer) (*DiffResult, error) {
	opts.Ignore = append(normalize.ConfigIgnoreRules(w.Config.Diff.Ignore), opts.Ignore...)
	d, err := w.Desired(ctx, render, debug)
	if err != nil {
		return nil, err
	}
	res, err := w.Diff(ctx, d, opts)
	if err != nil {
		return nil, err
	}
	if t := d.Target; t.FluxMode() && !t.Offline {
		method := ""
		if d.Previous != nil {
			method = d.Previous.ApplyMethod
		}
		res.Prediction = res.Predict(t.HelmRelease, d.upgrades(), method)
	}
	res.ApplyRules(w.Config.Diff.Rules)
	return res, nil
}
