package cmd

import (
	"cmp"
	"context"
	"fmt"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/kube"
)

// fluxClient connects without needing a chart directory, for commands that
// name HelmReleases directly.
func (g *globalOptions) fluxClient() (client.Client, string, error) {
	cluster := kube.NewCluster(g.kube)
	cl, err := cluster.Client()
	if err != nil {
		return nil, "", err
	}
	ns := *g.kube.Namespace
	if ns == "" {
		ns = cluster.DefaultNamespace()
	}
	return cl, ns, nil
}

func newGetCmd(g *globalOptions) *cobra.Command {
	o := output.PrintOptions{}
	var format string
	var watch bool
	var watchTimeout time.Duration
	formats := []output.Format{output.Table, output.Wide, output.JSON, output.YAML, output.Name}
	s := &spec{takesName: true, overMany: true, machine: machineOutput(&format)}
	cmd := &cobra.Command{
		Use: "get [NAME]",
		Example: `  cozyhr get                         # the chart's HelmRelease
  cozyhr get metallb -o yaml         # one HelmRelease, as itself
  cozyhr get --watch                 # its conditions as they change`,
		Short: "Show the chart's HelmRelease, or the one named, as flux get helmreleases does",
		Args:  cobra.MaximumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
			return g.completeHelmReleases(cmd.Context(), args)
		},
		RunE: g.runE(s, func(*cobra.Command) (err error) {
			o.Output, err = output.Parse(format, formats...)
			return err
		}, func(r *run) error {
			o := o // each chart's run has its own copy
			ctx, args := r.ctx, r.args
			if watch {
				w, err := r.workspace(false, nil)
				if err != nil {
					return err
				}
				return w.WatchHelmRelease(ctx, r.streams.Out, watchTimeout)
			}
			var hr *helmv2.HelmRelease
			if len(args) == 1 {
				o.Single = true
				cl, ns, err := g.fluxClient()
				if err != nil {
					return err
				}
				ns = g.chartNamespace(ns)
				hr = &helmv2.HelmRelease{}
				if err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: args[0]}, hr); err != nil {
					return fmt.Errorf("get HelmRelease %s/%s: %w", ns, args[0], err)
				}
			} else {
				w, err := r.workspace(false, nil)
				if err != nil {
					return err
				}
				t, err := w.ResolveTarget(ctx)
				if err != nil {
					return err
				}
				if !t.FluxMode() {
					return fmt.Errorf("HelmRelease %s does not exist", t.HelmReleaseKey)
				}
				hr = t.HelmRelease
			}
			o.Now = time.Now()
			return output.HelmReleases(r.streams.Out, []helmv2.HelmRelease{*hr}, o)
		}),
	}
	outputFlag(cmd, &format, formats, "")
	cmd.Flags().BoolVarP(&watch, "watch", "w", false, "print the HelmRelease's conditions whenever they change, until Ctrl-C")
	cmd.Flags().DurationVar(&watchTimeout, "watch-timeout", 0, "stop watching after this long (default: never)")
	return g.declare(cmd, s)
}

func newListCmd(g *globalOptions) *cobra.Command {
	o := output.PrintOptions{}
	var format, selector string
	formats := []output.Format{output.Table, output.Wide, output.JSON, output.YAML, output.Name}
	cmd := &cobra.Command{
		Use: "list",
		Example: `  cozyhr list -A
  cozyhr list -l team=platform -o wide`,
		Aliases: []string{"ls"},
		Short:   "List HelmReleases in the namespace, or in all namespaces with -A",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.Output, err = output.Parse(format, formats...); err != nil {
				return err
			}
			cl, ns, err := g.fluxClient()
			if err != nil {
				return err
			}
			if o.AllNamespaces {
				ns = ""
			}
			items, err := flux.List(cmd.Context(), cl, ns, selector)
			if err != nil {
				return err
			}
			o.Now = time.Now()
			return output.HelmReleases(g.streams.Out, items, o)
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", false, "list HelmReleases in every namespace")
	f.StringVarP(&selector, "selector", "l", "", "label selector")
	outputFlag(cmd, &format, formats, "")
	return cmd
}

// completeHelmReleases completes HelmRelease names in the namespace.
func (g *globalOptions) completeHelmReleases(ctx context.Context, args []string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	cl, ns, err := g.fluxClient()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	names, err := flux.Names(ctx, cl, g.chartNamespace(ns))
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	return names, cobra.ShellCompDirectiveNoFileComp
}

// chartNamespace is where HelmRelease names are looked up without -n: in
// a chart directory the chart's HelmRelease namespace, else ns.
func (g *globalOptions) chartNamespace(ns string) string {
	if *g.kube.Namespace != "" {
		return ns
	}
	cfg, err := config.Load(config.LoadOptions{Dir: g.dir(), File: g.configFile})
	if err != nil {
		return ns
	}
	return cmp.Or(cfg.HelmRelease.Namespace, cfg.Release.Namespace, ns)
}
