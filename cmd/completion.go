package cmd

import (
	"context"
	"sort"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
)

// registerCompletions completes the global flags' values as kubectl and
// helm do: -n from the cluster's namespaces, --context from the
// kubeconfig. Each command completes its own: -o from its formats
// (outputFlag), show -s from the chart's templates (templatePaths), diff
// --kind from the kinds it renders (renderedKinds).
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
}

// templatePaths lists the chart's templates as -s takes them.
func (g *globalOptions) templatePaths() []string {
	cfg, err := config.Load(config.LoadOptions{Dir: g.dir(), File: g.configFile})
	if err != nil {
		return nil
	}
	return core.TemplatePaths(cfg)
}

// renderedKinds lists the kinds an offline render of the chart produces.
func (g *globalOptions) renderedKinds(ctx context.Context) []string {
	cfg, err := config.Load(config.LoadOptions{Dir: g.dir(), File: g.configFile})
	if err != nil {
		return nil
	}
	return core.RenderedKinds(ctx, cfg)
}
