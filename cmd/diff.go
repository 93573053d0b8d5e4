package cmd

import (
	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/core"
)

type diffOptions struct {
	render       renderFlags
	diff         core.DiffOptions
	exitCode     bool
	contextLines int
}

func newDiffCmd(g *globalOptions) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Show what apply would change in the live objects (replaces make diff)",
		Long: `Compare the rendered, post-processed chart with the LIVE objects in the cluster,
field by field (dyff). Server defaults and Helm/Flux bookkeeping are ignored;
drift made by hand is shown. Objects no longer rendered are shown as deleted.

Exit codes: 0 no changes (or changes without --exit-code), 1 error,
2 changes found with --exit-code.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			overrides := map[string]any{}
			setIfChanged(cmd, overrides, "context-lines", "diff.context", o.contextLines)
			w, err := g.workspace(cmd, false, overrides)
			if err != nil {
				return err
			}
			d, err := w.Desired(cmd.Context(), o.render.options(), g.debugWriter())
			if err != nil {
				return err
			}
			res, err := w.Diff(cmd.Context(), d, o.diff)
			if err != nil {
				return err
			}
			human := core.HumanOptions{ContextLines: w.Config.Diff.Context}
			g.color()
			if err := res.WriteHuman(g.streams.Out, human); err != nil {
				return err
			}
			if o.exitCode && res.HasChanges() {
				return &core.ExitError{Code: core.ExitChanges, Err: core.ErrChangesFound, Silent: true}
			}
			return nil
		},
	}
	f := cmd.Flags()
	o.render.add(f)
	f.BoolVar(&o.diff.ShowSecrets, "show-secrets", false, "print Secret data instead of masking it")
	f.BoolVar(&o.exitCode, "exit-code", false, "exit with 2 when there are changes (like helm diff --detailed-exitcode)")
	f.BoolVar(&o.exitCode, "detailed-exitcode", false, "alias of --exit-code")
	f.IntVar(&o.contextLines, "context-lines", 3, "lines of context around changes in multi-line strings")
	return cmd
}
