package cmd

import (
	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

func newValuesCmd(g *globalOptions) *cobra.Command {
	var render renderFlags
	var showSecrets, all bool
	var format string
	var f output.Format
	formats := []output.Format{output.YAML, output.JSON}
	s := &spec{takesName: true, render: &render}
	cmd := &cobra.Command{
		Use: "values",
		Example: `  cozyhr values                      # the values the chart is rendered with
  cozyhr values --all -o json        # with the chart's defaults`,
		Short: "Print the values the chart is rendered with, composed as Flux composes them",
		Long: `Print the composed values: the HelmRelease's spec.valuesFrom and spec.values
(as helm-controller composes them), then .cozyhr.yaml's values, -f and --set.
These are the values supplied to Helm; --all adds the chart's defaults.
Values that came from Secrets are masked unless --show-secrets.`,
		Args: cobra.NoArgs,
		RunE: g.runE(s, func(*cobra.Command) (err error) {
			if f, err = output.Parse(format, formats...); err != nil {
				return err
			}
			return render.validate(false)
		}, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			opts := render.options(r.streams.In)
			opts.TextOnly = true
			d, err := w.Desired(r.ctx, opts, r.debugWriter())
			if err != nil {
				return err
			}
			return output.Values(r.streams.Out, d, all, showSecrets, f)
		}),
	}
	render.add(cmd.Flags())
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print values that came from Secrets")
	cmd.Flags().BoolVar(&all, "all", false, "include the chart's default values")
	outputFlag(cmd, &format, formats, "")
	return g.declare(cmd, s)
}
