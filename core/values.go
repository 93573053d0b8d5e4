package core

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

// ValueOverrides are the user's values on the command line, applied last,
// in helm's order: -f, --set-json, --set, --set-string, --set-file,
// --set-literal.
type ValueOverrides struct {
	Files         []string // -f, in order: a path, - for Stdin, or an http(s) URL
	JSONValues    []string // --set-json
	Values        []string // --set
	StringValues  []string // --set-string
	FileValues    []string // --set-file key=path
	LiteralValues []string // --set-literal
	// Stdin is read for -f -.
	Stdin io.Reader
}

// ComposeValues merges, lowest first: the HelmRelease's values, the
// .cozyhr.yaml values files and inline values, -f files, then --set and
// --set-string. Maps merge; every other value replaces.
func ComposeValues(helmReleaseValues map[string]any, chartDir string, configFiles []string, inline map[string]any, o ValueOverrides) (map[string]any, error) {
	out := map[string]any{}
	mergeValues(out, deepCopyMap(helmReleaseValues))
	for _, f := range configFiles {
		path := f
		if !filepath.IsAbs(path) {
			path = filepath.Join(chartDir, f)
		}
		v, err := readValuesFile(path)
		if err != nil {
			return nil, fmt.Errorf("valuesFiles in .cozyhr.yaml: %w", err)
		}
		mergeValues(out, v)
	}
	mergeValues(out, deepCopyMap(inline))
	for _, f := range o.Files {
		v, err := readValuesSource(f, o.Stdin)
		if err != nil {
			return nil, fmt.Errorf("-f: %w", err)
		}
		mergeValues(out, v)
	}
	for _, s := range o.JSONValues {
		if err := strvals.ParseJSON(s, out); err != nil {
			return nil, fmt.Errorf("--set-json %q: %w", s, err)
		}
	}
	for _, s := range o.Values {
		if strings.HasPrefix(strings.TrimSpace(s), "=") {
			return nil, fmt.Errorf("--set %q: no key before =; write --set key=value", s)
		}
		if err := strvals.ParseInto(s, out); err != nil {
			return nil, fmt.Errorf("--set %q: %w", s, err)
		}
	}
	for _, s := range o.StringValues {
		if err := strvals.ParseIntoString(s, out); err != nil {
			return nil, fmt.Errorf("--set-string %q: %w", s, err)
		}
	}
	for _, s := range o.FileValues {
		read := func(rs []rune) (any, error) {
			data, err := os.ReadFile(string(rs))
			return string(data), err
		}
		if err := strvals.ParseIntoFile(s, out, read); err != nil {
			return nil, fmt.Errorf("--set-file %q: %w", s, err)
		}
	}
	for _, s := range o.LiteralValues {
		if err := strvals.ParseLiteralInto(s, out); err != nil {
			return nil, fmt.Errorf("--set-literal %q: %w", s, err)
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
			return nil, errors.New("-f -: no standard input")
		}
		data, err = io.ReadAll(io.LimitReader(stdin, maxValuesSize+1))
	case strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://"):
		data, err = fetchValues(src)
	default:
		return readValuesFile(src)
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

func readValuesFile(path string) (map[string]any, error) {
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

// mergeValues merges src into dst: nested maps merge, anything else in src
// replaces what dst has (lists are not appended), as Helm and Flux do.
func mergeValues(dst, src map[string]any) {
	for k, v := range src {
		if sm, ok := v.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				mergeValues(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func deepCopyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = deepCopyValue(v)
	}
	return out
}

func deepCopyValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return deepCopyMap(t)
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
