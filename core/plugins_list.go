package core

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/upstream"
	"github.com/cozyhr/cozyhr/plugins/host"
	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// PluginInventory is what cozyhr plugins list needs from the plugin host.
type PluginInventory interface {
	Discover() []host.Found
	Describe(ctx context.Context, spec host.Spec) (*host.Description, error)
}

// PluginEntry is one row of cozyhr plugins list.
type PluginEntry struct {
	Name     string   `json:"name"`
	Kinds    []string `json:"kinds"`
	Builtin  bool     `json:"builtin"`
	Protocol int      `json:"protocol,omitempty"`
	Version  string   `json:"version,omitempty"`
	Path     string   `json:"path,omitempty"`
	// ConfiguredAs is where .cozyhr.yaml uses it, e.g. plugins.postProcessors[0].
	ConfiguredAs []string `json:"configuredAs,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// ListPlugins lists built-ins, the plugins cfg (may be nil) names and those
// on the search path, starting each external one to ask its protocol.
func ListPlugins(ctx context.Context, cfg *config.Chart, inv PluginInventory) []PluginEntry {
	var out []PluginEntry
	index := map[string]int{}
	add := func(e PluginEntry) int {
		key := e.Name + "\x00" + e.Path
		if i, ok := index[key]; ok {
			return i
		}
		index[key] = len(out)
		out = append(out, e)
		return len(out) - 1
	}
	for _, name := range BuiltinPostProcessors() {
		add(PluginEntry{Name: name, Kinds: []string{sdk.KindPostProcessor}, Builtin: true})
	}
	for _, name := range upstream.BuiltinImageBuilders() {
		add(PluginEntry{Name: name, Kinds: []string{sdk.KindImageBuilder}, Builtin: true})
	}
	if cfg != nil {
		use := func(list string, pcs []config.Plugin, builtin func(string) bool) {
			for i, pc := range pcs {
				at := fmt.Sprintf("plugins.%s[%d]", list, i)
				if pc.Path == "" && builtin(pc.Name) {
					j := index[pc.Name+"\x00"]
					out[j].ConfiguredAs = append(out[j].ConfiguredAs, at)
					continue
				}
				e := describePlugin(ctx, inv, host.Spec{Name: cmp.Or(pc.Name, pc.Path), Path: pc.Path, BaseDir: cfg.Dir,
					SHA256: pc.SHA256, Stage: "list", Field: cfg.Source() + ": " + at})
				j := add(e)
				out[j].ConfiguredAs = append(out[j].ConfiguredAs, at)
			}
		}
		use("postProcessors", cfg.Plugins.PostProcessors, isBuiltinPostProcessor)
		use("imageBuilders", cfg.Plugins.ImageBuilders, isBuiltinImageBuilder)
	}
	for _, f := range inv.Discover() {
		if _, ok := index[f.Name+"\x00"+f.Path]; ok {
			continue
		}
		add(describePlugin(ctx, inv, host.Spec{Name: f.Name, Path: f.Path, Stage: "list", Field: "plugin"}))
	}
	return out
}

func describePlugin(ctx context.Context, inv PluginInventory, spec host.Spec) PluginEntry {
	e := PluginEntry{Name: spec.Name, Path: spec.Path}
	d, err := inv.Describe(ctx, spec)
	if d != nil {
		e.Path, e.Protocol, e.Version, e.Kinds = d.Path, d.Protocol, d.Version, d.Kinds
	}
	if err != nil {
		e.Error = err.Error()
		if he, ok := err.(*host.Error); ok {
			e.Error = he.Err.Error()
		}
	}
	return e
}

func isBuiltinPostProcessor(name string) bool { return slices.Contains(BuiltinPostProcessors(), name) }
func isBuiltinImageBuilder(name string) bool {
	return slices.Contains(upstream.BuiltinImageBuilders(), name)
}
