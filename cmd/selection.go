package cmd

import (
	"fmt"
	"runtime"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cozyhr/cozyhr/config"
)

// chartSelection is how a run picks several charts (config.Selection)
// and runs them.
type chartSelection struct {
	config.Selection
	concurrency int
	failFast    bool
}

func (s *chartSelection) addFlags(pf *pflag.FlagSet) {
	pf.StringArrayVarP(&s.Recursive, "recursive", "R", nil, "work on every chart below `DIR`: each directory with a Chart.yaml and a "+config.FileName+" (repeatable)")
	pf.BoolVar(&s.All, "all", false, "with -R: also charts without a "+config.FileName)
	pf.StringVarP(&s.Selector, "chart-selector", "L", "", "only charts whose "+config.FileName+" labels match this `SELECTOR` (tier=system,team!=db); without -C or -R, searches the working directory")
	pf.IntVar(&s.concurrency, "concurrency", runtime.NumCPU(), "with several charts: how many run at once")
	pf.BoolVar(&s.failFast, "fail-fast", false, "with several charts: start no more once one failed")
	pf.StringVar(&s.Shard, "shard", "", "with several charts: only the `K/N`-th of N shards, balanced by size (with --base, of the changed charts), so a CI matrix can fan out")
}

// checkConcurrency refuses a --concurrency that would run nothing.
func (s *chartSelection) checkConcurrency() error {
	if s.concurrency < 1 {
		return fmt.Errorf("--concurrency %d: give at least 1", s.concurrency)
	}
	return nil
}

// selectCharts settles which chart directory, or which charts, a command
// works on.
func (g *globalOptions) selectCharts(cmd *cobra.Command, spec *spec, args []string) error {
	s := &g.sel
	// A review of a snapshot's instances shards the instances, whether
	// one chart or several are reviewed.
	if f := cmd.Flags().Lookup("snapshot"); f != nil && f.Changed && cmd.Flags().Changed("instances") {
		g.instanceShard, s.Shard = s.Shard, ""
		if _, _, err := config.ParseShard(g.instanceShard); g.instanceShard != "" && err != nil {
			return err
		}
	}
	if !s.Many() {
		if dirs := s.UniqueDirs(); len(dirs) == 1 {
			g.chartDir = dirs[0]
		}
		if s.All {
			return fmt.Errorf("--all goes with -R DIR: it adds the charts there without a %s", config.FileName)
		}
		if s.Shard != "" {
			return fmt.Errorf("--shard goes with several charts (-R DIR, a -C glob, -L): it splits them")
		}
		return nil
	}
	if !spec.overMany {
		return fmt.Errorf("%s works on one chart: give one -C DIR (show, diff, apply, delete, get, update, image, suspend, resume and reconcile take several)", cmd.CommandPath())
	}
	if len(args) > 0 {
		return fmt.Errorf("NAME names one HelmRelease: leave it out when selecting several charts, or select one with -C DIR")
	}
	if g.configFile != "" {
		return fmt.Errorf("--config names one chart's file: leave it out when selecting several charts")
	}
	if s.Selector != "" {
		sel, err := labels.Parse(s.Selector)
		if err != nil {
			return fmt.Errorf("-L %q: %w", s.Selector, err)
		}
		s.Matches = func(l map[string]string) bool { return sel.Matches(labels.Set(l)) }
	}
	charts, err := s.Charts()
	if err != nil {
		return err
	}
	g.charts = charts
	if len(charts) == 0 {
		fmt.Fprintf(g.streams.ErrOut, "cozyhr: shard %s has none of the selected charts\n", s.Shard)
		g.charts = []string{} // nothing to run
	}
	return nil
}

// dir is the one chart directory given, also before selectCharts ran (as
// in shell completion).
func (g *globalOptions) dir() string {
	if dirs := g.sel.UniqueDirs(); g.chartDir == "" && len(dirs) == 1 {
		return dirs[0]
	}
	return g.chartDir
}
