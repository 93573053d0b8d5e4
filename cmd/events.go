package cmd

import (
	"time"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

func newEventsCmd(g *globalOptions) *cobra.Command {
	s := &spec{takesName: true}
	return g.declare(&cobra.Command{
		Use:   "events",
		Short: "Recent events of the chart's HelmRelease and of its release's objects",
		Example: `  cozyhr events
  cozyhr events -n cozy-metallb metallb`,
		Args: cobra.NoArgs,
		RunE: g.runE(s, nil, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			events, err := w.Events(r.ctx, r.debugWriter())
			if err != nil {
				return err
			}
			return output.Events(r.streams.Out, events, time.Now())
		}),
	}, s)
}
