package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/gitrev"
)

// changeSet is which of the selected charts a change between two
// revisions touches, and the changed paths no selected chart reads.
type changeSet struct {
	Base         string   `json:"base"`
	Head         string   `json:"head"` // "" for the working tree
	Charts       []string `json:"charts"`
	Unattributed []string `json:"unattributed"`
}

// changedCharts finds, among dirs, the charts whose rendered inputs differ
// between base and head: files in the chart, files its symlinks reach (a
// library chart linked under charts/), file:// dependencies, the values
// files .cozyhr.yaml names (its own, its value cases', the HelmRelease
// file), .cozyhr.yaml itself.
//
// A chart removed since base, below one of scope's roots, counts as
// changed too: it shows as a whole removal.
func changedCharts(ctx context.Context, dirs []string, base, head string, scope removedScope) (*changeSet, error) {
	start := "."
	if len(dirs) > 0 {
		start = dirs[0]
	}
	abs, err := filepath.Abs(start)
	if err != nil {
		return nil, err
	}
	repo, err := gitrev.Open(ctx, abs)
	if err != nil {
		return nil, err
	}
	baseCommit, err := repo.Resolve(ctx, base)
	if err != nil {
		return nil, err
	}
	headCommit := ""
	if head != "" {
		if headCommit, err = repo.Resolve(ctx, head); err != nil {
			return nil, err
		}
	}
	files, err := repo.ChangedFiles(ctx, baseCommit, headCommit)
	if err != nil {
		return nil, err
	}
	cs := &changeSet{Base: base, Head: head, Charts: []string{}, Unattributed: []string{}}
	attributed := make([]bool, len(files))
	for _, dir := range dirs {
		var extra []string
		if cfg, err := config.Load(config.LoadOptions{Dir: dir}); err == nil {
			extra = append(extra, cfg.ValuesFiles...)
			for _, name := range cfg.CaseNames() {
				extra = append(extra, cfg.Cases[name].ValuesFiles...)
			}
			if cfg.HelmRelease.File != "" {
				extra = append(extra, cfg.HelmRelease.File)
			}
		}
		inputs, err := repo.ChartInputs(dir, extra)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		touched := false
		for i, f := range files {
			if gitrev.Touches(inputs, f) {
				touched, attributed[i] = true, true
			}
		}
		if touched {
			cs.Charts = append(cs.Charts, dir)
		}
	}
	if len(scope.roots) > 0 {
		removed, err := repo.RemovedCharts(ctx, baseCommit, headCommit, scope.configured)
		if err != nil {
			return nil, err
		}
		for _, rd := range removed {
			dir := filepath.Join(repo.Root, filepath.FromSlash(rd))
			if !scope.covers(dir) || !scope.keep(displayPath(dir)) {
				continue
			}
			touched := false
			for i, f := range files {
				if gitrev.Touches([]string{rd + "/"}, filepath.ToSlash(f)) {
					touched, attributed[i] = true, true
				}
			}
			if touched {
				cs.Charts = append(cs.Charts, displayPath(dir))
			}
		}
	}
	for i, f := range files {
		if !attributed[i] {
			cs.Unattributed = append(cs.Unattributed, filepath.ToSlash(f))
		}
	}
	return cs, nil
}

// removedScope is where a run over many charts looks for charts removed
// since the base revision: below its roots (-R's, or the working directory
// when no chart is named), only charts that had a .cozyhr.yaml unless
// --all. No roots: a chart named alone is never removed.
type removedScope struct {
	roots      []string // absolute
	configured bool
	// keep says whether a chart path is in this run's --shard.
	keep func(string) bool
}

func (s removedScope) covers(dir string) bool {
	for _, r := range s.roots {
		if rel, err := filepath.Rel(r, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

// removedScope is where this run looks for removed charts, in its shard;
// -L selects by labels a removed chart no longer has, so there is none
// with it.
func (g *globalOptions) removedScope() removedScope {
	s := g.sel
	if s.selector != "" {
		return removedScope{}
	}
	roots := s.recursive
	if len(roots) == 0 && len(s.dirs) == 0 && g.charts == nil && g.chartDir == "" {
		roots = []string{"."}
	}
	out := removedScope{configured: !s.all, keep: s.inShard}
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		out.roots = append(out.roots, abs)
	}
	return out
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
		out = append(out, displayPath(d))
	}
	return out, nil
}

// writeUnattributed says which changed paths no selected chart reads: they
// are listed, never dropped.
func writeUnattributed(w io.Writer, cs *changeSet) {
	for _, f := range cs.Unattributed {
		fmt.Fprintf(w, "cozyhr: changed, but read by none of the selected charts: %s\n", f)
	}
}

func newChangedCmd(g *globalOptions) *cobra.Command {
	var base, head, format string
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
			f, err := output.Parse(format, formatsOf("changed")...)
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
			cs, err := changedCharts(cmd.Context(), dirs, base, head, g.removedScope())
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
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "the git `REF` to compare with")
	cmd.Flags().StringVar(&head, "head", "", "the git `REF` to compare (default: the working tree)")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text or json")
	return cmd
}
