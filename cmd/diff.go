package cmd

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/core"
)

type diffOptions struct {
	render       renderFlags
	diff         core.DiffOptions
	exitCode     bool
	contextLines int
	ignore       []string
	showIgnored  bool
	output       string
	brief        bool
	unified      bool
}

func newDiffCmd(g *globalOptions) *cobra.Command {
	o := &diffOptions{}
	var noGroup bool
	cmd := &cobra.Command{
		Use: "diff",
		Example: `  cozyhr diff                        # what apply would change in the live objects
  cozyhr diff --set replicas=3 --exit-code
  cozyhr diff --server-side          # against a server-side apply dry-run
  cozyhr diff -o yaml --kind Deployment`,
		Short: "Show what apply would change in the live objects (replaces make diff)",
		Long: `Compare the rendered, post-processed chart with the LIVE objects in the cluster,
field by field (dyff). Server defaults and Helm/Flux bookkeeping are ignored;
drift made by hand is shown. Objects no longer rendered are shown as deleted.

--server-side compares instead with a server-side apply dry-run of each
object: slower, but it shows defaulting and admission webhooks exactly.

Ignore rules hide fields: the HelmRelease's spec.driftDetection.ignore,
.cozyhr.yaml diff.ignore, and --ignore [KIND[/NAME]=]/json/pointer.

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
			output, err := o.format()
			if err != nil {
				return err
			}
			o.diff.Ignore = core.ConfigIgnoreRules(w.Config.Diff.Ignore)
			for _, s := range o.ignore {
				rule, err := core.ParseIgnoreFlag(s)
				if err != nil {
					return err
				}
				o.diff.Ignore = append(o.diff.Ignore, rule)
			}
			d, err := w.Desired(cmd.Context(), o.render.options(g.streams.In), g.debugWriter())
			if err != nil {
				return err
			}
			res, err := w.Diff(cmd.Context(), d, o.diff)
			if err != nil {
				return err
			}
			g.outcome.result = "no changes"
			if add, change, remove := res.Counts(); add+change+remove > 0 {
				g.outcome.result = fmt.Sprintf("%d to add, %d to change, %d to delete", add, change, remove)
			}
			// The flag, when set, already overrode diff.context.
			contextLines := w.Config.Diff.Context
			if contextLines == 0 {
				contextLines = o.contextLines
			}
			switch output {
			case "json":
				err = res.WriteJSON(g.streams.Out)
			case "yaml":
				err = res.WriteYAML(g.streams.Out)
			case "brief":
				err = res.WriteBrief(g.streams.Out)
			case "unified":
				err = res.WriteUnified(g.streams.Out, contextLines, g.color())
			default:
				err = res.WriteHuman(g.streams.Out, core.HumanOptions{ContextLines: contextLines, NoGroup: noGroup, Color: g.color()})
			}
			if err != nil {
				return err
			}
			if o.showIgnored && output != "json" && output != "yaml" {
				if err := res.WriteIgnored(g.streams.Out); err != nil {
					return err
				}
			}
			if o.exitCode && res.HasChanges() {
				return &ExitError{Code: ExitChanges, Err: ErrChangesFound, Silent: true}
			}
			return nil
		},
	}
	f := cmd.Flags()
	o.render.add(f)
	f.BoolVar(&o.diff.ShowSecrets, "show-secrets", false, "print Secret data instead of masking it")
	f.BoolVar(&noGroup, "no-group", false, "print each changed object on its own, even when several change the same way")
	f.BoolVar(&o.exitCode, "exit-code", false, "exit with 2 when there are changes (like helm diff --detailed-exitcode)")
	f.BoolVar(&o.exitCode, "detailed-exitcode", false, "alias of --exit-code")
	f.IntVarP(&o.contextLines, "context-lines", "U", 3, "lines of context around changes (multi-line strings, --unified)")
	f.BoolVar(&o.diff.ServerSide, "server-side", false, "compare with a server-side apply dry-run of each object")
	f.StringArrayVar(&o.ignore, "ignore", nil, "hide a field: [KIND[/NAME]=]/json/pointer (repeatable)")
	f.BoolVar(&o.showIgnored, "show-ignored", false, "list the differences that ignore rules hid")
	f.StringVarP(&o.output, "output", "o", "dyff", "output format: dyff, brief, json, yaml or unified")
	f.BoolVar(&o.brief, "brief", false, "only count changes per kind (-o brief)")
	f.BoolVar(&o.unified, "unified", false, "classic unified diff of each object's YAML (-o unified)")
	f.StringSliceVar(&o.diff.Kinds, "kind", nil, "only objects of these kinds (repeatable or comma-separated)")
	f.StringVarP(&o.diff.LabelSelector, "selector", "l", "", "only objects whose rendered labels match this selector")
	return cmd
}

func (o *diffOptions) format() (string, error) {
	out := o.output
	switch {
	case o.brief && o.unified:
		return "", fmt.Errorf("--brief and --unified are two output formats; give one (or -o brief|unified)")
	case (o.brief || o.unified) && out != "dyff" && out != "":
		return "", fmt.Errorf("--brief/--unified and -o %s are two output formats; give one", out)
	case o.brief:
		out = "brief"
	case o.unified:
		out = "unified"
	}
	switch out {
	case "dyff", "human", "":
		return "dyff", nil
	case "brief", "json", "yaml", "unified":
		return out, nil
	}
	return "", fmt.Errorf("unknown output format %q: use dyff, brief, json, yaml or unified", o.output)
}
