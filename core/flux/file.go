package flux

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	sigsyaml "sigs.k8s.io/yaml"
)

// FileObjects are the ConfigMaps and Secrets of a HelmRelease's file, read
// as a cluster would be: what its spec.valuesFrom names is looked up among
// them, offline.
type FileObjects struct {
	objects map[string]client.Object // kind/namespace/name
}

var _ client.Reader = (*FileObjects)(nil)

// Get finds a ConfigMap or Secret of the file; any other is not found.
func (f *FileObjects) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	kind := ""
	switch obj.(type) {
	case *corev1.ConfigMap:
		kind = "ConfigMap"
	case *corev1.Secret:
		kind = "Secret"
	}
	found, ok := f.objects[kind+"/"+key.Namespace+"/"+key.Name]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Resource: kind}, key.Name)
	}
	switch o := obj.(type) {
	case *corev1.ConfigMap:
		*o = *found.(*corev1.ConfigMap)
	case *corev1.Secret:
		*o = *found.(*corev1.Secret)
	}
	return nil
}

// List is not used: valuesFrom only gets objects by name.
func (f *FileObjects) List(context.Context, client.ObjectList, ...client.ListOption) error {
	return errors.New("a HelmRelease file is not listed")
}

// ReadFile reads the HelmRelease key (its name; its namespace when the
// document gives none) from a YAML file of one or more documents, with the
// ConfigMaps and Secrets beside it that its valuesFrom may name.
func ReadFile(path string, key types.NamespacedName) (*helmv2.HelmRelease, *FileObjects, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	var hrs []*helmv2.HelmRelease
	var docs []int // the document each of hrs is
	var all []client.Object
	objs := &FileObjects{objects: map[string]client.Object{}}
	reader := utilyaml.NewYAMLReader(bufioReader(data))
	for n := 1; ; n++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: document %d: %w", path, n, err)
		}
		var parsed any
		if err := sigsyaml.Unmarshal(doc, &parsed); err != nil {
			return nil, nil, fmt.Errorf("%s: document %d: %w", path, n, err)
		}
		if _, object := parsed.(map[string]any); !object {
			continue // a list or a scalar: no Kubernetes object
		}
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := sigsyaml.Unmarshal(doc, &meta); err != nil {
			return nil, nil, fmt.Errorf("%s: document %d: %w", path, n, err)
		}
		var obj client.Object
		switch meta.Kind {
		case helmv2.HelmReleaseKind:
			hr := &helmv2.HelmRelease{}
			hrs = append(hrs, hr)
			docs = append(docs, n)
			obj = hr
		case "ConfigMap":
			obj = &corev1.ConfigMap{}
		case "Secret":
			obj = &corev1.Secret{}
		default:
			continue
		}
		if err := sigsyaml.Unmarshal(doc, obj); err != nil {
			return nil, nil, fmt.Errorf("%s: document %d (%s): %w", path, n, meta.Kind, err)
		}
		if s, ok := obj.(*corev1.Secret); ok {
			// As the API server would: stringData is written into data.
			for k, v := range s.StringData {
				if s.Data == nil {
					s.Data = map[string][]byte{}
				}
				s.Data[k] = []byte(v)
			}
		}
		all = append(all, obj)
	}
	// A document without a namespace is in the HelmRelease's, as kubectl
	// apply -n of the file would put it; the HelmRelease's own defaults to
	// the chart's.
	ns := key.Namespace
	if len(hrs) == 1 && hrs[0].Namespace != "" {
		ns = hrs[0].Namespace
	}
	for _, obj := range all {
		if obj.GetNamespace() == "" {
			obj.SetNamespace(ns)
		}
		if _, isHR := obj.(*helmv2.HelmRelease); !isHR {
			objs.objects[kindOf(obj)+"/"+obj.GetNamespace()+"/"+obj.GetName()] = obj
		}
	}
	// One HelmRelease declared twice: kubectl and Flux would keep the
	// second, which is easy to miss; neither is taken quietly.
	seen := map[string]int{}
	for i, hr := range hrs {
		id := cmp.Or(hr.Namespace, ns) + "/" + hr.Name
		if first, ok := seen[id]; ok {
			return nil, nil, fmt.Errorf("%s: documents %d and %d both declare HelmRelease %s (kubectl and Flux would keep the second): keep one", path, docs[first], docs[i], id)
		}
		seen[id] = i
	}
	var names []string
	for _, hr := range hrs {
		if hr.Name == key.Name || (len(hrs) == 1 && key.Name == "") {
			return hr, objs, nil
		}
		names = append(names, hr.Namespace+"/"+hr.Name)
	}
	if len(hrs) == 0 {
		return nil, nil, fmt.Errorf("%s: no HelmRelease in it: point helmRelease.file at the file that declares HelmRelease %s", path, key)
	}
	return nil, nil, fmt.Errorf("%s: no HelmRelease %s in it (it has %v): set helmRelease.name to one of them", path, key.Name, names)
}

func kindOf(obj client.Object) string {
	if _, ok := obj.(*corev1.Secret); ok {
		return "Secret"
	}
	return "ConfigMap"
}

func bufioReader(data []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(data)) }
