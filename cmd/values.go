package cmd

import (
	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

func newValuesCmd(g *globalOptions) *cobra.Command {
	var render renderFlags
	var showSecrets, all bool
	var format string
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
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := output.Parse(format, output.YAML, output.JSON)
			if err != nil {
				return err
			}
			if err := render.validate(false); err != nil {
				return err
			}
			w, err := g.workspace(cmd, false, nil)
			if err != nil {
				return err
			}
			opts := render.options(g.streams.In)
			opts.TextOnly = true
			d, err := w.Desired(cmd.Context(), opts, g.debugWriter())
			if err != nil {
				return err
			}
			return output.Values(g.streams.Out, d, all, showSecrets, f)
		},
	}
	render.add(cmd.Flags())
	cmd.Flags().BoolVar(&showSecrets, "show-secrets", false, "print values that came from Secrets")
	cmd.Flags().BoolVar(&all, "all", false, "include the chart's default values")
	cmd.Flags().StringVarP(&format, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}
