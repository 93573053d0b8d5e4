package cmd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/plugins/host"
)

// chartSelection is how a run picks several charts.
type chartSelection struct {
	dirs        []string // -C, repeatable, globs expanded
	recursive   []string // -R
	all         bool
	selector    string // -L
	concurrency int
	failFast    bool
}

func (s *chartSelection) addFlags(pf *pflag.FlagSet) {
	pf.StringArrayVarP(&s.recursive, "recursive", "R", nil, "work on every chart below `DIR`: each directory with a Chart.yaml and a "+config.FileName+" (repeatable)")
	pf.BoolVar(&s.all, "all", false, "with -R: also charts without a "+config.FileName)
	pf.StringVarP(&s.selector, "chart-selector", "L", "", "only charts whose "+config.FileName+" labels match this `SELECTOR` (tier=system,team!=db); without -C or -R, searches the working directory")
	pf.IntVar(&s.concurrency, "concurrency", runtime.NumCPU(), "with several charts: how many run at once")
	pf.BoolVar(&s.failFast, "fail-fast", false, "with several charts: start no more once one failed")
}

// isSelectionFlag names the flags a run over many charts consumes itself.
func isSelectionFlag(name string) bool {
	switch name {
	case "chart-dir", "recursive", "all", "chart-selector", "concurrency", "fail-fast":
		return true
	}
	return false
}

// many reports whether the flags ask for a set of charts rather than one.
func (s *chartSelection) many() bool {
	return len(s.recursive) > 0 || s.selector != "" || len(s.uniqueDirs()) > 1 ||
		slices.ContainsFunc(s.dirs, func(d string) bool { return strings.ContainsAny(d, "*?[") })
}

// manyCharts reports whether a command works over several charts.
func manyCharts(cmd *cobra.Command) bool {
	switch cmd.Name() {
	case "show", "diff", "apply", "delete", "get", "update", "image", "suspend", "resume", "reconcile":
		return true
	}
	return false
}

// sharedRun is what every chart of a run over many shares: one connection
// (one discovery, one set of clients), one plugin host, one colour choice.
type sharedRun struct {
	cluster *kube.Cluster
	plugins *host.Host
	color   bool
	stdin   []byte
	// timeouts is the parent's: the shared cluster's requests record there.
	timeouts *kube.RequestTimeouts
}

// chartOutcome is what a chart's run reports for the summary.
type chartOutcome struct {
	release string
	result  string
}

// selectCharts settles which chart directory, or which charts, a command
// works on.
func (g *globalOptions) selectCharts(cmd *cobra.Command) error {
	s := &g.sel
	if !s.many() {
		if dirs := s.uniqueDirs(); len(dirs) == 1 {
			g.chartDir = dirs[0]
		}
		if s.all {
			return fmt.Errorf("--all goes with -R DIR: it adds the charts there without a %s", config.FileName)
		}
		return nil
	}
	if !manyCharts(cmd) {
		return fmt.Errorf("%s works on one chart: give one -C DIR (show, diff, apply, delete, get, update, image, suspend, resume and reconcile take several)", cmd.CommandPath())
	}
	if len(cmd.Flags().Args()) > 0 {
		return fmt.Errorf("NAME names one HelmRelease: leave it out when selecting several charts, or select one with -C DIR")
	}
	if g.configFile != "" {
		return fmt.Errorf("--config names one chart's file: leave it out when selecting several charts")
	}
	if s.concurrency < 1 {
		return fmt.Errorf("--concurrency %d: give at least 1", s.concurrency)
	}
	dirs, err := config.ExpandChartDirs(s.dirs)
	if err != nil {
		return err
	}
	roots := s.recursive
	if len(roots) == 0 && len(s.dirs) == 0 {
		roots = []string{"."}
	}
	for _, r := range roots {
		found, err := config.FindCharts(r, s.all)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			hint := ""
			if !s.all {
				hint = fmt.Sprintf("; --all also takes charts without a %s", config.FileName)
			}
			return fmt.Errorf("-R %s: no chart below it has a Chart.yaml and a %s%s", r, config.FileName, hint)
		}
		dirs = append(dirs, found...)
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return err
		}
		if seen[abs] {
			continue
		}
		seen[abs] = true
		g.charts = append(g.charts, displayPath(d))
	}
	if s.selector != "" {
		sel, err := labels.Parse(s.selector)
		if err != nil {
			return fmt.Errorf("-L %q: %w", s.selector, err)
		}
		g.charts = slices.DeleteFunc(g.charts, func(d string) bool {
			cfg, err := config.Load(config.LoadOptions{Dir: d})
			// A chart whose config is broken stays, so that its error shows.
			return err == nil && !sel.Matches(labels.Set(cfg.Labels))
		})
		if len(g.charts) == 0 {
			return fmt.Errorf("-L %s: no chart's %s labels match", s.selector, config.FileName)
		}
	}
	return nil
}

// dir is the one chart directory given, also before selectCharts ran (as
// in shell completion).
func (g *globalOptions) dir() string {
	if dirs := g.sel.uniqueDirs(); g.chartDir == "" && len(dirs) == 1 {
		return dirs[0]
	}
	return g.chartDir
}

// uniqueDirs are the -C values without repeats (shell completion parses
// the flags twice, and a repeated directory is still one chart).
func (s *chartSelection) uniqueDirs() []string {
	var out []string
	for _, d := range s.dirs {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// displayPath is a chart directory as the user would type it.
func displayPath(d string) string {
	if wd, err := os.Getwd(); err == nil {
		if abs, err := filepath.Abs(d); err == nil {
			if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
				return rel
			}
		}
	}
	return filepath.Clean(d)
}

// overManyCharts makes cmd run once per selected chart when several are.
func (g *globalOptions) overManyCharts(cmd *cobra.Command) {
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if g.charts == nil {
			return run(cmd, args)
		}
		return g.runCharts(cmd)
	}
}

// chartArgs is the command line of one chart's run: the command and every
// flag the user set, except the selection.
func chartArgs(cmd *cobra.Command) []string {
	args := strings.Fields(cmd.CommandPath())[1:]
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if isSelectionFlag(f.Name) {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			for _, v := range sv.GetSlice() {
				args = append(args, "--"+f.Name+"="+v)
			}
			return
		}
		args = append(args, "--"+f.Name+"="+f.Value.String())
	})
	return args
}

// chartRun is one chart's part of a run over many.
type chartRun struct {
	dir     string
	out     bytes.Buffer
	errOut  lastLineBuffer
	outcome chartOutcome
}

// lastLineBuffer keeps a chart's stderr, and its last line for the
// progress view, while the chart runs.
type lastLineBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	tail []byte
}

func (b *lastLineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	b.tail = append(b.tail, p...)
	if len(b.tail) > 512 {
		b.tail = slices.Clone(b.tail[len(b.tail)-512:])
	}
	return len(p), nil
}

func (b *lastLineBuffer) lastLine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	text := strings.TrimRight(string(b.tail), "\n")
	return text[strings.LastIndexByte(text, '\n')+1:]
}

func (b *lastLineBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}

// runCharts runs cmd over every selected chart: at most --concurrency at
// once, in dependency order for apply and delete, each chart's output
// printed whole and in a stable order, then a summary. The exit code is 1
// when any chart failed, else 2 when any diff --exit-code found changes.
func (g *globalOptions) runCharts(cmd *cobra.Command) error {
	ctx := cmd.Context()
	g.shared = &sharedRun{cluster: kube.NewCluster(g.kube), plugins: g.pluginHost(), color: g.color(), timeouts: g.timeouts}
	base := chartArgs(cmd)
	if slices.Contains(base, "--values=-") {
		data, err := io.ReadAll(g.streams.In)
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		g.shared.stdin = data
	}
	offline := false
	if f := cmd.Flags().Lookup("offline"); f != nil {
		offline = f.Value.String() == "true"
	}

	runs := make([]*chartRun, len(g.charts))
	jobs := make([]batch.Job, len(g.charts))
	ordered := cmd.Name() == "apply" || cmd.Name() == "delete"
	// What each chart depends on is read from its HelmRelease: one GET
	// each, several at once, for a remote API server's round trips.
	var eg errgroup.Group
	eg.SetLimit(8)
	for i, dir := range g.charts {
		runs[i] = &chartRun{dir: dir}
		eg.Go(func() error {
			job := batch.Job{Name: dir}
			if ordered && !offline {
				if cfg, err := config.Load(config.LoadOptions{Dir: dir}); err == nil {
					w := &core.Workspace{Config: cfg, Cluster: g.shared.cluster, Notices: io.Discard}
					job = w.BatchJob(ctx, dir)
				}
			}
			job.Weight = treeSize(dir)
			jobs[i] = job
			return nil
		})
	}
	_ = eg.Wait()
	opts := batch.Options{Concurrency: g.sel.concurrency, FailFast: g.sel.failFast, Ordered: ordered, Reverse: cmd.Name() == "delete", Benign: isChanges}
	batch, err := batch.Plan(jobs, opts)
	if err != nil {
		return err
	}
	p := newManyPrinter(g, cmd, runs, batch.Order)
	p.start()
	outcomes := batch.Run(ctx, p, func(ctx context.Context, i int) error {
		r := runs[i]
		cg := newGlobalOptions(IOStreams{In: bytes.NewReader(g.shared.stdin), Out: &r.out, ErrOut: &r.errOut})
		cg.shared = g.shared
		err := cg.execute(ctx, append(slices.Clone(base), "--chart-dir="+r.dir))
		r.outcome = cg.outcome
		return err
	})
	for i, r := range runs {
		if r.outcome.release == "" && jobs[i].Key != "" {
			r.outcome.release = jobs[i].Key
		}
	}
	p.stop()
	return p.summary(outcomes)
}

// treeSize is the bytes of the files under dir, a chart's cost estimate.
func treeSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
