package core

import (
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"
)

// ShowOptions tune how the desired state is printed.
type ShowOptions struct {
	// ShowOnly keeps objects from these template paths (globs allowed),
	// relative to the chart as in helm template --show-only.
	ShowOnly []string
	// Output is yaml (default) or json.
	Output      string
	SkipHooks   bool
	ShowSecrets bool
}

// WriteShow prints the desired state: CRDs, then manifests, then hooks, as
// helm template --include-crds does. Secret data is masked unless asked for.
// It returns how many Secrets were masked.
func WriteShow(out io.Writer, d *Desired, o ShowOptions) (int, error) {
	var objs []Object
	objs = append(objs, d.Rendered.CRDs...)
	objs = append(objs, d.Rendered.Manifests...)
	if !o.SkipHooks {
		objs = append(objs, d.Rendered.Hooks...)
	}
	if len(o.ShowOnly) > 0 {
		var kept []Object
		matched := make([]bool, len(o.ShowOnly))
		for _, obj := range objs {
			for i, pattern := range o.ShowOnly {
				if matchTemplate(d.Chart.Name(), obj.Source, pattern) {
					kept = append(kept, obj)
					matched[i] = true
					break
				}
			}
		}
		for i, ok := range matched {
			if !ok {
				return 0, fmt.Errorf("--show-only %s: no template of chart %s matches; give a path such as templates/deployment.yaml", o.ShowOnly[i], d.Chart.Name())
			}
		}
		objs = kept
	}
	if o.Output == "json" {
		var err error
		if objs, err = ParseObjects(objs); err != nil {
			return 0, err
		}
	}
	masked := 0
	if !o.ShowSecrets {
		for i, obj := range objs {
			if isSecretObject(obj) {
				if !obj.Parsed() {
					parsed, err := ParseObjects([]Object{obj})
					if err != nil || len(parsed) != 1 {
						return 0, fmt.Errorf("%s: %v", obj.Source, err)
					}
					obj = parsed[0]
				}
				cp := obj.DeepCopy()
				if !maskForShow(cp.Object) {
					continue
				}
				objs[i] = Object{Unstructured: cp, Source: obj.Source}
				masked++
			}
		}
	}
	switch o.Output {
	case "", "yaml":
		return masked, WriteManifests(out, objs)
	case "json":
		items := make([]any, len(objs))
		for i, obj := range objs {
			items[i] = obj.Object
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return masked, enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	default:
		return 0, fmt.Errorf("unknown output format %q: use yaml or json", o.Output)
	}
}

// matchTemplate matches a Helm source path (chart/templates/x.yaml, or
// chart/charts/sub/templates/x.yaml) against a user pattern written with or
// without the chart name.
func matchTemplate(chartName, source, pattern string) bool {
	pattern = strings.TrimPrefix(path.Clean(pattern), "./")
	for _, candidate := range []string{source, strings.TrimPrefix(source, chartName+"/")} {
		if ok, _ := path.Match(pattern, candidate); ok || candidate == pattern {
			return true
		}
	}
	return false
}

// maskForShow replaces every value of a Secret with a mask that the API
// server refuses (it is not base64), so that masked output piped to
// kubectl apply fails instead of storing the mask: stringData moves into
// data for that. It reports whether the Secret had any data to mask.
func maskForShow(obj map[string]any) bool {
	data, _ := obj[secretDataKey].(map[string]any)
	strData, _ := obj["stringData"].(map[string]any)
	if len(data) == 0 && len(strData) == 0 {
		return false
	}
	masked := make(map[string]any, len(data)+len(strData))
	for k := range data {
		masked[k] = maskedValue
	}
	for k := range strData {
		masked[k] = maskedValue
	}
	obj[secretDataKey] = masked
	delete(obj, "stringData")
	return true
}
