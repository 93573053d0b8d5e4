package core

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Object is one Kubernetes manifest, with the template it came from.
type Object struct {
	*unstructured.Unstructured
	// Source is the chart file that produced it, e.g. mychart/templates/cm.yaml.
	Source string
}

// Ref identifies an object across renders and the live cluster.
type Ref struct {
	Group, Version, Kind, Namespace, Name string
}

// RefOf returns the identity of u.
func RefOf(u *unstructured.Unstructured) Ref {
	gvk := u.GroupVersionKind()
	return Ref{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// Key ignores the version, so that an object moved to a newer API version
// is the same object.
func (r Ref) Key() string { return r.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name }

// GroupKind of the object.
func (r Ref) GroupKind() schema.GroupKind { return schema.GroupKind{Group: r.Group, Kind: r.Kind} }

// String reads as Kind namespace/name.
func (r Ref) String() string {
	if r.Namespace == "" {
		return r.Kind + " " + r.Name
	}
	return r.Kind + " " + r.Namespace + "/" + r.Name
}

// ParseManifests splits a multi-document YAML stream into objects, keeping
// the "# Source:" comment Helm writes before each document. Empty documents
// are skipped; a List is flattened.
func ParseManifests(data []byte) ([]Object, error) {
	var out []Object
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("manifest document %d: %w", i+1, err)
		}
		source := sourceComment(doc)
		jsonDoc, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("manifest document %d%s: %w", i+1, sourceSuffix(source), err)
		}
		if isEmptyJSON(jsonDoc) {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(jsonDoc); err != nil {
			return nil, fmt.Errorf("manifest document %d%s: %w", i+1, sourceSuffix(source), err)
		}
		if u.IsList() {
			err := u.EachListItem(func(o runtime.Object) error {
				item := o.(*unstructured.Unstructured)
				out = append(out, Object{Unstructured: item, Source: source})
				return nil
			})
			if err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, Object{Unstructured: u, Source: source})
	}
}

// WriteManifests writes objects as a YAML stream in the shape helm template
// prints, each document preceded by its source.
func WriteManifests(w io.Writer, objs []Object) error {
	for _, o := range objs {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return fmt.Errorf("marshal %s: %w", RefOf(o.Unstructured), err)
		}
		if o.Source != "" {
			if _, err := fmt.Fprintf(w, "---\n# Source: %s\n%s", o.Source, data); err != nil {
				return err
			}
			continue
		}
		if _, err := fmt.Fprintf(w, "---\n%s", data); err != nil {
			return err
		}
	}
	return nil
}

// SortObjects orders objects by kind, namespace and name for stable output.
func SortObjects(objs []Object) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := RefOf(objs[i].Unstructured), RefOf(objs[j].Unstructured)
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
}

func sourceComment(doc []byte) string {
	for _, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimSpace(line)
		if s, ok := strings.CutPrefix(line, "# Source: "); ok {
			return s
		}
		if line != "" && line != "---" && !strings.HasPrefix(line, "#") {
			break
		}
	}
	return ""
}

func sourceSuffix(source string) string {
	if source == "" {
		return ""
	}
	return " (" + source + ")"
}

func isEmptyJSON(b []byte) bool {
	s := strings.TrimSpace(string(b))
	return s == "" || s == "null" || s == "{}"
}
