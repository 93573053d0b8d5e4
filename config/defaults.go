package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	yaml "go.yaml.in/yaml/v3"

	"github.com/cozyhr/cozyhr/schemas"
)

// DefaultsKind is the kind of a .cozyhr.yaml that gives a tree of charts
// defaults: in a directory above the charts, never in one.
const DefaultsKind = "Defaults"

const defaultsURL = "https://cozyhr.io/schemas/cozyhr-defaults.schema.json"

// defaultsSchema is compiled once, beside the chart schema it refers to.
var defaultsSchema = sync.OnceValues(func() (*schemaDoc, error) {
	c := jsonschema.NewCompiler()
	for url, data := range map[string][]byte{schemaURL: schemas.Chart, defaultsURL: schemas.Defaults} {
		raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("embedded schema %s: %w", url, err)
		}
		if err := c.AddResource(url, raw); err != nil {
			return nil, fmt.Errorf("embedded schema %s: %w", url, err)
		}
	}
	compiled, err := c.Compile(defaultsURL)
	if err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	doc := &schemaDoc{compiled: compiled}
	if err := json.Unmarshal(schemas.Defaults, &doc.root); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(schemas.Chart, &doc.chart); err != nil {
		return nil, err
	}
	return doc, nil
})

// defaultsFor finds the defaults file above the chart in dir (the nearest
// .cozyhr.yaml of kind Defaults in a directory above it) and the entry
// that applies to the chart, as the fields of a .cozyhr.yaml, with its
// paths made absolute. It returns "" and nil when there is none.
func defaultsFor(dir, chartName string) (string, map[string]any, error) {
	for parent := filepath.Dir(dir); ; parent = filepath.Dir(parent) {
		file := filepath.Join(parent, FileName)
		data, err := os.ReadFile(file)
		if err == nil && isDefaults(data) {
			entry, err := defaultsEntry(file, data, dir, chartName)
			return file, entry, err
		}
		if parent == filepath.Dir(parent) {
			return "", nil, nil
		}
	}
}

// DefaultsFileFor is the defaults file above the chart in dir, whether
// or not an entry of it applies (or it is valid); "" for none.
func DefaultsFileFor(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for parent := filepath.Dir(abs); ; parent = filepath.Dir(parent) {
		file := filepath.Join(parent, FileName)
		if data, err := os.ReadFile(file); err == nil && isDefaults(data) {
			return file
		}
		if parent == filepath.Dir(parent) {
			return ""
		}
	}
}

func isDefaults(data []byte) bool {
	var head struct {
		Kind string `yaml:"kind"`
	}
	return yaml.Unmarshal(data, &head) == nil && head.Kind == DefaultsKind
}

// defaultsEntry validates the defaults file and picks its first entry whose
// match fits the chart in dir.
func defaultsEntry(file string, data []byte, dir, chartName string) (map[string]any, error) {
	display := DisplayPath(file)
	if len(data) > MaxFileSize {
		return nil, &Error{File: display, Errors: []FieldError{{Message: fmt.Sprintf("the file is %d KiB; cozyhr reads at most %d KiB", len(data)>>10, MaxFileSize>>10)}}}
	}
	root, raw, err := parseYAML(display, data)
	if err != nil {
		return nil, err
	}
	schema, err := defaultsSchema()
	if err != nil {
		return nil, err
	}
	if vs := schema.validate(raw); len(vs) > 0 {
		return nil, describe(schema, display, root, nil, vs)
	}
	base := filepath.Dir(file)
	rel, err := filepath.Rel(base, dir)
	if err != nil {
		return nil, err
	}
	rel = filepath.ToSlash(rel)
	entries, _ := raw["charts"].([]any)
	for _, e := range entries {
		entry, _ := e.(map[string]any)
		if !matches(entry["match"], rel) {
			continue
		}
		out := map[string]any{}
		for k, v := range entry {
			if k != "match" {
				out[k] = v
			}
		}
		absolute(out, base)
		if r, ok := out["release"].(map[string]any); ok {
			if name, ok := r["name"].(string); ok {
				r["name"] = strings.NewReplacer("{chart}", chartName, "{dir}", filepath.Base(dir)).Replace(name)
			}
		}
		return out, nil
	}
	return nil, nil
}

// matches reports whether a match (a pattern or a list of them) fits rel.
func matches(match any, rel string) bool {
	var patterns []string
	switch m := match.(type) {
	case string:
		patterns = []string{m}
	case []any:
		for _, p := range m {
			if s, ok := p.(string); ok {
				patterns = append(patterns, s)
			}
		}
	}
	for _, p := range patterns {
		p = strings.TrimSuffix(strings.TrimPrefix(p, "./"), "/")
		if below, ok := strings.CutSuffix(p, "/**"); ok && (rel == below || strings.HasPrefix(rel, below+"/")) {
			return true
		}
		if ok, _ := path.Match(p, rel); ok {
			return true
		}
	}
	return false
}

// absolute makes the entry's values files, its cases' and its lookups file relative to
// the defaults file's directory rather than to each chart's.
func absolute(entry map[string]any, base string) {
	fix := func(m map[string]any) {
		files, _ := m["valuesFiles"].([]any)
		for i, f := range files {
			if s, ok := f.(string); ok && !filepath.IsAbs(s) {
				files[i] = filepath.Join(base, s)
			}
		}
	}
	fix(entry)
	if render, ok := entry["render"].(map[string]any); ok {
		if s, ok := render["lookups"].(string); ok && !filepath.IsAbs(s) {
			render["lookups"] = filepath.Join(base, s)
		}
	}
	cases, _ := entry["cases"].(map[string]any)
	for _, c := range cases {
		if m, ok := c.(map[string]any); ok {
			fix(m)
		}
	}
}
