package snapshot

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"

	"bufio"
	"bytes"

	"github.com/cozyhr/cozyhr/core/values"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	sigsyaml "sigs.k8s.io/yaml"
)

// LookupFunc is the signature of Helm's lookup template function.
type LookupFunc = func(apiVersion, kind, namespace, name string) (map[string]any, error)

func lookupKey(apiVersion, kind, namespace, name string) string {
	return apiVersion + " " + kind + " " + namespace + "/" + name
}

// Recorder wraps a lookup function and keeps every call and its answer,
// Secrets scrubbed, for the snapshot.
type Recorder struct {
	Next  LookupFunc
	Scrub *Scrubber

	mu   sync.Mutex
	seen map[string]bool
	Got  []Lookup
}

// Func is the lookup function that records.
func (r *Recorder) Func() LookupFunc {
	return func(apiVersion, kind, namespace, name string) (map[string]any, error) {
		res, err := r.Next(apiVersion, kind, namespace, name)
		if err != nil {
			return res, err
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.seen == nil {
			r.seen = map[string]bool{}
		}
		if k := lookupKey(apiVersion, kind, namespace, name); !r.seen[k] {
			r.seen[k] = true
			kept := values.DeepCopy(res)
			r.Scrub.Object(kept)
			r.Got = append(r.Got, Lookup{APIVersion: apiVersion, Kind: kind, Namespace: namespace, Name: name, Result: kept})
		}
		return res, nil
	}
}

// Answers answers lookup offline from recorded calls (a snapshot's) or
// from objects (a file of them): what it cannot answer returns what Helm
// returns offline, an empty map, and is kept in Unanswered.
type Answers struct {
	calls   map[string]map[string]any
	objects []map[string]any

	mu         sync.Mutex
	unanswered []string
}

// Recorded answers with a snapshot's recorded calls.
func Recorded(calls []Lookup) *Answers {
	a := &Answers{calls: map[string]map[string]any{}}
	for _, c := range calls {
		a.calls[lookupKey(c.APIVersion, c.Kind, c.Namespace, c.Name)] = c.Result
	}
	return a
}

// Func is the lookup function; every call gets a copy, which templates may
// change.
func (a *Answers) Func() LookupFunc {
	return func(apiVersion, kind, namespace, name string) (map[string]any, error) {
		if res, ok := a.calls[lookupKey(apiVersion, kind, namespace, name)]; ok {
			return values.DeepCopy(res), nil
		}
		if res, ok := a.fromObjects(apiVersion, kind, namespace, name); ok {
			return res, nil
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		call := fmt.Sprintf("lookup %q %q %q %q", apiVersion, kind, namespace, name)
		if !slices.Contains(a.unanswered, call) {
			a.unanswered = append(a.unanswered, call)
		}
		return map[string]any{}, nil
	}
}

// Unanswered lists the calls nothing answered, in the order first made.
func (a *Answers) Unanswered() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.unanswered)
}

// fromObjects answers from the objects file: one object by name, or a
// list of those of the kind (in the namespace, when one is given).
func (a *Answers) fromObjects(apiVersion, kind, namespace, name string) (map[string]any, bool) {
	if len(a.objects) == 0 {
		return nil, false
	}
	var items []any
	for _, o := range a.objects {
		if o["apiVersion"] != apiVersion || o["kind"] != kind {
			continue
		}
		md, _ := o["metadata"].(map[string]any)
		ns, _ := md["namespace"].(string)
		n, _ := md["name"].(string)
		if namespace != "" && ns != namespace {
			continue
		}
		if name == "" {
			items = append(items, values.DeepCopy(o))
		} else if n == name {
			return values.DeepCopy(o), true
		}
	}
	if name != "" || items == nil {
		return nil, false
	}
	return map[string]any{"apiVersion": apiVersion, "kind": kind + "List", "items": items}, true
}

// ReadObjects reads a YAML file of objects (documents, or v1 Lists) that
// answer lookup offline, as nelm's stub files do.
func ReadObjects(path string) (*Answers, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	a := &Answers{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, n, err)
		}
		var obj map[string]any
		if err := sigsyaml.Unmarshal(doc, &obj); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", path, n, err)
		}
		if obj == nil {
			continue
		}
		if items, ok := obj["items"].([]any); ok && strings.HasSuffix(fmt.Sprint(obj["kind"]), "List") {
			for _, it := range items {
				if m, ok := it.(map[string]any); ok {
					a.objects = append(a.objects, m)
				}
			}
			continue
		}
		if obj["apiVersion"] == nil || obj["kind"] == nil {
			return nil, fmt.Errorf("%s: document %d has no apiVersion or kind: each document is an object lookup may return", path, n)
		}
		a.objects = append(a.objects, obj)
	}
	return a, nil
}

// Fresh is a copy with no call unanswered yet, for one render.
func (a *Answers) Fresh() *Answers {
	if a == nil {
		return &Answers{}
	}
	return &Answers{calls: a.calls, objects: a.objects}
}

// Also answers with the objects of other, after its own calls.
func (a *Answers) Also(other *Answers) *Answers {
	if other != nil {
		a.objects = append(a.objects, other.objects...)
	}
	return a
}
