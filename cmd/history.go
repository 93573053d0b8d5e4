package cmd

import (
	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

func newHistoryCmd(g *globalOptions) *cobra.Command {
	var format string
	var f output.Format
	formats := []output.Format{output.Table, output.JSON, output.YAML}
	s := &spec{takesName: true}
	cmd := &cobra.Command{
		Use:   "history",
		Short: "List the release's revisions, and who wrote each (cozyhr or helm-controller)",
		Long: `List the stored revisions of the chart's release, oldest first, as helm history
does, with the program that wrote each: cozyhr, helm-controller or helm (the field
manager that created the revision's storage Secret).`,
		Example: `  cozyhr history
  cozyhr history -n cozy-metallb metallb -o json`,
		Args: cobra.NoArgs,
		RunE: g.runE(s, func(*cobra.Command) (err error) {
			f, err = output.Parse(format, formats...)
			return err
		}, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			_, revs, err := w.History(r.ctx, r.debugWriter())
			if err != nil {
				return err
			}
			return output.History(r.streams.Out, revs, f)
		}),
	}
	outputFlag(cmd, &format, formats, "")
	return g.declare(cmd, s)
}
