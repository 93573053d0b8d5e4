// Command cozyhr-plugin-add-labels is an example post-processor: it adds
// the labels and annotations of its config to every object's metadata.
//
//	plugins:
//	  postProcessors:
//	    - name: add-labels
//	      config:
//	        labels: {team: platform}
//	        annotations: {owner: platform@example.com}
//	        kinds: [Deployment]   # optional: only these kinds
//
// It edits yaml.v3 nodes, so comments (Helm's "# Source:" lines), key order
// and quoting of everything else come back unchanged.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// version is set with -ldflags "-X main.version=...".
var version = "0.1.0"

type config struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Kinds       []string          `json:"kinds"`
}

type addLabels struct{}

func (addLabels) PostProcess(_ context.Context, req *sdk.PostProcessRequest) (*sdk.PostProcessResponse, error) {
	var cfg config
	if err := sdk.DecodeConfig(req.Config, &cfg); err != nil {
		return nil, err
	}
	if len(cfg.Labels) == 0 && len(cfg.Annotations) == 0 {
		return &sdk.PostProcessResponse{Manifests: req.Manifests, Warnings: []string{"config has no labels or annotations: nothing to do"}}, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(req.Manifests))
	var out bytes.Buffer
	enc := yaml.NewEncoder(&out)
	enc.SetIndent(2)
	for i := 1; ; i++ {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
			obj := doc.Content[0]
			if len(cfg.Kinds) == 0 || slices.Contains(cfg.Kinds, scalar(obj, "kind")) {
				meta := mapping(obj, "metadata")
				// An empty labels: {} would be noise in the render.
				if len(cfg.Labels) > 0 {
					merge(mapping(meta, "labels"), cfg.Labels)
				}
				if len(cfg.Annotations) > 0 {
					merge(mapping(meta, "annotations"), cfg.Annotations)
				}
			}
		}
		if err := enc.Encode(&doc); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return &sdk.PostProcessResponse{Manifests: out.Bytes()}, nil
}

// scalar is the value of key in a mapping node, or "".
func scalar(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// mapping returns the mapping under key, adding an empty one if missing.
func mapping(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			v := m.Content[i+1]
			if v.Kind != yaml.MappingNode { // null labels: replace
				*v = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			return v
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, v)
	return v
}

// merge sets each key, in sorted order for a stable output.
func merge(m *yaml.Node, set map[string]string) {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		str := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }
		found := false
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value == k {
				m.Content[i+1] = str(set[k])
				found = true
			}
		}
		if !found {
			m.Content = append(m.Content, str(k), str(set[k]))
		}
	}
}

func main() {
	sdk.Serve(sdk.ServeConfig{Version: version, PostProcessor: addLabels{}})
}
