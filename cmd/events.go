package cmd

import (
	"time"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

func newEventsCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "events",
		Short: "Recent events of the chart's HelmRelease and of its release's objects",
		Example: `  cozyhr events
  cozyhr events -n cozy-metallb metallb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w, err := g.workspace(cmd, false, nil)
			if err != nil {
				return err
			}
			events, err := w.Events(cmd.Context(), g.debugWriter())
			if err != nil {
				return err
			}
			return output.Events(g.streams.Out, events, time.Now())
		},
	}
}
