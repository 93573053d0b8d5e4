package cmd

import (
	"context"
	"fmt"

	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/spf13/cobra"
)

func newUnlockCmd(g *globalOptions) *cobra.Command {
	s := &spec{takesName: true}
	var instances bool
	cmd := g.declare(&cobra.Command{
		Use:   "unlock [NAME]",
		Short: "Break the release's lock, when the run that held it is gone",
		Long: `apply, delete and rollback hold a lock on the release (a Lease beside its
storage, renewed while they run; it expires 30s after its holder stops).
unlock removes it at once, whoever holds it: use it only when that run is gone.
apply --instances also holds one lock on all the chart's instances (a Lease
in namespace default); unlock --instances removes that one.`,
		Example: `  cozyhr unlock
  cozyhr unlock -n cozy-metallb metallb
  cozyhr unlock --instances`,
		Args: cobra.MaximumNArgs(1),
		RunE: g.runE(s, nil, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			what, unlock := "The release is", w.Unlock
			if instances {
				what, unlock = "The chart's instances are", func(ctx context.Context) (string, error) { return fleet.Unlock(ctx, w.Cluster, w.Config.ChartName) }
			}
			holder, err := unlock(r.ctx)
			if err != nil {
				return err
			}
			if holder == "" {
				fmt.Fprintln(r.streams.ErrOut, what, "not locked.")
				return nil
			}
			fmt.Fprintf(r.streams.ErrOut, "Broke the lock held by %s.\n", holder)
			return nil
		}),
	}, s)
	cmd.Flags().BoolVar(&instances, "instances", false, "break the lock apply --instances holds on all the chart's instances")
	return cmd
}
