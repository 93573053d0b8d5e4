package cmd

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/batch"
	"github.com/cozyhr/cozyhr/core/kube"
)

// chartSelection is how a run picks several charts.
type chartSelection struct {
	dirs        []string // -C, repeatable, globs expanded
	recursive   []string // -R
	all         bool
	selector    string // -L
	concurrency int
	failFast    bool
	shard       string // K/N

}

func (s *chartSelection) addFlags(pf *pflag.FlagSet) {
	pf.StringArrayVarP(&s.recursive, "recursive", "R", nil, "work on every chart below `DIR`: each directory with a Chart.yaml and a "+config.FileName+" (repeatable)")
	pf.BoolVar(&s.all, "all", false, "with -R: also charts without a "+config.FileName)
	pf.StringVarP(&s.selector, "chart-selector", "L", "", "only charts whose "+config.FileName+" labels match this `SELECTOR` (tier=system,team!=db); without -C or -R, searches the working directory")
	pf.IntVar(&s.concurrency, "concurrency", runtime.NumCPU(), "with several charts: how many run at once")
	pf.BoolVar(&s.failFast, "fail-fast", false, "with several charts: start no more once one failed")
	pf.StringVar(&s.shard, "shard", "", "with several charts: only the `K/N`-th of N stable shards (by path), so a CI matrix can fan out")
}

// many reports whether the flags ask for a set of charts rather than one.
func (s *chartSelection) many() bool {
	return len(s.recursive) > 0 || s.selector != "" || len(s.uniqueDirs()) > 1 ||
		slices.ContainsFunc(s.dirs, func(d string) bool { return strings.ContainsAny(d, "*?[") })
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
		if s.shard != "" {
			return fmt.Errorf("--shard goes with several charts (-R DIR, a -C glob, -L): it splits them")
		}
		return nil
	}
	if !traitsOf(cmd.Name()).overMany {
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
	if s.shard != "" {
		if _, _, err := parseShard(s.shard); err != nil {
			return err
		}
		g.charts = slices.DeleteFunc(g.charts, func(d string) bool { return !s.inShard(d) })
		if len(g.charts) == 0 {
			fmt.Fprintf(g.streams.ErrOut, "cozyhr: shard %s has none of the selected charts\n", s.shard)
			g.charts = []string{} // nothing to run
		}
	}
	return nil
}

// inShard reports whether the chart at path d (as the selection names it)
// is in the --shard K/N; every chart is without --shard. By a hash of the
// path: a chart stays in its shard when others are added or removed.
func (s chartSelection) inShard(d string) bool {
	k, n, err := parseShard(s.shard)
	if s.shard == "" || err != nil {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(filepath.ToSlash(d)))
	return int(h.Sum32()%uint32(n)) == k-1
}

// parseShard reads K/N, 1 <= K <= N.
func parseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, kerr := strconv.Atoi(ks)
	n, nerr := strconv.Atoi(ns)
	if !ok || kerr != nil || nerr != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("--shard %q: give K/N with 1 <= K <= N, such as 2/4", s)
	}
	return k, n, nil
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

// runCharts runs each over every selected chart: at most --concurrency at
// once, in dependency order for apply and delete, each chart's output
// printed whole and in a stable order, then a summary. Every chart's run
// shares one connection (one discovery, one set of clients) and one plugin
// host. The exit code is 1 when any chart failed, else 2 when any diff
// --exit-code found changes.
func (g *globalOptions) runCharts(cmd *cobra.Command, each func(r *run) error) error {
	ctx := cmd.Context()
	cluster, colorOn := kube.NewCluster(g.kube), g.color()
	// -f - reads stdin once; every chart gets the same values.
	var stdin []byte
	if values, err := cmd.Flags().GetStringArray("values"); err == nil && slices.Contains(values, "-") {
		if stdin, err = io.ReadAll(g.streams.In); err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
	}
	t := traitsOf(cmd.Name())
	offline := false
	if f := cmd.Flags().Lookup("offline"); f != nil {
		offline = f.Value.String() == "true"
	}

	runs := make([]*chartRun, len(g.charts))
	jobs := make([]batch.Job, len(g.charts))
	// What each chart depends on is read from its HelmRelease: one GET
	// each, several at once, for a remote API server's round trips.
	var eg errgroup.Group
	eg.SetLimit(8)
	for i, dir := range g.charts {
		runs[i] = &chartRun{dir: dir}
		eg.Go(func() error {
			job := batch.Job{Name: dir}
			if t.ordered && !offline {
				if cfg, err := config.Load(config.LoadOptions{Dir: dir}); err == nil {
					w := &core.Workspace{Config: cfg, Cluster: cluster, Notices: io.Discard}
					job = w.BatchJob(ctx, dir)
				}
			}
			jobs[i] = job
			return nil
		})
	}
	_ = eg.Wait()
	timings := loadTimings()
	for i, w := range timings.weights(cmd.Name(), g.charts) {
		jobs[i].Weight = w
	}
	if t.ordered && !offline {
		if err := checkJobs(ctx, cluster, jobs, g.streams.ErrOut); err != nil {
			return err
		}
	}
	opts := batch.Options{Concurrency: g.sel.concurrency, FailFast: g.sel.failFast, Ordered: t.ordered, Reverse: cmd.Name() == "delete", Benign: isChanges}
	plan, err := batch.Plan(jobs, opts)
	if err != nil {
		return err
	}
	p := newManyPrinter(g, cmd, runs, plan.Order)
	p.start()
	outcomes := plan.Run(ctx, p, func(ctx context.Context, i int) error {
		return g.runOne(ctx, cmd, each, runs[i], runs[i].dir, cluster, colorOn, stdin, nil)
	})
	took := make([]time.Duration, len(outcomes))
	for i, o := range outcomes {
		// A failure (a chart that does not render) says nothing of what
		// the chart costs when it works: its last good timing stays.
		if o.Ran() && (o.Err == nil || isChanges(o.Err)) {
			took[i] = o.Took
		}
	}
	timings.record(cmd.Name(), g.charts, took)
	for i, r := range runs {
		if r.outcome.release == "" && jobs[i].Key != "" {
			r.outcome.release = jobs[i].Key
		}
	}
	p.stop()
	return p.summary(outcomes)
}

// runOne is one chart's run of a run over many (or over instances):
// output kept in cr, the error printed there as a run alone prints it,
// the outcome recorded for the summary.
func (g *globalOptions) runOne(ctx context.Context, cmd *cobra.Command, each func(r *run) error, cr *chartRun,
	dir string, cluster *kube.Cluster, colorOn bool, stdin []byte, overrides map[string]any) error {
	r := &run{g: g, cmd: cmd, dir: dir, cluster: cluster, colorOn: colorOn, overrides: overrides,
		streams: IOStreams{In: bytes.NewReader(stdin), Out: &cr.out, ErrOut: &cr.errOut}}
	err := g.report(r.streams.ErrOut, r.finish(ctx, each(r)))
	cr.outcome = chartOutcome{release: r.release, result: r.result}
	return err
}

// chartOutcome is what a chart's run reports for the summary.
type chartOutcome struct {
	release string
	result  string
}

// treeSize is the bytes of the files under dir, a chart's cost estimate
// before it has run.
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

// checkJobs refuses two charts of one run that write the same release (the
// second would wait on the first's lock, or overwrite it), and warns of a
// dependency that is neither in the run nor a HelmRelease in the cluster:
// Flux would wait for it forever.
func checkJobs(ctx context.Context, cluster *kube.Cluster, jobs []batch.Job, warn io.Writer) error {
	byKey := map[string]string{}
	for _, j := range jobs {
		if j.Key == "" {
			continue
		}
		if other, ok := byKey[j.Key]; ok {
			return fmt.Errorf("charts %s and %s both stand for %s: one run cannot write a release twice; give each its own release (release.name or helmRelease.name in %s)", other, j.Name, j.Key, config.FileName)
		}
		byKey[j.Key] = j.Name
	}
	cl, err := cluster.Client()
	if err != nil {
		return nil // the charts' own runs report the connection
	}
	for _, j := range jobs {
		for _, d := range j.DependsOn {
			if _, ok := byKey[d]; ok {
				continue
			}
			ns, name, _ := strings.Cut(d, "/")
			err := cl.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &helmv2.HelmRelease{})
			if apierrors.IsNotFound(err) {
				fmt.Fprintf(warn, "Warning: %s depends on %s, which is neither a chart of this run nor a HelmRelease in the cluster; Flux would wait for it forever (a typo in dependsOn?)\n", j.Name, d)
			}
		}
	}
	return nil
}
