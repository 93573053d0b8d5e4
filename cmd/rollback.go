package cmd

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/core"
)

func newRollbackCmd(g *globalOptions) *cobra.Command {
	o := core.RollbackOptions{}
	s := &spec{}
	cmd := &cobra.Command{
		Use:   "rollback [REVISION]",
		Short: "Roll the release back to an earlier revision, as helm-controller's rollback does",
		Long: `Roll the chart's release back to REVISION (default: the previous one) with Helm,
as helm rollback does. In Flux mode the HelmRelease is suspended first, so that
Flux does not upgrade the release straight back, and its status then records the
rollback as helm-controller records its own (Remediated, history). Resume the
HelmRelease to let Flux bring the release back to its spec.`,
		Example: `  cozyhr rollback       # to the previous revision
  cozyhr rollback 3     # to revision 3 (see cozyhr history)`,
		Args: cobra.MaximumNArgs(1),
		RunE: g.runE(s, nil, func(r *run) error {
			args := r.args
			if len(args) == 1 {
				rev, err := strconv.Atoi(args[0])
				if err != nil || rev < 1 {
					return fmt.Errorf("REVISION %q is not a revision number; see cozyhr history", args[0])
				}
				o.Revision = rev
			}
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			lock, err := r.lockRelease(w, "rollback", false)
			if err != nil {
				return err
			}
			defer lock.Release()
			res, err := w.Rollback(r.ctx, o, r.streams.ErrOut, r.debugWriter())
			if err != nil {
				return err
			}
			fmt.Fprintf(r.streams.ErrOut, "Rolled release %s back from revision %d to %d: now revision %d.\n", res.Target.ReleaseName, res.From, res.To, res.Release.Version)
			if res.Target.FluxMode() {
				fmt.Fprintf(r.streams.ErrOut, "HelmRelease %s stays suspended; cozyhr resume hands it back to Flux, which upgrades to its spec again.\n", res.Target.HelmReleaseKey)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	f.DurationVar(&o.Timeout, "timeout", 0, "time to wait for any individual Kubernetes operation (default: the HelmRelease's, else 5m)")
	f.BoolVar(&o.Wait, "wait", false, "wait until the rolled-back resources are ready")
	f.BoolVar(&o.DisableHooks, "disable-hooks", false, "do not run the chart's rollback hooks")
	return g.declare(cmd, s)
}
