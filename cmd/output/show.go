package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/manifest"
)

// ShowOptions tune how the desired state is printed.
type ShowOptions struct {
	// ShowOnly keeps objects from these template paths (globs allowed),
	// relative to the chart as in helm template --show-only.
	ShowOnly []string
	// Output is yaml (default) or json.
	Output      Format
	SkipHooks   bool
	ShowSecrets bool
}

// writeAsHelmTemplate prints objects byte for byte as helm template does:
// the release's manifest (CRDs and resources) trimmed as a whole, so that a
// last document's trailing blank lines go, and ended by a newline (the one
// line of a chart that renders nothing), then each hook as rendered.
func writeAsHelmTemplate(out io.Writer, objs []manifest.Object) error {
	split := len(objs)
	for i, o := range objs {
		if o.Hook {
			split = i
			break
		}
	}
	var body bytes.Buffer
	if err := manifest.WriteManifests(&body, objs[:split]); err != nil {
		return err
	}
	// As helm template: one line for the manifest even when it is empty.
	if _, err := out.Write(append(bytes.TrimSpace(body.Bytes()), '\n')); err != nil {
		return err
	}
	return manifest.WriteManifests(out, objs[split:])
}

// Show prints the desired state: CRDs, then manifests, then hooks, as
// helm template --include-crds does. Secret data is masked unless asked for.
// It returns how many Secrets were masked.
func Show(out io.Writer, d *core.Desired, o ShowOptions) (int, error) {
	var objs []manifest.Object
	objs = append(objs, d.Rendered.CRDs...)
	objs = append(objs, d.Rendered.Manifests...)
	if !o.SkipHooks {
		objs = append(objs, d.Rendered.Hooks...)
	}
	if len(o.ShowOnly) > 0 {
		var kept []manifest.Object
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
	if o.Output == JSON {
		var err error
		if objs, err = manifest.ParseObjects(objs); err != nil {
			return 0, err
		}
	}
	masked := 0
	if !o.ShowSecrets {
		for i, obj := range objs {
			if manifest.IsSecretObject(obj) {
				if !obj.Parsed() {
					parsed, err := manifest.ParseObjects([]manifest.Object{obj})
					if err != nil || len(parsed) != 1 {
						return 0, fmt.Errorf("%s: %v", obj.Source, err)
					}
					obj = parsed[0]
				}
				cp := obj.DeepCopy()
				if !manifest.MaskForShow(cp.Object) {
					continue
				}
				objs[i] = manifest.Object{Unstructured: cp, Source: obj.Source, Hook: obj.Hook}
				masked++
			}
		}
	}
	switch o.Output {
	case YAML, "":
		return masked, writeAsHelmTemplate(out, objs)
	case JSON:
		items := make([]any, len(objs))
		for i, obj := range objs {
			items[i] = obj.Object
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return masked, enc.Encode(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
	default:
		return 0, fmt.Errorf("a render is not printed as %s", o.Output)
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
