// Package pluginlist lists the plugins cozyhr knows: the built-in
// post-processors and image builders, those a .cozyhr.yaml names and those
// on the search path, each external one asked its protocol.
package pluginlist

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/postprocess"
	"github.com/cozyhr/cozyhr/core/upstream"
	"github.com/cozyhr/cozyhr/plugins/host"
	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// Inventory is what cozyhr plugins list needs from the plugin host.
type Inventory interface {
	Discover() []host.Found
	Describe(ctx context.Context, spec host.Spec) (*host.Description, error)
}

// Entry is one row of cozyhr plugins list.
type Entry struct {
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

// List lists built-ins, the plugins cfg (may be nil) names and those
// on the search path, starting each external one to ask its protocol.
func List(ctx context.Context, cfg *config.Chart, inv Inventory) []Entry {
	var out []Entry
	index := map[string]int{}
	add := func(e Entry) int {
		key := e.Name + "\x00" + e.Path
		if i, ok := index[key]; ok {
			return i
		}
		index[key] = len(out)
		out = append(out, e)
		return len(out) - 1
	}
	for _, name := range BuiltinPostProcessors() {
		add(Entry{Name: name, Kinds: []string{sdk.KindPostProcessor}, Builtin: true})
	}
	for _, name := range upstream.BuiltinImageBuilders() {
		add(Entry{Name: name, Kinds: []string{sdk.KindImageBuilder}, Builtin: true})
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

func describePlugin(ctx context.Context, inv Inventory, spec host.Spec) Entry {
	e := Entry{Name: spec.Name, Path: spec.Path}
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

// BuiltinPostProcessors lists the built-in post-processors.
func BuiltinPostProcessors() []string {
	return []string{flux.BuiltinName, postprocess.BuiltinKustomize}
}
