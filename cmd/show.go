package cmd

import (
	"fmt"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

type showOptions struct {
	render        renderFlags
	show          output.ShowOptions
	offline       bool
	includeCRDs   bool
	output        string
	deterministic bool
}

// validate checks the output format and the render flags.
func (o *showOptions) validate() error {
	var err error
	if o.show.Output, err = output.Parse(o.output, formatsOf("show")...); err != nil {
		return err
	}
	return o.render.validate(o.offline)
}

func newShowCmd(g *globalOptions) *cobra.Command {
	o := &showOptions{}
	cmd := &cobra.Command{
		Use: "show",
		Example: `  cozyhr show                                  # render as Flux would, with the cluster's capabilities
  cozyhr show -n cozy-metallb metallb          # for HelmRelease metallb (Cozystack's package.mk)
  cozyhr show --offline --kube-version 1.33.0  # no cluster, like helm template
  cozyhr show -s 'templates/*.yaml' -o json`,
		SuggestFor: []string{"template"},
		Short:      "Render the chart as Flux would install it (replaces make show)",
		Long: `Render the chart with the values Flux would use (the live HelmRelease's values,
then .cozyhr.yaml's, then -f and --set), post-processed as helm-controller does.
Capabilities and lookups come from the cluster unless --offline.
Secret data is masked unless --show-secrets.`,
		Args: cobra.NoArgs,
		RunE: g.runE(o.validate, func(r *run) error {
			o := *o // each chart's run has its own copy
			overrides := map[string]any{}
			setIfChanged(r.cmd, overrides, "include-crds", "render.includeCRDs", o.includeCRDs)
			setIfChanged(r.cmd, overrides, "skip-hooks", "render.skipHooks", o.show.SkipHooks)
			w, err := r.workspace(o.offline, overrides)
			if err != nil {
				return err
			}
			o.show.SkipHooks = w.Config.Render.SkipHooks
			opts := o.render.options(r.streams.In)
			opts.TextOnly = o.show.Output != output.JSON
			opts.Deterministic = o.deterministic
			d, err := w.Desired(r.cmd.Context(), opts, r.debugWriter())
			if err != nil {
				return err
			}
			for _, warning := range d.Warnings {
				fmt.Fprintln(r.streams.ErrOut, "Warning:", warning)
			}
			masked, err := output.Show(r.streams.Out, d, o.show)
			if masked > 0 {
				fmt.Fprintf(r.streams.ErrOut, "cozyhr: data of %d Secret(s) masked; --show-secrets prints it\n", masked)
			}
			return err
		}),
	}
	f := cmd.Flags()
	o.render.add(f)
	f.StringArrayVarP(&o.show.ShowOnly, "show-only", "s", nil, "only show objects from these templates (repeatable, globs allowed)")
	f.StringVarP(&o.output, "output", "o", "yaml", "output format: yaml or json")
	f.BoolVar(&o.show.SkipHooks, "skip-hooks", false, "leave Helm hooks out")
	f.BoolVar(&o.includeCRDs, "include-crds", true, "include the chart's crds/ directory")
	f.BoolVar(&o.show.ShowSecrets, "show-secrets", false, "print Secret data instead of masking it")
	f.BoolVar(&o.offline, "offline", false, "render without a cluster, like helm template")
	f.BoolVar(&o.deterministic, "deterministic", false, "seed randAlphaNum, randAlpha, randNumeric, randAscii, randInt and uuidv4 and fix now, for golden files (never used by apply)")
	return cmd
}
