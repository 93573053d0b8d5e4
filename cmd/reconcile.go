package cmd

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core"
)

func newReconcileCmd(g *globalOptions) *cobra.Command {
	o := core.ReconcileOptions{}
	s := &spec{takesName: true, nameAnywhere: true, overMany: true}
	cmd := &cobra.Command{
		Use: "reconcile",
		Example: `  cozyhr reconcile
  cozyhr reconcile --with-source     # fetch the chart again first
  cozyhr reconcile metallb -n cozy-metallb --force`,
		Short: "Ask Flux to reconcile the chart's HelmRelease now and wait for the outcome",
		Long: `Set reconcile.fluxcd.io/requestedAt on the chart's HelmRelease, as flux reconcile
does, and wait until helm-controller has handled it (status.lastHandledReconcileAt).
--force also sets reconcile.fluxcd.io/forceAt (a one-off forced upgrade);
--with-source first reconciles the chart's source: the HelmChart, OCIRepository
or HelmRepository behind it. A suspended HelmRelease is refused.`,
		Args: cobra.NoArgs,
		RunE: g.runE(s, nil, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			return w.Reconcile(r.ctx, o, output.Reconcile{W: r.streams.ErrOut})
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.Force, "force", false, "force a one-off install or upgrade (reconcile.fluxcd.io/forceAt)")
	f.BoolVar(&o.WithSource, "with-source", false, "reconcile the chart's source first")
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "how long to wait for each reconciliation")
	return g.declare(cmd, s)
}
