package manifest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// Object is one Kubernetes manifest, with the template it came from.
type Object struct {
	*unstructured.Unstructured
	// Source is the chart file that produced it, e.g. mychart/templates/cm.yaml.
	Source string
	// Raw is the document as rendered; printed as is while the object is
	// unchanged, as helm template prints it. Whoever changes the object
	// must clear it (post-processors do, through SetLabels and friends, by
	// calling Touch).
	Raw []byte

	// Head is what Helm already decoded of a document not parsed yet
	// (Unstructured nil): enough to recognise a Secret without parsing.
	Head Head
	// InPrevious says the previous object's text already holds this one
	// (documents of one crds/ file, printed whole).
	InPrevious bool
	// Hook says Helm creates the object from its text alone; everything
	// else it reads from the release manifest, where the text is followed
	// by a newline that a "|+" block scalar at the very end keeps.
	Hook bool
}

// Head is the apiVersion and kind of a document not parsed yet.
type Head struct{ APIVersion, Kind string }

// Touch marks the object as changed since it was rendered.
func (o *Object) Touch() { o.Raw = nil }

// Parsed reports whether the object has been decoded.
func (o *Object) Parsed() bool { return o.Unstructured != nil }

// IsSecretObject recognises a Secret, parsed or not.
func IsSecretObject(o Object) bool {
	if o.Unstructured != nil {
		return IsSecret(o.Unstructured)
	}
	return o.Head.Kind == "Secret" && (o.Head.APIVersion == "v1" || o.Head.APIVersion == "")
}

// ParseObjects decodes the objects not parsed yet, in parallel (a List
// document expands into its items). Rendering keeps documents as text so
// that printing a render costs no more than helm template.
func ParseObjects(objs []Object) ([]Object, error) {
	parsed := make([][]Object, len(objs))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range objs {
		if objs[i].Parsed() {
			parsed[i] = objs[i : i+1]
			continue
		}
		g.Go(func() error {
			text := objs[i].Raw
			if !objs[i].Hook {
				text = append(slices.Clip(text), '\n')
			}
			out, err := ParseManifests(text)
			if err != nil {
				return fmt.Errorf("%s: %w", objs[i].Source, err)
			}
			for j := range out {
				out[j].Source = objs[i].Source
				out[j].Hook = objs[i].Hook
			}
			if len(out) == 1 && out[0].Raw != nil {
				out[0].Raw = objs[i].Raw // the text exactly as rendered
			}
			parsed[i] = out
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]Object, 0, len(objs))
	for _, p := range parsed {
		out = append(out, p...)
	}
	return out, nil
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
	// Most calls hold one document (a template's, as Helm split them): no
	// stream reader, and its buffer, is needed for those.
	var next func() ([]byte, error)
	if bytes.HasPrefix(data, []byte("---")) || bytes.Contains(data, []byte("\n---")) {
		reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
		next = reader.Read
	} else {
		next = func() ([]byte, error) {
			doc := data
			if data == nil {
				return nil, io.EOF
			}
			data = nil
			return doc, nil
		}
	}
	for i := 0; ; i++ {
		doc, err := next()
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
			err := u.EachListItem(func(o k8sruntime.Object) error {
				item := o.(*unstructured.Unstructured)
				out = append(out, Object{Unstructured: item, Source: source})
				return nil
			})
			if err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, Object{Unstructured: u, Source: source, Raw: documentText(doc)})
	}
}

// documentText is a document as Helm keeps it in a release manifest: what
// follows the separator and the "# Source:" line, less the one newline
// WriteManifests adds after it, so that parsing what WriteManifests wrote
// gives back the same bytes.
func documentText(doc []byte) []byte {
	doc = stripSourceComment(doc)
	doc = bytes.TrimSuffix(doc, []byte("\n"))
	return append([]byte(nil), doc...)
}

// Body is a document's text without its separator and "# Source:" line,
// trimmed: two documents with the same body are the same object.
func Body(doc []byte) []byte { return bytes.TrimSpace(stripSourceComment(doc)) }

func stripSourceComment(doc []byte) []byte {
	for {
		line, rest, _ := bytes.Cut(doc, []byte("\n"))
		t := bytes.TrimSpace(line)
		if len(t) == 0 || bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("# Source: ")) {
			doc = rest
			continue
		}
		return doc
	}
}

// Text is the document as Helm prints it after its "# Source:" line: the
// rendered text while the object is unchanged, else its YAML.
func (o Object) Text() ([]byte, error) {
	if o.Raw != nil {
		return o.Raw, nil
	}
	data, err := YAML(o.Object)
	if err != nil {
		return nil, fmt.Errorf("marshal %s: %w", RefOf(o.Unstructured), err)
	}
	return bytes.TrimSuffix(data, []byte("\n")), nil
}

// WriteManifests writes objects as a YAML stream in the shape helm template
// prints, each document preceded by its source.
func WriteManifests(w io.Writer, objs []Object) error {
	for _, o := range objs {
		if o.InPrevious {
			continue
		}
		data, err := o.Text()
		if err != nil {
			return err
		}
		if o.Source != "" {
			_, err = fmt.Fprintf(w, "---\n# Source: %s\n%s\n", o.Source, data)
		} else {
			_, err = fmt.Fprintf(w, "---\n%s\n", data)
		}
		if err != nil {
			return err
		}
	}
	return nil
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
