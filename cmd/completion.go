package cmd

import (
	"context"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
)

// registerCompletions completes flag values as kubectl and helm do: -n
// from the cluster's namespaces, --context from the kubeconfig, -o from
// each command's formats, -s from the chart's templates, --kind from the
// kinds it renders, plugin names from .cozyhr.yaml and the search path.
func (g *globalOptions) registerCompletions(root *cobra.Command) {
	_ = root.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
		cl, _, err := g.fluxClient()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var list corev1.NamespaceList
		if err := cl.List(cmd.Context(), &list); err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []string
		for _, ns := range list.Items {
			names = append(names, ns.Name)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	_ = root.RegisterFlagCompletionFunc("context", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		raw, err := g.kube.ToRawKubeConfigLoader().RawConfig()
		if err != nil {
			return nil, cobra.ShellCompDirectiveError
		}
		var names []string
		for name := range raw.Contexts {
			names = append(names, name)
		}
		sort.Strings(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("output"); f != nil {
			list := formatsOf(strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" "))
			names := make([]string, len(list))
			for i, f := range list {
				names[i] = string(f)
			}
			_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
		}
		if c.Flags().Lookup("show-only") != nil {
			_ = c.RegisterFlagCompletionFunc("show-only", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return g.templatePaths(), cobra.ShellCompDirectiveNoFileComp
			})
		}
		if c.Flags().Lookup("kind") != nil {
			_ = c.RegisterFlagCompletionFunc("kind", func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
				return g.renderedKinds(cmd.Context()), cobra.ShellCompDirectiveNoFileComp
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// templatePaths lists the chart's templates as -s takes them.
func (g *globalOptions) templatePaths() []string {
	cfg, err := config.Load(config.LoadOptions{Dir: g.dir(), File: g.configFile})
	if err != nil {
		return nil
	}
	ch, err := core.LoadChart(cfg.Dir)
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

// renderedKinds lists the kinds an offline render of the chart produces.
func (g *globalOptions) renderedKinds(ctx context.Context) []string {
	cfg, err := config.Load(config.LoadOptions{Dir: g.dir(), File: g.configFile})
	if err != nil {
		return nil
	}
	w := &core.Workspace{Config: cfg}
	d, err := w.Desired(ctx, core.RenderOptions{}, nil)
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	for _, o := range append(d.Rendered.Manifests, d.Rendered.CRDs...) {
		if o.Unstructured != nil {
			seen[o.GetKind()] = true
		}
	}
	var out []string
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
