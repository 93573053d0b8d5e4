package cmd

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core"
)

type applyOptions struct {
	render renderFlags
	apply  core.ApplyOptions
	fleet  fleetFlags
}

func newApplyCmd(g *globalOptions) *cobra.Command {
	o := &applyOptions{}
	cmd := &cobra.Command{
		Use: "apply",
		Example: `  cozyhr apply                       # helm upgrade --install; suspends the HelmRelease first
  cozyhr apply --resume              # ...and hands it back to Flux afterwards
  cozyhr apply --wait --timeout 5m   # wait until every object is ready, showing what is not
  cozyhr -n cozy-system apply metallb --plain`,
		SuggestFor: []string{"upgrade", "install"},
		Short:      "Install or upgrade the release in the cluster (replaces make apply)",
		Long: `Install or upgrade the Helm release with the same render and post-processing
that show and diff use. When the chart's HelmRelease exists it is suspended
first so that Flux does not race the apply; --resume hands it back to Flux
afterwards.`,
		Args: cobra.NoArgs,
		RunE: g.runE(func() error { return o.render.validate(false) }, func(r *run) error {
			o := *o // each chart's run has its own copy
			overrides := map[string]any{}
			setIfChanged(r.cmd, overrides, "timeout", "apply.timeout", o.apply.Timeout.String())
			setIfChanged(r.cmd, overrides, "wait", "apply.wait", o.apply.Wait)
			setIfChanged(r.cmd, overrides, "take-ownership", "apply.takeOwnership", o.apply.TakeOwnership)
			setIfChanged(r.cmd, overrides, "resume", "apply.resume", o.apply.Resume)
			w, err := r.workspace(false, overrides)
			if err != nil {
				return err
			}
			a := w.Config.Apply
			o.apply.Wait, o.apply.TakeOwnership, o.apply.Resume = a.Wait, a.TakeOwnership, a.Resume
			// Unset, the HelmRelease's spec.timeout (or 5m) applies.
			o.apply.Timeout = 0
			if a.Timeout != "" {
				if o.apply.Timeout, err = time.ParseDuration(a.Timeout); err != nil {
					return fmt.Errorf("apply.timeout %q: %w", a.Timeout, err)
				}
			}
			lock, err := r.lockRelease(w, "apply", o.apply.CreateNamespace)
			if err != nil {
				return err
			}
			// A first apply whose chart does not render takes away the
			// namespace its lock made (not when interrupted: another run may
			// be waiting for the lock there).
			renderFailed := false
			defer func() {
				if renderFailed && r.cmd.Context().Err() == nil {
					lock.ReleaseAndUndo()
				} else {
					lock.Release()
				}
			}()
			opts := o.render.options(r.streams.In)
			d, err := w.Desired(r.cmd.Context(), opts, r.debugWriter())
			if err != nil {
				renderFailed = true
				return err
			}
			o.apply.Progress = &output.Readiness{W: r.streams.ErrOut, TTY: isTerminal(r.streams.ErrOut)}
			o.apply.Debug = r.debugWriter()
			res, err := w.Apply(r.cmd.Context(), d, o.apply, r.streams.ErrOut)
			if res != nil {
				output.NotReady(r.streams.ErrOut, res.NotReady)
				for _, warning := range res.Warnings {
					fmt.Fprintln(r.streams.ErrOut, "Warning:", warning)
				}
			}
			if err != nil {
				return err
			}
			verb := "upgraded"
			if res.Installed {
				verb = "installed"
			}
			rel := res.Release
			r.result = fmt.Sprintf("%s, revision %d", verb, rel.Version)
			fmt.Fprintf(r.streams.ErrOut, "Release %s %s in namespace %s: revision %d, %s.\n", rel.Name, verb, rel.Namespace, rel.Version, rel.Info.Status)
			switch {
			case res.Resumed:
				fmt.Fprintf(r.streams.ErrOut, "Resumed HelmRelease %s: Flux manages the release again.\n", d.Target.HelmReleaseKey)
			case d.Target.FluxMode():
				fmt.Fprintf(r.streams.ErrOut, "HelmRelease %s stays suspended; run cozyhr resume to hand it back to Flux.\n", d.Target.HelmReleaseKey)
			}
			return nil
		}),
	}
	f := cmd.Flags()
	o.render.add(f)
	f.DurationVar(&o.apply.Timeout, "timeout", 0, "time to wait for any individual Kubernetes operation (default: the HelmRelease's spec.timeout, or 5m)")
	f.BoolVar(&o.apply.Wait, "wait", false, "wait until resources are ready, as helm --wait")
	f.BoolVar(&o.apply.TakeOwnership, "take-ownership", false, "adopt existing objects that Helm does not own")
	f.BoolVar(&o.apply.Resume, "resume", false, "resume the HelmRelease after a successful apply")
	f.BoolVar(&o.apply.DisableHooks, "disable-hooks", false, "do not run the chart's Helm hooks (helm --no-hooks)")
	f.BoolVar(&o.apply.CreateNamespace, "create-namespace", true, "create the release namespace if it is missing")
	o.fleet.add(cmd, "apply to")
	return cmd
}
