package cmd

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newUnlockCmd(g *globalOptions) *cobra.Command {
	s := &spec{takesName: true}
	return g.declare(&cobra.Command{
		Use:   "unlock [NAME]",
		Short: "Break the release's lock, when the run that held it is gone",
		Long: `apply, delete and rollback hold a lock on the release (a Lease beside its
storage, renewed while they run; it expires 30s after its holder stops).
unlock removes it at once, whoever holds it: use it only when that run is gone.`,
		Example: `  cozyhr unlock
  cozyhr unlock -n cozy-metallb metallb`,
		Args: cobra.MaximumNArgs(1),
		RunE: g.runE(s, nil, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			holder, err := w.Unlock(r.ctx)
			if err != nil {
				return err
			}
			if holder == "" {
				fmt.Fprintln(r.streams.ErrOut, "The release is not locked.")
				return nil
			}
			fmt.Fprintf(r.streams.ErrOut, "Broke the lock held by %s.\n", holder)
			return nil
		}),
	}, s)
}
