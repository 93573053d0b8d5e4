package core

import (
	"fmt"
	"os"
	"path/filepath"

	"helm.sh/helm/v4/pkg/strvals"
	"sigs.k8s.io/yaml"
)

// ValueOverrides are the user's values on the command line, applied last.
type ValueOverrides struct {
	Files        []string // -f, in order
	Values       []string // --set
	StringValues []string // --set-string
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
		v, err := readValuesFile(f)
		if err != nil {
			return nil, fmt.Errorf("-f: %w", err)
		}
		mergeValues(out, v)
	}
	for _, s := range o.Values {
		if err := strvals.ParseInto(s, out); err != nil {
			return nil, fmt.Errorf("--set %q: %w", s, err)
		}
	}
	for _, s := range o.StringValues {
		if err := strvals.ParseIntoString(s, out); err != nil {
			return nil, fmt.Errorf("--set-string %q: %w", s, err)
		}
	}
	return out, nil
}

func readValuesFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	v := map[string]any{}
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
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
