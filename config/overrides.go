package config

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	yaml "go.yaml.in/yaml/v3"
)

// overlay sets scalar fields from COZYHR_* variables and the overrides into
// raw, converting strings to the schema's type, and returns which source set
// each dotted path, for error messages.
func overlay(schema *schemaDoc, raw map[string]any, overrides map[string]any, display string, root *yaml.Node) (map[string]string, error) {
	if err := unknownOverrides(schema, overrides, display, root); err != nil {
		return nil, err
	}
	v := viper.New()
	v.SetEnvPrefix(EnvPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	for k, val := range overrides {
		v.Set(k, val)
	}
	sources := map[string]string{}
	var problems []FieldError
	for _, f := range schema.scalars() {
		key := strings.Join(f.path, ".")
		env := EnvPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		if err := v.BindEnv(key, env); err != nil {
			return nil, err
		}
		if !v.IsSet(key) {
			continue
		}
		source := "environment " + env
		if _, ok := overrides[key]; ok {
			source = "flag for " + key
		}
		val, err := convert(v.Get(key), f.typ)
		if err != nil {
			problems = append(problems, FieldError{Field: key, Source: source, Message: err.Error()})
			continue
		}
		setPath(raw, f.path, val)
		sources[key] = source
	}
	if len(problems) > 0 {
		return nil, &Error{File: display, Errors: problems}
	}
	return sources, nil
}

// unknownOverrides refuses an override of a field that does not exist or
// cannot be set alone (a list, a map): it would be dropped without a word.
// The error names the file, the line of the nearest field above it that
// the file has, and the fields that may be set there.
func unknownOverrides(schema *schemaDoc, overrides map[string]any, display string, root *yaml.Node) error {
	settable := map[string]bool{}
	for _, f := range schema.scalars() {
		settable[strings.Join(f.path, ".")] = true
	}
	var problems []FieldError
	for _, key := range slices.Sorted(maps.Keys(overrides)) {
		if settable[key] {
			continue
		}
		path := strings.Split(key, ".")
		parent := path[:len(path)-1]
		var allowed []string
		for _, name := range schema.properties(parent) {
			if settable[strings.Join(append(slices.Clone(parent), name), ".")] {
				allowed = append(allowed, name)
			}
		}
		fe := FieldError{Field: key, Message: "no such field to override"}
		// Where the file says most of the path: the field above it, or the
		// top.
		fe.Line, fe.Column = locate(root, parent, true)
		switch guess := closest(path[len(path)-1], allowed); {
		case guess != "":
			fe.Hint = fmt.Sprintf("did you mean %q? fields that can be set here: %s", strings.Join(append(slices.Clone(parent), guess), "."), strings.Join(allowed, ", "))
		case len(allowed) > 0:
			fe.Hint = "fields that can be set here: " + strings.Join(allowed, ", ")
		default:
			fe.Hint = "it names no field that one value can set"
		}
		problems = append(problems, fe)
	}
	if len(problems) > 0 {
		return &Error{File: display, Errors: problems}
	}
	return nil
}

func convert(v any, typ string) (any, error) {
	s, isString := v.(string)
	if !isString {
		return v, nil
	}
	switch typ {
	case "boolean":
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, fmt.Errorf("want true or false, got %q", s)
		}
		return b, nil
	case "integer":
		n, err := strconv.Atoi(s)
		if err != nil {
			return nil, fmt.Errorf("want a whole number, got %q", s)
		}
		return n, nil
	}
	return s, nil
}

func setPath(m map[string]any, path []string, val any) {
	for _, p := range path[:len(path)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[path[len(path)-1]] = val
}
