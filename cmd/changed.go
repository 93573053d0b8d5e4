package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/review"
)

// changedCharts are the charts among dirs whose inputs changed between
// base and head, in this run's shard (review.ChangedIn).
func (g *globalOptions) changedCharts(ctx context.Context, dirs []string, base, head string) (*review.ChangeSet, error) {
	return review.ChangedIn(ctx, g.sel.Selection, dirs, base, head, g.charts == nil && g.chartDir == "")
}

// selectedDirs are the charts a command over many works on: the selection,
// or the one chart directory, or every chart below the working directory.
func (g *globalOptions) selectedDirs() ([]string, error) {
	if g.charts != nil {
		return g.charts, nil
	}
	if g.chartDir != "" {
		return []string{g.chartDir}, nil
	}
	found, err := config.FindCharts(".", true)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range found {
		out = append(out, config.DisplayPath(d))
	}
	return out, nil
}

// writeUnattributed says which changed paths no selected chart reads: they
// are listed, never dropped.
func writeUnattributed(w io.Writer, cs *review.ChangeSet) {
	for _, f := range cs.Unattributed {
		fmt.Fprintf(w, "cozyhr: changed, but read by none of the selected charts: %s\n", f)
	}
}

func newChangedCmd(g *globalOptions) *cobra.Command {
	var base, head, format string
	var prod prodFlags
	formats := []output.Format{output.Text, output.JSON}
	cmd := &cobra.Command{
		Use: "changed",
		Example: `  cozyhr changed --base origin/main -R packages     # the charts a pull request changes
  cozyhr changed --base v1.2.0 --head v1.3.0 -o json`,
		Short: "List the charts whose rendered inputs changed between two git revisions",
		Long: `List, one path a line, the selected charts (-C, -R, -L; by default every chart
below the working directory) whose rendered inputs differ between --base and
--head (default: the working tree, uncommitted and untracked files included):
files in the chart, files reached through its symlinks (a library chart linked
under charts/), file:// dependencies, the values files .cozyhr.yaml names, and
.cozyhr.yaml itself. Changed paths no selected chart reads are said on stderr
(and under "unattributed" with -o json), never dropped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := output.Parse(format, formats...)
			if err != nil {
				return err
			}
			if base == "" {
				return fmt.Errorf("--base is required: give the git revision to compare with (a branch, tag or commit)")
			}
			dirs, err := g.selectedDirs()
			if err != nil {
				return err
			}
			cs, err := g.changedCharts(cmd.Context(), dirs, base, head)
			if err == nil && prod.file != "" {
				if err = prod.open(); err == nil {
					err = cs.AddInstances(prod.file, *g.kube.Namespace)
				}
			}
			if err != nil {
				return err
			}
			if f == output.JSON {
				enc := json.NewEncoder(g.streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(cs)
			}
			if len(cs.Charts) > 0 {
				fmt.Fprintln(g.streams.Out, strings.Join(cs.Charts, "\n"))
			}
			writeUnattributed(g.streams.ErrOut, cs)
			for _, dir := range cs.Charts {
				if keys, ok := cs.Instances[dir]; ok {
					fmt.Fprintf(g.streams.ErrOut, "cozyhr: %s: %d instances in the snapshot\n", dir, len(keys))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "the git `REF` to compare with")
	cmd.Flags().StringVar(&head, "head", "", "the git `REF` to compare (default: the working tree)")
	prod.add(cmd.Flags())
	cmd.Flags().Lookup("snapshot").Usage = "list each changed chart's instances in this snapshot `FILE` (stderr; \"instances\" with -o json)"
	outputFlag(cmd, &format, formats, "")
	return g.declare(cmd, &spec{overMany: true})
}
