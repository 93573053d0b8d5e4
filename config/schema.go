package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/cozyhr/cozyhr/schemas"
)

const schemaURL = "https://cozyhr.io/schemas/cozyhr.schema.json"

// chartSchema is compiled once: the schema is embedded and immutable, so the
// cache is not state anyone can change.
var chartSchema = sync.OnceValues(func() (*schemaDoc, error) {
	raw, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.Chart))
	if err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource(schemaURL, raw); err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	compiled, err := c.Compile(schemaURL)
	if err != nil {
		return nil, fmt.Errorf("embedded schema: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(schemas.Chart, &doc); err != nil {
		return nil, err
	}
	return &schemaDoc{compiled: compiled, root: doc}, nil
})

type schemaDoc struct {
	compiled *jsonschema.Schema
	root     map[string]any
	// chart is the chart schema's document, which the defaults schema
	// refers to; nil in the chart schema itself.
	chart map[string]any
}

// violation is one leaf error of a validation, located in the instance.
type violation struct {
	path    []string
	message string
	unknown []string // unknown property names, for additionalProperties
	// described asks for the field's schema description as the hint.
	described bool
	// alternatives marks a oneOf: the hint lists them.
	alternatives bool
	// name marks a key that breaks its map's propertyNames: the hint is
	// what those names must be.
	name bool
}

// nameDescription says what the keys of the map at path must be.
func (s *schemaDoc) nameDescription(path []string) string {
	names, _ := s.node(path)["propertyNames"].(map[string]any)
	d, _ := s.resolve(names)["description"].(string)
	return d
}

// alternatives lists the keys a oneOf at path chooses between.
func (s *schemaDoc) alternatives(path []string) []string {
	n := s.node(path)
	one, _ := n["oneOf"].([]any)
	var out []string
	for _, alt := range one {
		m, _ := alt.(map[string]any)
		req, _ := m["required"].([]any)
		for _, r := range req {
			out = append(out, fmt.Sprint(r))
		}
	}
	return out
}

func (s *schemaDoc) validate(instance any) []violation {
	err := s.compiled.Validate(instance)
	if err == nil {
		return nil
	}
	verr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []violation{{message: err.Error()}}
	}
	p := message.NewPrinter(language.English)
	var out []violation
	seen := map[string]bool{}
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if k, ok := e.ErrorKind.(*kind.PropertyNames); ok {
			// The name is validated as an instance of its own, with no
			// location: say it as the key it is, where it is.
			path := append(objectPath(e), k.Property)
			key := strings.Join(path, "/")
			if !seen[key] {
				seen[key] = true
				out = append(out, violation{path: path, message: fmt.Sprintf("%q is not a valid name here", k.Property), name: true})
			}
			return
		}
		if len(e.Causes) > 0 {
			for _, c := range e.Causes {
				walk(c)
			}
			return
		}
		v := violation{path: e.InstanceLocation, message: e.ErrorKind.LocalizedString(p)}
		switch k := e.ErrorKind.(type) {
		case *kind.AdditionalProperties:
			v.unknown = k.Properties
		case *kind.OneOf:
			// "'oneOf' failed, subschemas 0, 2 matched" says nothing useful.
			if len(k.Subschemas) > 1 {
				v.message = "only one of its alternatives may be set"
			} else {
				v.message = "one of its alternatives must be set"
			}
			v.alternatives = true
		case *kind.Pattern:
			// A regular expression helps nobody; the field's description
			// (used as the hint) says what is expected.
			v.message = fmt.Sprintf("%q is not valid here", fmt.Sprint(k.Got))
			v.described = true
		}
		key := strings.Join(v.path, "/") + "\x00" + v.message
		if !seen[key] {
			seen[key] = true
			out = append(out, v)
		}
	}
	walk(verr)
	return out
}

// objectPath is where the map whose key broke propertyNames is: read from
// the schema location (#/properties/cases/propertyNames), as the
// validator's own instance location of it can be overwritten by a
// sibling's; the instance location when the schema path says less.
func objectPath(e *jsonschema.ValidationError) []string {
	_, frag, _ := strings.Cut(e.SchemaURL, "#")
	parts := strings.Split(strings.Trim(frag, "/"), "/")
	if len(parts) < 1 || parts[len(parts)-1] != "propertyNames" {
		return append([]string(nil), e.InstanceLocation...)
	}
	var path []string
	start := 0
	// A definition is named after the field that holds it (diff, render,
	// apply): #/$defs/diff/properties/rules/propertyNames is diff.rules.
	if len(parts) > 2 && parts[0] == "$defs" {
		path, start = []string{parts[1]}, 2
	}
	for i := start; i+1 < len(parts)-1; i += 2 {
		if parts[i] != "properties" {
			return append([]string(nil), e.InstanceLocation...)
		}
		path = append(path, parts[i+1])
	}
	return path
}

// node returns the schema object that describes the instance at path,
// following $ref, properties and items.
func (s *schemaDoc) node(path []string) map[string]any {
	cur := s.resolve(s.root)
	for _, tok := range path {
		if cur == nil {
			return nil
		}
		if props, ok := cur["properties"].(map[string]any); ok {
			if next, ok := props[tok].(map[string]any); ok {
				cur = s.resolve(next)
				continue
			}
		}
		if items, ok := cur["items"].(map[string]any); ok {
			cur = s.resolve(items)
			continue
		}
		// A map of named entries (cases, labels): each has the same schema.
		if extra, ok := cur["additionalProperties"].(map[string]any); ok {
			cur = s.resolve(extra)
			continue
		}
		return nil
	}
	return cur
}

func (s *schemaDoc) resolve(n map[string]any) map[string]any {
	for n != nil {
		ref, ok := n["$ref"].(string)
		if !ok {
			return n
		}
		// The defaults schema refers to the chart schema's parts by URL.
		root := s.root
		if rest, ok := strings.CutPrefix(ref, schemaURL); ok && s.chart != nil {
			root, ref = s.chart, rest
		}
		section, name, _ := strings.Cut(strings.TrimPrefix(ref, "#/"), "/")
		defs, _ := root[section].(map[string]any)
		next, _ := defs[name].(map[string]any)
		n = next
	}
	return nil
}

// properties lists the field names the schema allows at path.
func (s *schemaDoc) properties(path []string) []string {
	props, _ := s.node(path)["properties"].(map[string]any)
	names := make([]string, 0, len(props))
	for k := range props {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// scalarField is a leaf that environment variables and flags may set.
type scalarField struct {
	path []string
	typ  string // string, boolean or integer
}

// scalars lists every scalar field reachable through objects only (lists
// and free-form maps cannot be set from a single variable).
func (s *schemaDoc) scalars() []scalarField {
	var out []scalarField
	var walk func(path []string, n map[string]any)
	walk = func(path []string, n map[string]any) {
		n = s.resolve(n)
		props, ok := n["properties"].(map[string]any)
		if !ok {
			typ, _ := n["type"].(string)
			switch typ {
			case "string", "boolean", "integer":
				out = append(out, scalarField{path: append([]string(nil), path...), typ: typ})
			}
			return
		}
		for name, child := range props {
			if m, ok := child.(map[string]any); ok {
				walk(append(path, name), m)
			}
		}
	}
	walk(nil, s.root)
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i].path, ".") < strings.Join(out[j].path, ".") })
	return out
}

// description is the schema's description of the field at path.
func (s *schemaDoc) description(path []string) string {
	d, _ := s.node(path)["description"].(string)
	return d
}
