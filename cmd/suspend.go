package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newSuspendCmd(g *globalOptions, suspend bool) *cobra.Command {
	use, short, done := "resume", "Resume the chart's HelmRelease: hand the release back to Flux", "Resumed"
	if suspend {
		use, short, done = "suspend", "Suspend the chart's HelmRelease so that Flux leaves the release alone", "Suspended"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := g.workspace(cmd, false, nil)
			if err != nil {
				return err
			}
			t, err := w.SetSuspended(cmd.Context(), suspend)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.streams.Out, "%s HelmRelease %s.\n", done, t.HelmReleaseKey)
			return nil
		},
	}
}
