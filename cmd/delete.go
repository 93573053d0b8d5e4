package cmd

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/core"
)

func newDeleteCmd(g *globalOptions) *cobra.Command {
	o := core.DeleteOptions{}
	s := &spec{takesName: true, nameAnywhere: true, hooked: true, overMany: true, ordered: true, reverse: true}
	cmd := &cobra.Command{
		Use: "delete",
		Example: `  cozyhr delete                      # uninstall, then delete the HelmRelease
  cozyhr delete --keep-helmrelease   # uninstall, keep the HelmRelease suspended`,
		SuggestFor: []string{"uninstall"},
		Short:      "Uninstall the release, and delete its HelmRelease unless kept",
		Long: `Uninstall the Helm release itself, so that no object is orphaned. When the
chart's HelmRelease exists it is suspended first, then deleted unless
--keep-helmrelease (it then stays suspended).`,
		Args: cobra.NoArgs,
		RunE: g.runE(s, nil, func(r *run) error {
			w, err := r.workspace(false, nil)
			if err != nil {
				return err
			}
			lock, err := r.lockRelease(w, "delete", false)
			if err != nil {
				return err
			}
			defer lock.Release()
			return w.Delete(r.ctx, o, r.streams.ErrOut, r.debugWriter())
		}),
	}
	f := cmd.Flags()
	f.DurationVar(&o.Timeout, "timeout", 5*time.Minute, "time to wait for any individual Kubernetes operation, hooks included")
	f.BoolVar(&o.DisableHooks, "disable-hooks", false, "do not run the chart's delete hooks (helm uninstall --no-hooks)")
	f.BoolVar(&o.Wait, "wait", false, "wait until all resources are deleted")
	f.BoolVar(&o.KeepHistory, "keep-history", false, "keep the release history, as helm uninstall --keep-history")
	f.BoolVar(&o.KeepHelmRelease, "keep-helmrelease", false, "keep the HelmRelease (suspended) instead of deleting it")
	return g.declare(cmd, s)
}
