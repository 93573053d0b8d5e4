package cmd

import (
	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

func newHistoryCmd(g *globalOptions) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the release's revisions, and who wrote each (cozyhr or helm-controller)",
		Long: `List the stored revisions of the chart's release, oldest first, as helm history
does, with the program that wrote each: cozyhr, helm-controller or helm (the field
manager that created the revision's storage Secret).`,
		Example: `  cozyhr history
  cozyhr history -n cozy-metallb metallb -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := output.Parse(format, output.Table, output.JSON, output.YAML)
			if err != nil {
				return err
			}
			w, err := g.workspace(cmd, false, nil)
			if err != nil {
				return err
			}
			_, revs, err := w.History(cmd.Context(), g.debugWriter())
			if err != nil {
				return err
			}
			return output.History(g.streams.Out, revs, f)
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "table", "output format: table, json or yaml")
	return cmd
}
