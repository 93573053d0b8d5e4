package cmd

import (
	"fmt"
	"time"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

func newSuspendCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use: "suspend",
		Example: `  cozyhr suspend
  cozyhr suspend -n cozy-metallb metallb`,
		Short: "Suspend the chart's HelmRelease so that Flux leaves the release alone",
		Args:  cobra.NoArgs,
		RunE: g.runE(nil, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			t, err := w.Suspend(r.cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(r.streams.ErrOut, "Suspended HelmRelease %s.\n", t.HelmReleaseKey)
			return nil
		}),
	}
}

func newResumeCmd(g *globalOptions) *cobra.Command {
	var wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use: "resume",
		Example: `  cozyhr resume
  cozyhr resume --wait --timeout 2m`,
		Short: "Resume the chart's HelmRelease: hand the release back to Flux",
		Long: `Unsuspend the chart's HelmRelease. With --wait, also request a reconciliation
and wait until helm-controller has handled it, as flux resume does.`,
		Args: cobra.NoArgs,
		RunE: g.runE(nil, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			_, err = w.Resume(r.cmd.Context(), wait, timeout, r.streams.ErrOut, output.Reconcile{W: r.streams.ErrOut})
			return err
		}),
	}
	var fleet fleetFlags
	fleet.add(cmd, "resume")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until Flux has reconciled the HelmRelease")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "how long --wait waits")
	return cmd
}
