package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	yaml "go.yaml.in/yaml/v3"
)

// EnvPrefix prefixes the environment variables that set scalar fields, e.g.
// COZYHR_RELEASE_NAMESPACE for release.namespace.
const EnvPrefix = "COZYHR"

// LoadOptions says where to find a chart and what overrides its file.
type LoadOptions struct {
	// Dir is the chart directory; "" means the working directory.
	Dir string
	// File is an explicit configuration file; "" means Dir/.cozyhr.yaml,
	// which may be absent.
	File string
	// Overrides set fields by dotted path (release.namespace), typically from
	// command-line flags. They win over the environment and the file.
	Overrides map[string]any
	// ChartOptional lets Dir hold no chart: for commands that act on a
	// release named on the command line (suspend NAME) from anywhere.
	ChartOptional bool
}

// MaxFileSize bounds .cozyhr.yaml: configuration, not data.
const MaxFileSize = 1 << 20

// Load reads the chart directory's configuration, validates it against
// schemas/cozyhr.schema.json, overlays COZYHR_* environment variables and
// the overrides, and fills defaults that need no cluster.
func Load(opts LoadOptions) (*Chart, error) {
	dir := opts.Dir
	if dir == "" {
		dir = "."
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return nil, fmt.Errorf("-C takes the chart directory, not a file: try -C %s", DisplayPath(filepath.Dir(dir)))
	}
	chartName, err := readChartName(dir)
	if err != nil && !(opts.ChartOptional && errors.Is(err, fs.ErrNotExist)) {
		return nil, err
	}

	file := opts.File
	explicit := file != ""
	if !explicit {
		file = filepath.Join(dir, FileName)
	} else if !filepath.IsAbs(file) {
		file, _ = filepath.Abs(file)
	}
	display := DisplayPath(file)

	raw := map[string]any{"apiVersion": APIVersion, "kind": Kind}
	var root *yaml.Node
	defaults := ""
	if fi, err := os.Stat(file); err == nil && fi.Size() > MaxFileSize {
		return nil, &Error{File: display, Errors: []FieldError{{
			Message: fmt.Sprintf("the file is %d KiB; cozyhr reads at most %d KiB", fi.Size()>>10, MaxFileSize>>10),
			Hint:    "keep large values in a values file (valuesFiles:), not in .cozyhr.yaml"}}}
	}
	data, err := os.ReadFile(file)
	switch {
	case err == nil:
		root, raw, err = parseYAML(display, data)
		if err != nil {
			return nil, err
		}
	case errors.Is(err, fs.ErrNotExist) && !explicit:
		file = ""
		// A defaults file above the chart gives it what its own file would.
		var entry map[string]any
		if defaults, entry, err = defaultsFor(dir, chartName); err != nil {
			return nil, err
		}
		if entry == nil {
			defaults = ""
		}
		for k, v := range entry {
			raw[k] = v
		}
	case explicit && errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("--config %s: no such file; give the path of a %s, or leave --config out to use the chart's own", display, FileName)
	default:
		return nil, fmt.Errorf("read %s: %w", display, err)
	}

	schema, err := chartSchema()
	if err != nil {
		return nil, err
	}
	sources, err := overlay(schema, raw, opts.Overrides, display, root)
	if err != nil {
		return nil, err
	}
	if vs := schema.validate(raw); len(vs) > 0 {
		return nil, describe(schema, display, root, sources, vs)
	}

	c := &Chart{Defaults: defaults}
	dec, err := mapstructure.NewDecoder(&mapstructure.DecoderConfig{Result: c, ErrorUnused: true,
		DecodeHook: mapstructure.StringToTimeDurationHookFunc()})
	if err != nil {
		return nil, err
	}
	if err := dec.Decode(raw); err != nil {
		// The schema and the structs are kept in step; this is a bug.
		return nil, fmt.Errorf("%s: decode (schema and types disagree, please report): %w", display, err)
	}
	c.Dir, c.File, c.ChartName = dir, file, chartName
	_, nameSet := opts.Overrides["release.name"]
	_, namespaceSet := opts.Overrides["release.namespace"]
	if nameSet {
		c.NameFrom = NamedByOverride
	}
	if namespaceSet {
		c.NamespaceFrom = NamedByOverride
	}
	if file == "" {
		// Without a .cozyhr.yaml, a package.mk Makefile says what the
		// repository calls the release (its NAME and NAMESPACE).
		// It wins over a defaults file's.
		name, namespace := MakefileNames(dir)
		if !nameSet && name != "" {
			c.Release.Name, c.NameFrom = name, NamedByMakefile
		}
		_, fromEnv := sources["release.namespace"]
		if !namespaceSet && namespace != "" && (c.Release.Namespace == "" || defaults != "" && !fromEnv) {
			c.Release.Namespace, c.NamespaceFrom = namespace, NamedByMakefile
		}
	}
	if c.Release.Name == "" {
		c.Release.Name, c.NameFrom = chartName, NamedByChart
	}
	return c, nil
}

// MakefileNames reads NAME and NAMESPACE as Cozystack's package.mk
// Makefiles set them ("export NAME=x", "NAMESPACE=cozy-$(NAME)"); a value
// that uses any other make variable is not evaluated.
func MakefileNames(dir string) (name, namespace string) {
	data, err := os.ReadFile(filepath.Join(dir, "Makefile"))
	if err != nil {
		return "", ""
	}
	assign := regexp.MustCompile(`(?m)^(?:export\s+)?(NAME|NAMESPACE)\s*[:?]?=\s*(\S+)\s*$`)
	vars := map[string]string{}
	for _, m := range assign.FindAllStringSubmatch(string(data), -1) {
		vars[m[1]] = m[2]
	}
	name = vars["NAME"]
	if strings.Contains(name, "$") {
		name = ""
	}
	namespace = strings.NewReplacer("$(NAME)", name, "${NAME}", name).Replace(vars["NAMESPACE"])
	if strings.Contains(namespace, "$") || name == "" && vars["NAMESPACE"] != namespace {
		namespace = ""
	}
	return name, namespace
}

// notChartError says a directory has no Chart.yaml; it is fs.ErrNotExist.
type notChartError struct{ dir string }

func (e notChartError) Error() string {
	return e.dir + " is not a chart directory: it has no Chart.yaml; run cozyhr in a chart directory or point to one with -C DIR"
}

func (notChartError) Unwrap() error { return fs.ErrNotExist }

func readChartName(dir string) (string, error) {
	data, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", notChartError{dir: DisplayPath(dir)}
		}
		return "", err
	}
	var meta struct {
		Name string `yaml:"name"`
	}
	if err := yaml.Unmarshal(data, &meta); err != nil {
		return "", fmt.Errorf("%s: invalid YAML: %w", DisplayPath(filepath.Join(dir, "Chart.yaml")), err)
	}
	if meta.Name == "" {
		return "", fmt.Errorf("%s: the chart has no name; set name: in Chart.yaml", DisplayPath(filepath.Join(dir, "Chart.yaml")))
	}
	return meta.Name, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yaml.v3 numbers the line of these parser errors from 0 (the line where
// the mapping or sequence that is not closed begins), one lower than its
// other errors, which count from 1.
var zeroBasedLine = regexp.MustCompile(`^did not find expected (',' or '[\]}]'|'-' indicator|key|node content)$`)

func parseYAML(display string, data []byte) (*yaml.Node, map[string]any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		fe := FieldError{Message: "invalid YAML: " + err.Error(), Hint: "fix the syntax"}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			fe.Line, _ = strconv.Atoi(m[1])
			if zeroBasedLine.MatchString(m[2]) {
				fe.Line++
				fe.Hint = "the mapping or list that begins on this line is not closed where it should be: check the indentation and brackets of the lines below it"
			}
			fe.Message = "invalid YAML: " + m[2]
		}
		return nil, nil, &Error{File: display, Errors: []FieldError{fe}}
	}
	if len(root.Content) == 0 {
		return nil, nil, &Error{File: display, Errors: []FieldError{{Message: "the file is empty", Hint: "start it with apiVersion: " + APIVersion + " and kind: " + Kind + " (see .cozyhr.yaml.example)"}}}
	}
	v, err := (&nodeDecoder{budget: expansionBudget(&root)}).value(root.Content[0], 0)
	if err != nil {
		return nil, nil, &Error{File: display, Errors: []FieldError{*err}}
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, nil, &Error{File: display, Errors: []FieldError{{Line: root.Content[0].Line, Message: "the file must be a mapping of fields", Hint: "see .cozyhr.yaml.example"}}}
	}
	return &root, m, nil
}

// describe turns schema violations into errors that point at file lines and
// say what to do.
func describe(schema *schemaDoc, display string, root *yaml.Node, sources map[string]string, vs []violation) error {
	e := &Error{File: display}
	for _, v := range vs {
		field := fieldName(v.path)
		if len(v.unknown) > 0 {
			allowed := schema.properties(v.path)
			for _, name := range v.unknown {
				fe := FieldError{Field: joinField(field, name), Message: "unknown field"}
				fe.Line, fe.Column = locate(root, append(append([]string(nil), v.path...), name), true)
				if guess := closest(name, allowed); guess != "" {
					fe.Hint = fmt.Sprintf("did you mean %q?", guess)
				} else {
					fe.Hint = "remove it; allowed here: " + strings.Join(allowed, ", ")
				}
				e.Errors = append(e.Errors, fe)
			}
			continue
		}
		fe := FieldError{Field: field, Message: v.message, Hint: "see .cozyhr.yaml.example or schemas/cozyhr.schema.json"}
		if d := schema.description(v.path); v.described && d != "" {
			fe.Hint = "want " + strings.TrimSuffix(lowerFirst(d), ".")
		}
		if d := schema.nameDescription(v.path[:max(len(v.path)-1, 0)]); v.name && d != "" {
			fe.Hint = "a name here is " + lowerFirst(strings.TrimSuffix(d, "."))
		}
		if alts := schema.alternatives(v.path); v.alternatives && len(alts) > 0 {
			fe.Hint = "set exactly one of: " + strings.Join(alts, ", ")
		}
		if src, ok := sources[strings.Join(v.path, ".")]; ok {
			fe.Source = src
		} else {
			fe.Line, fe.Column = locate(root, v.path, false)
		}
		e.Errors = append(e.Errors, fe)
	}
	// The validator's order follows map iteration; report in file order.
	sort.SliceStable(e.Errors, func(i, j int) bool {
		a, b := e.Errors[i], e.Errors[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Column != b.Column {
			return a.Column < b.Column
		}
		return a.Field < b.Field
	})
	return e
}

// locate finds the line and column of the instance at path: the key itself
// when wantKey, else its value. It returns the nearest existing ancestor when
// the path does not exist (a missing required field).
func locate(root *yaml.Node, path []string, wantKey bool) (int, int) {
	if root == nil || len(root.Content) == 0 {
		return 0, 0
	}
	n := root.Content[0]
	line, col := n.Line, n.Column
	for i, tok := range path {
		var next, key *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for j := 0; j+1 < len(n.Content); j += 2 {
				if n.Content[j].Value == tok {
					key, next = n.Content[j], n.Content[j+1]
					break
				}
			}
		case yaml.SequenceNode:
			if idx, err := strconv.Atoi(tok); err == nil && idx < len(n.Content) {
				next = n.Content[idx]
			}
		}
		if next == nil {
			return line, col
		}
		if key != nil && (wantKey && i == len(path)-1 || next.Kind != yaml.ScalarNode) {
			line, col = key.Line, key.Column
		} else {
			line, col = next.Line, next.Column
		}
		n = next
	}
	return line, col
}

func fieldName(path []string) string {
	var b strings.Builder
	for _, p := range path {
		if _, err := strconv.Atoi(p); err == nil {
			fmt.Fprintf(&b, "[%s]", p)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

func joinField(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// closest suggests the allowed name nearest to a misspelt one.
func closest(name string, allowed []string) string {
	best, bestDist := "", len(name)/2+2
	for _, a := range allowed {
		if d := levenshtein(strings.ToLower(name), strings.ToLower(a)); d < bestDist {
			best, bestDist = a, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

// Bounds on alias expansion, against YAML "billion laughs": aliases may
// expand a file to a few times its own nodes, as anchors for shared
// settings do, never to millions.
const (
	maxAliasDepth    = 64
	aliasExpansion   = 16
	minDecodedBudget = 10000
)

// expansionBudget is how many values the file may decode to: its own
// nodes, aliases not followed, times aliasExpansion.
func expansionBudget(root *yaml.Node) int {
	n := 0
	var count func(*yaml.Node)
	count = func(x *yaml.Node) {
		n++
		for _, c := range x.Content {
			count(c)
		}
	}
	count(root)
	return max(n*aliasExpansion, minDecodedBudget)
}

// nodeDecoder turns a parsed node into plain values. yaml.v3's Node.Decode
// checks duplicate keys pairwise, which made a config with a large values
// block take seconds; this checks them with a map.
type nodeDecoder struct{ budget int }

func (d *nodeDecoder) value(n *yaml.Node, depth int) (any, *FieldError) {
	if d.budget--; d.budget < 0 {
		return nil, &FieldError{Line: n.Line, Message: "aliases expand to too many values", Hint: "write the values out, or use fewer aliases"}
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return d.value(n.Content[0], depth)
	case yaml.AliasNode:
		if depth >= maxAliasDepth {
			return nil, &FieldError{Line: n.Line, Message: "aliases nest too deeply", Hint: "write the values out"}
		}
		return d.value(n.Alias, depth+1)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := d.value(c, depth)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		lines := make(map[string]int, len(n.Content)/2)
		var merged []map[string]any
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				m, err := d.mergeSources(val, depth)
				if err != nil {
					return nil, err
				}
				merged = append(merged, m...)
				continue
			}
			kv, err := d.value(k, depth)
			if err != nil {
				return nil, err
			}
			key := fmt.Sprint(kv)
			if kv == nil {
				key = "null"
			}
			if first, dup := lines[key]; dup {
				return nil, &FieldError{Line: k.Line, Message: fmt.Sprintf("key %q is already defined at line %d", key, first), Hint: "remove one of them"}
			}
			lines[key] = k.Line
			if out[key], err = d.value(val, depth); err != nil {
				return nil, err
			}
		}
		// Explicit keys win over merged ones; earlier merge sources win.
		for _, m := range merged {
			for k, v := range m {
				if _, ok := out[k]; !ok {
					out[k] = v
				}
			}
		}
		return out, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, &FieldError{Line: n.Line, Message: err.Error()}
		}
		return v, nil
	}
}

// mergeSources are the mappings a "<<" key merges: one, or a list.
func (d *nodeDecoder) mergeSources(n *yaml.Node, depth int) ([]map[string]any, *FieldError) {
	v, err := d.value(n, depth)
	if err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case map[string]any:
		return []map[string]any{t}, nil
	case []any:
		var out []map[string]any
		for _, e := range t {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, &FieldError{Line: n.Line, Message: "a merge key (<<) takes mappings", Hint: "merge only anchors of mappings"}
			}
			out = append(out, m)
		}
		return out, nil
	}
	return nil, &FieldError{Line: n.Line, Message: "a merge key (<<) takes a mapping or a list of mappings", Hint: "merge only anchors of mappings"}
}
