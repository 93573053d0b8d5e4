// Package values composes Helm values: files, inline values and the
// command line's overrides, merged in Helm's order.
package values

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// Overrides are the user's own values, applied last, in helm's order:
// files, JSON values, values, string values, file values, literal values
// (helm's -f, --set-json, --set, --set-string, --set-file, --set-literal).
type Overrides struct {
	Files         []string // in order: a path, - for Stdin, or an http(s) URL
	JSONValues    []string // key=JSON
	Values        []string // key=value, typed as YAML
	StringValues  []string // key=value, always a string
	FileValues    []string // key=path, the file's content as a string
	LiteralValues []string // key=value, taken as it is
	// Stdin is read for the file "-".
	Stdin io.Reader
}

// Override kinds, as OverrideError names them.
const (
	KindFile    = "file"
	KindJSON    = "json"
	KindValue   = "value"
	KindString  = "string"
	KindFileRef = "file-value"
	KindLiteral = "literal"
)

// OverrideError is an override that could not be read or parsed; Kind says
// which of Overrides' lists it came from, so a caller can name it as the
// user wrote it.
type OverrideError struct {
	Kind  string
	Value string
	Err   error
}

func (e *OverrideError) Error() string {
	if e.Kind == KindFile {
		return fmt.Sprintf("values file: %v", e.Err)
	}
	return fmt.Sprintf("%s override %q: %v", e.Kind, e.Value, e.Err)
}

func (e *OverrideError) Unwrap() error { return e.Err }

// ErrNoKey is an override with nothing before its "=".
var ErrNoKey = errors.New("no key before =")

// ErrSetsNothing is an override Helm's parser accepts but that sets no
// value (an unclosed bracket in the key): Helm 4 drops it without a word.
var ErrSetsNothing = errors.New("sets no value: check the key (brackets close, as in list[0].name=x)")

// setsSomething parses an override alone, to refuse one with no key or one
// that sets nothing, before it is merged.
func setsSomething(s string, parse func(string, map[string]any) error) error {
	if strings.HasPrefix(strings.TrimSpace(s), "=") {
		return ErrNoKey
	}
	probe := map[string]any{}
	if err := parse(s, probe); err != nil {
		return nil // the real parse reports it
	}
	if _, empty := probe[""]; empty {
		return ErrNoKey
	}
	if len(probe) == 0 {
		return ErrSetsNothing
	}
	return nil
}

// Compose merges, lowest first: the HelmRelease's values, the .cozyhr.yaml
// values files and inline values, then the overrides. Maps merge; every
// other value replaces.
func Compose(helmReleaseValues map[string]any, chartDir string, configFiles []string, inline map[string]any, o Overrides) (map[string]any, error) {
	out := map[string]any{}
	Merge(out, DeepCopy(helmReleaseValues))
	for _, f := range configFiles {
		path := f
		if !filepath.IsAbs(path) {
			path = filepath.Join(chartDir, f)
		}
		v, err := ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("valuesFiles in .cozyhr.yaml: %w", err)
		}
		Merge(out, v)
	}
	Merge(out, DeepCopy(inline))
	for _, f := range o.Files {
		v, err := readValuesSource(f, o.Stdin)
		if err != nil {
			return nil, &OverrideError{Kind: KindFile, Value: f, Err: err}
		}
		Merge(out, v)
	}
	for _, s := range o.JSONValues {
		if err := strvals.ParseJSON(s, out); err != nil {
			return nil, &OverrideError{Kind: KindJSON, Value: s, Err: err}
		}
	}
	for _, s := range o.Values {
		if err := setsSomething(s, strvals.ParseInto); err != nil {
			return nil, &OverrideError{Kind: KindValue, Value: s, Err: err}
		}
		if err := strvals.ParseInto(s, out); err != nil {
			return nil, &OverrideError{Kind: KindValue, Value: s, Err: err}
		}
	}
	for _, s := range o.StringValues {
		if err := setsSomething(s, strvals.ParseIntoString); err != nil {
			return nil, &OverrideError{Kind: KindString, Value: s, Err: err}
		}
		if err := strvals.ParseIntoString(s, out); err != nil {
			return nil, &OverrideError{Kind: KindString, Value: s, Err: err}
		}
	}
	for _, s := range o.FileValues {
		read := func(rs []rune) (any, error) {
			data, err := os.ReadFile(string(rs))
			return string(data), err
		}
		if err := strvals.ParseIntoFile(s, out, read); err != nil {
			return nil, &OverrideError{Kind: KindFileRef, Value: s, Err: err}
		}
	}
	for _, s := range o.LiteralValues {
		if err := setsSomething(s, strvals.ParseLiteralInto); err != nil {
			return nil, &OverrideError{Kind: KindLiteral, Value: s, Err: err}
		}
		if err := strvals.ParseLiteralInto(s, out); err != nil {
			return nil, &OverrideError{Kind: KindLiteral, Value: s, Err: err}
		}
	}
	return out, nil
}

// readValuesSource reads -f: a file, - for stdin, or an http(s) URL.
func readValuesSource(src string, stdin io.Reader) (map[string]any, error) {
	var data []byte
	var err error
	switch {
	case src == "-":
		if stdin == nil {
			return nil, fmt.Errorf("%s: no standard input", src)
		}
		data, err = io.ReadAll(io.LimitReader(stdin, maxValuesSize+1))
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		data, err = fetchValues(src)
	default:
		return ReadFile(src)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	if len(data) > maxValuesSize {
		return nil, fmt.Errorf("%s: larger than %d MiB; values files that big are refused", src, maxValuesSize>>20)
	}
	return parseValues(src, data)
}

// maxValuesSize bounds a values file read from stdin or a URL.
const maxValuesSize = 64 << 20

func fetchValues(url string) ([]byte, error) {
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, maxValuesSize+1))
}

// ReadFile reads a values file, refusing one too large to be values.
func ReadFile(path string) (map[string]any, error) {
	if fi, err := os.Stat(path); err == nil && fi.Size() > maxValuesSize {
		return nil, fmt.Errorf("%s: %d MiB is larger than the %d MiB cozyhr reads as a values file", path, fi.Size()>>20, maxValuesSize>>20)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseValues(path, data)
}

func parseValues(name string, data []byte) (map[string]any, error) {
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	switch v := doc.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return v, nil
	default:
		return nil, fmt.Errorf("%s holds a %s at its top; a values file is a mapping (key: value lines)", name, yamlKind(v))
	}
}

func yamlKind(v any) string {
	switch v.(type) {
	case []any:
		return "list"
	case string:
		return "string"
	}
	return fmt.Sprintf("%T", v)
}

// Merge merges src into dst: nested maps merge, anything else in src
// replaces what dst has (lists are not appended), as Helm and Flux do.
func Merge(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				Merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

// DeepCopy copies nested values, so that merging into the copy leaves m alone.
func DeepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return DeepCopy(t)
	case []any:
		l := make([]any, len(t))
		for i := range t {
			l[i] = deepCopyValue(t[i])
		}
		return l
	default:
		return v
	}
}
