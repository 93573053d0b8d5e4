package core

import (
	"context"
	"path/filepath"
	"sort"
	"strings"

	"github.com/cozyhr/cozyhr/config"
)

// TemplatePaths lists the chart's templates that render objects (not
// helpers or NOTES.txt), sorted: what show -s selects from.
func TemplatePaths(cfg *config.Chart) []string {
	ch, err := LoadChart(cfg.Dir)
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range ch.Templates {
		if strings.HasPrefix(filepath.Base(t.Name), "_") || strings.HasSuffix(t.Name, "NOTES.txt") {
			continue
		}
		out = append(out, t.Name)
	}
	sort.Strings(out)
	return out
}

// RenderedKinds lists the kinds an offline render of the chart produces,
// sorted; nothing when it does not render.
func RenderedKinds(ctx context.Context, cfg *config.Chart) []string {
	w := &Workspace{Config: cfg}
	d, err := w.Desired(ctx, RenderOptions{}, nil)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, o := range append(d.Rendered.Manifests, d.Rendered.CRDs...) {
		if o.Unstructured != nil {
			seen[o.GetKind()] = true
		}
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
