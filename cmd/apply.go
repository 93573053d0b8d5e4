package cmd

import (
	"fmt"
	"maps"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core"
)

type applyOptions struct {
	render renderFlags
	apply  core.ApplyOptions
	fleet  fleetFlags

	// Set by complete: the flags the user gave that override
	// .cozyhr.yaml's apply:, and whether --timeout was one.
	overrides  map[string]any
	timeoutSet bool
}

// complete checks the flags and records which of them override
// .cozyhr.yaml.
func (o *applyOptions) complete(cmd *cobra.Command) error {
	if err := o.render.validate(false); err != nil {
		return err
	}
	if o.fleet.canary > 0 && !o.fleet.instances {
		return fmt.Errorf("--canary %d goes with --instances: it applies to %d of the chart's instances first; add --instances, or leave --canary out", o.fleet.canary, o.fleet.canary)
	}
	o.overrides = map[string]any{}
	setIfChanged(cmd, o.overrides, "wait", "apply.wait", o.apply.Wait)
	setIfChanged(cmd, o.overrides, "take-ownership", "apply.takeOwnership", o.apply.TakeOwnership)
	setIfChanged(cmd, o.overrides, "resume", "apply.resume", o.apply.Resume)
	o.timeoutSet = cmd.Flags().Changed("timeout")
	return nil
}

func newApplyCmd(g *globalOptions) *cobra.Command {
	o := &applyOptions{}
	s := &spec{takesName: true, hooked: true, overMany: true, ordered: true, render: &o.render, fleet: &o.fleet}
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
		RunE: g.runE(s, o.complete, func(r *run) error {
			w, err := r.workspace(false, maps.Clone(o.overrides))
			if err != nil {
				return err
			}
			// This chart's options: the flags given, over .cozyhr.yaml.
			opts := o.apply
			a := w.Config.Apply
			opts.Wait, opts.TakeOwnership, opts.Resume = a.Wait, a.TakeOwnership, a.Resume
			if !o.timeoutSet {
				// Unset there too, the HelmRelease's spec.timeout (or 5m)
				// applies.
				opts.Timeout = a.Timeout
			}
			lock, err := r.lockRelease(w, "apply", opts.CreateNamespace)
			if err != nil {
				return err
			}
			// A first apply whose chart does not render takes away the
			// namespace its lock made (not when interrupted: another run may
			// be waiting for the lock there).
			renderFailed := false
			defer func() {
				if renderFailed && r.ctx.Err() == nil {
					lock.ReleaseAndUndo()
				} else {
					lock.Release()
				}
			}()
			d, err := w.Desired(r.ctx, o.render.options(r.streams.In), r.debugWriter())
			if err != nil {
				renderFailed = true
				return err
			}
			opts.Progress = &output.Readiness{W: r.streams.ErrOut, TTY: output.IsTerminal(r.streams.ErrOut)}
			opts.Debug = r.debugWriter()
			res, err := w.Apply(r.ctx, d, opts, r.streams.ErrOut)
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
	return g.declare(cmd, s)
}
