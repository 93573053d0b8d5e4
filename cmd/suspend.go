package cmd

import (
	"fmt"
	"time"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

func newSuspendCmd(g *globalOptions) *cobra.Command {
	s := &spec{takesName: true, nameAnywhere: true, overMany: true}
	return g.declare(&cobra.Command{
		Use: "suspend",
		Example: `  cozyhr suspend
  cozyhr suspend -n cozy-metallb metallb`,
		Short: "Suspend the chart's HelmRelease so that Flux leaves the release alone",
		Args:  cobra.NoArgs,
		RunE: g.runE(s, nil, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			t, err := w.Suspend(r.ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(r.streams.ErrOut, "Suspended HelmRelease %s.\n", t.HelmReleaseKey)
			r.result = "suspended"
			return nil
		}),
	}, s)
}

func newResumeCmd(g *globalOptions) *cobra.Command {
	var wait bool
	var timeout time.Duration
	var fleet fleetFlags
	s := &spec{takesName: true, nameAnywhere: true, overMany: true, fleet: &fleet}
	cmd := &cobra.Command{
		Use: "resume",
		Example: `  cozyhr resume
  cozyhr resume --wait --timeout 2m`,
		Short: "Resume the chart's HelmRelease: hand the release back to Flux",
		Long: `Unsuspend the chart's HelmRelease. With --wait, also request a reconciliation
and wait until helm-controller has handled it, as flux resume does.`,
		Args: cobra.NoArgs,
		RunE: g.runE(s, nil, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			_, err = w.Resume(r.ctx, wait, timeout, r.streams.ErrOut, output.Reconcile{W: r.streams.ErrOut})
			if err == nil {
				r.result = "resumed"
			}
			return err
		}),
	}
	fleet.add(cmd, "resume")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until Flux has reconciled the HelmRelease")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long --wait waits")
	return g.declare(cmd, s)
}
