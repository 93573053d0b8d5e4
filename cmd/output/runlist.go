package output

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"slices"

	"github.com/cozyhr/cozyhr/core/batch"
	yaml "go.yaml.in/yaml/v3"
)

// RunList is the one document a run over many charts writes with -o json
// or yaml: each chart's reports, or its error, in path order.
type RunList struct {
	APIVersion string `json:"apiVersion"` // cozyhr.io/v1alpha1
	Kind       string `json:"kind"`       // DiffReportList
	// Base and Head are the revisions a review compared ("" for the
	// working tree); both empty for a diff against the cluster.
	Base  string        `json:"base,omitempty"`
	Head  string        `json:"head,omitempty"`
	Items []RunListItem `json:"items"`
}

// NewRunList is the document of kind a run over many charts writes when
// its output is for a program (machine); nil when it is for people.
func NewRunList(machine bool, kind, base, head string) *RunList {
	if !machine {
		return nil
	}
	return &RunList{Kind: kind, Base: base, Head: head}
}

// RunListItem is one chart of a RunList.
type RunListItem struct {
	// Chart is the chart's path, as the run names it.
	Chart string `json:"chart"`
	// Release is the release as NAMESPACE/NAME, when it got that far.
	Release string `json:"release,omitempty"`
	// Result says how the chart's run ended, in a few words.
	Result string `json:"result"`
	// Error is a failed chart's error, whole.
	Error string `json:"error,omitempty"`
	// Reports are the chart's reports as a run of it alone writes them:
	// one per value case (each names its case).
	Reports []json.RawMessage `json:"reports"`
}

// writeList writes the run's one document from what each job printed.
func (p *Many) writeList(outcomes []batch.Outcome) error {
	doc := *p.List
	doc.APIVersion, doc.Items = "cozyhr.io/v1alpha1", []RunListItem{}
	for _, i := range p.Order {
		j, o := p.Jobs[i], outcomes[i]
		item := RunListItem{Chart: j.Name, Release: j.Release, Result: p.result(i, o), Reports: []json.RawMessage{}}
		if o.Err != nil && (p.Benign == nil || !p.Benign(o.Err)) && p.ErrorText != nil {
			item.Error = p.ErrorText(o.Err)
		}
		reports, err := documents(j.Out.Bytes(), p.YAMLOut)
		if err != nil {
			return err
		}
		item.Reports = append(item.Reports, reports...)
		doc.Items = append(doc.Items, item)
	}
	slices.SortStableFunc(doc.Items, func(a, b RunListItem) int { return cmp.Compare(a.Chart, b.Chart) })
	write := func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(doc)
	}
	if p.YAMLOut {
		return jsonAsYAML(p.Out, write)
	}
	return write(p.Out)
}

// documents splits a job's JSON (or YAML) output into its documents, as JSON.
func documents(data []byte, isYAML bool) ([]json.RawMessage, error) {
	var out []json.RawMessage
	if !isYAML {
		dec := json.NewDecoder(bytes.NewReader(data))
		for {
			var doc json.RawMessage
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				return out, nil
			} else if err != nil {
				return nil, err
			}
			out = append(out, doc)
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if doc == nil {
			continue
		}
		raw, err := json.Marshal(doc)
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
}
