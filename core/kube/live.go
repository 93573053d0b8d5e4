package kube

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/cozyhr/cozyhr/core/manifest"
	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
)

// LiveReader reads the live counterparts of rendered objects.
type LiveReader struct {
	dyn dynamic.Interface
	// dryRun gives the client server-side dry-runs go through, with rate
	// limits of its own.
	dryRun    func() (dynamic.Interface, error)
	mapper    meta.RESTMapper
	namespace string
	// selector narrows LISTs to the release's objects (Flux origin labels);
	// empty lists every object of the kind in the namespace.
	selector string
	// parallelism bounds concurrent requests.
	parallelism int
	// Manager is the release's field manager: the managedFields entries
	// of other managers are kept on the live objects read (for the
	// field-conflict rule), all others dropped.
	Manager string

	mappingsMu sync.Mutex
	mappings   map[schema.GroupVersionKind]cachedMapping
}

// NewLiveReader reads a release's live objects: one LIST per kind and
// namespace, narrowed to a label selector when given (Flux's origin
// labels), objects without a namespace defaulted to namespace.
func (c *Cluster) NewLiveReader(namespace, selector string, parallelism int) (*LiveReader, error) {
	dyn, err := c.Dynamic()
	if err != nil {
		return nil, err
	}
	mapper, err := c.Mapper()
	if err != nil {
		return nil, err
	}
	return &LiveReader{dyn: dyn, dryRun: c.DryRunDynamic, mapper: mapper, namespace: namespace, selector: selector, parallelism: parallelism}, nil
}

// LiveState is what ReadAll found.
type LiveState struct {
	Objects map[string]*unstructured.Unstructured // by Ref.Key()
	Unknown map[schema.GroupKind]bool             // kinds the server does not serve
}

// DefaultNamespace gives namespaced objects without a namespace the
// release's, and clears it on cluster-scoped ones, as Helm does on apply.
func (l *LiveReader) DefaultNamespace(obj *unstructured.Unstructured) {
	gvk := obj.GroupVersionKind()
	m, err := l.mapping(gvk)
	if err != nil {
		if obj.GetNamespace() == "" && obj.GetKind() != "CustomResourceDefinition" && obj.GetKind() != "Namespace" {
			obj.SetNamespace(l.namespace)
		}
		return
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(l.namespace)
		}
	} else {
		obj.SetNamespace("")
	}
}

// mapping is the REST mapping of a kind, asked of the mapper once per
// kind: the mapper allocates, errors included, on every call, and a diff
// asks for every object.
func (l *LiveReader) mapping(gvk schema.GroupVersionKind) (*meta.RESTMapping, error) {
	l.mappingsMu.Lock()
	defer l.mappingsMu.Unlock()
	if m, ok := l.mappings[gvk]; ok {
		return m.mapping, m.err
	}
	m, err := l.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if l.mappings == nil {
		l.mappings = map[schema.GroupVersionKind]cachedMapping{}
	}
	l.mappings[gvk] = cachedMapping{m, err}
	return m, err
}

type cachedMapping struct {
	mapping *meta.RESTMapping
	err     error
}

// listGroup is the objects of one resource in one namespace ("" for
// cluster-scoped resources).
type listGroup struct {
	resource  schema.GroupVersionResource
	namespace string
	objs      []*unstructured.Unstructured
}

// ReadAll fetches the live objects of objs (see Visit) and keeps them.
func (l *LiveReader) ReadAll(ctx context.Context, objs []*unstructured.Unstructured) (*LiveState, error) {
	state := &LiveState{Objects: map[string]*unstructured.Unstructured{}, Unknown: map[schema.GroupKind]bool{}}
	var mu sync.Mutex
	err := l.Visit(ctx, objs, func(obj, live *unstructured.Unstructured, unknown bool) error {
		mu.Lock()
		defer mu.Unlock()
		if unknown {
			state.Unknown[obj.GroupVersionKind().GroupKind()] = true
		}
		if live != nil {
			state.Objects[manifest.RefOf(live).Key()] = live
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return state, nil
}

// Visit calls fn once for each of objs with its live counterpart, nil when
// there is none (unknown: the server does not serve the kind). Live objects
// are read with one LIST per (resource, namespace) instead of a GET per
// object: a batch of one object is a GET, and objects a selected LIST did
// not return (not labelled yet) fall back to a GET. fn is called as each
// page of a LIST arrives, from several goroutines at once, so that a caller
// who compares as it goes never holds a whole release's live objects.
func (l *LiveReader) Visit(ctx context.Context, objs []*unstructured.Unstructured, fn func(obj, live *unstructured.Unstructured, unknown bool) error) error {
	batches := map[string]*listGroup{}
	var order []*listGroup
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		m, err := l.mapping(gvk)
		if meta.IsNoMatchError(err) {
			if err := fn(obj, nil, true); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("map %s: %w", manifest.RefOf(obj), err)
		}
		ns := ""
		if m.Scope.Name() == meta.RESTScopeNameNamespace {
			ns = obj.GetNamespace()
		}
		key := m.Resource.String() + "|" + ns
		b := batches[key]
		if b == nil {
			b = &listGroup{resource: m.Resource, namespace: ns}
			batches[key] = b
			order = append(order, b)
		}
		b.objs = append(b.objs, obj)
	}

	found := func(obj, live *unstructured.Unstructured) error {
		if live != nil {
			// managedFields are often the larger part of an object, and
			// only other managers' say anything (a field they own): let
			// the rest go at once.
			if foreign := ForeignManagers(live.GetManagedFields(), l.Manager); len(foreign) > 0 {
				live.SetManagedFields(foreign)
			} else {
				unstructured.RemoveNestedField(live.Object, "metadata", "managedFields")
			}
		}
		return fn(obj, live, false)
	}
	g, gctx := errgroup.WithContext(ctx)
	limit := l.parallelism
	if limit <= 0 {
		limit = 16
	}
	g.SetLimit(limit)
	for _, b := range order {
		g.Go(func() error {
			ri := l.resource(b)
			if len(b.objs) == 1 {
				return l.get(gctx, ri, b.objs[0], found)
			}
			// A name rendered twice is visited twice.
			wanted := make(map[string][]*unstructured.Unstructured, len(b.objs))
			for _, obj := range b.objs {
				wanted[obj.GetName()] = append(wanted[obj.GetName()], obj)
			}
			b.objs = nil
			// In pages, each handed on before the next is read, so that a
			// kind of thousands of objects is never held at once.
			opts := metav1.ListOptions{LabelSelector: l.selector, Limit: listPage}
			for {
				list, err := ri.List(gctx, opts)
				if err != nil {
					return fmt.Errorf("list %s in %q: %w", b.resource.Resource, b.namespace, err)
				}
				for i := range list.Items {
					if err := gctx.Err(); err != nil {
						return err
					}
					name := list.Items[i].GetName()
					for _, obj := range wanted[name] {
						if err := found(obj, &list.Items[i]); err != nil {
							return err
						}
					}
					delete(wanted, name)
				}
				if opts.Continue = list.GetContinue(); opts.Continue == "" {
					break
				}
			}
			for _, objs := range wanted {
				for _, obj := range objs {
					var err error
					if l.selector == "" {
						// An unfiltered list is complete: the object does not exist.
						err = fn(obj, nil, false)
					} else {
						err = l.get(gctx, ri, obj, found)
					}
					if err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// listPage is how many objects one LIST response holds at most: with
// several kinds read at once, the pages in flight are most of what a diff
// holds (250 keeps a 5,000-object diff near 110 MB, where 500 took 135).
const listPage = 250

func (l *LiveReader) resource(b *listGroup) dynamic.ResourceInterface {
	if b.namespace == "" {
		return l.dyn.Resource(b.resource)
	}
	return l.dyn.Resource(b.resource).Namespace(b.namespace)
}

func (l *LiveReader) get(ctx context.Context, ri dynamic.ResourceInterface, obj *unstructured.Unstructured, found func(obj, live *unstructured.Unstructured) error) error {
	live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return found(obj, nil)
	}
	if err != nil {
		return fmt.Errorf("get %s: %w", manifest.RefOf(obj), err)
	}
	return found(obj, live)
}

// ApplyDryRun returns what the server would store if obj were applied with
// server-side apply: defaults, admission webhooks and conversions included.
func (l *LiveReader) ApplyDryRun(ctx context.Context, obj *unstructured.Unstructured, manager string) (*unstructured.Unstructured, error) {
	gvk := obj.GroupVersionKind()
	m, err := l.mapping(gvk)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", manifest.RefOf(obj), err)
	}
	ns := ""
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ns = obj.GetNamespace()
	}
	data, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	force := true
	dry, err := l.dryRun()
	if err != nil {
		return nil, err
	}
	out, err := dryRunResource(dry, m.Resource, ns).Patch(ctx, obj.GetName(), types.ApplyPatchType, data,
		metav1.PatchOptions{DryRun: []string{metav1.DryRunAll}, FieldManager: manager, Force: &force})
	if err != nil {
		return nil, fmt.Errorf("server-side apply dry-run of %s: %w", manifest.RefOf(obj), err)
	}
	return out, nil
}

// WithHelmOwnership is obj as Helm writes it: with the ownership label and
// annotations Helm adds to every object of a release. A server-side dry-run
// without them would show Helm's own metadata as removed.
func WithHelmOwnership(obj *unstructured.Unstructured, releaseName, namespace string) *unstructured.Unstructured {
	obj = obj.DeepCopy()
	labels := obj.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels["app.kubernetes.io/managed-by"] = "Helm"
	obj.SetLabels(labels)
	annotations := obj.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations["meta.helm.sh/release-name"] = releaseName
	annotations["meta.helm.sh/release-namespace"] = namespace
	obj.SetAnnotations(annotations)
	return obj
}

func dryRunResource(d dynamic.Interface, gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	if namespace == "" {
		return d.Resource(gvr)
	}
	return d.Resource(gvr).Namespace(namespace)
}

// helmManagers write a release: Helm's own field manager, helm-controller's,
// cozyhr's (plain Helm mode), and the name the API server gives the fields
// an object had before its first server-side apply.
var helmManagers = []string{"helm", "helm-controller", "cozyhr", "before-first-apply"}

// ForeignManagers keeps the field managers that are neither Helm's nor
// mine (the release's own manager): the ones a change may take fields
// from.
func ForeignManagers(entries []metav1.ManagedFieldsEntry, mine string) []metav1.ManagedFieldsEntry {
	var out []metav1.ManagedFieldsEntry
	for _, e := range entries {
		if e.Manager != mine && !slices.Contains(helmManagers, e.Manager) && e.Subresource != "status" && e.FieldsV1 != nil {
			out = append(out, e)
		}
	}
	return out
}
