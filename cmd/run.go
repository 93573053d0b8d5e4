package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/hooks"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/lock"
)

// run is one chart's run of a command: the chart, where its output goes,
// and what it did. A run over many charts makes one per chart and runs
// them in parallel; the flags (globalOptions and the command's options)
// are only read.
type run struct {
	g *globalOptions
	// ctx ends when the run is interrupted.
	ctx  context.Context
	spec *spec
	// args are the positional arguments (NAME).
	args    []string
	dir     string
	streams IOStreams
	// cluster is the connection; one for every chart of a run over many.
	cluster *kube.Cluster
	// colorOn is decided once per process run.
	colorOn bool
	// stage is the hooked stage once its pre hooks ran; its post hooks run
	// when the command succeeds.
	stage *stageRun
	// writing is the workspace of a command that took the release's lock
	// to write it: after Ctrl-C, its state is reported.
	writing *core.Workspace
	// release and result are what the summary of a run over many says.
	release, result string
	// overrides name the HelmRelease of one instance (--instances), over
	// everything else.
	overrides map[string]any
}

// stageRun is a stage whose post hooks are due; commands add to env what
// the hooks should see (IMAGE_DIGEST, CHART_VERSION).
type stageRun struct {
	name string
	cfg  *config.Chart
	env  map[string]string
}

// runE makes a command's RunE: complete turns the flags into the
// command's typed options once, refusing what they get wrong before any
// hook, file write or API request (nil: nothing to do); then each runs for
// the chart, for every selected chart, or for every instance.
func (g *globalOptions) runE(s *spec, complete func(cmd *cobra.Command) error, each func(r *run) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		if complete != nil {
			if err := complete(cmd); err != nil {
				return err
			}
		}
		ctx := cmd.Context()
		if s.fleet != nil && s.fleet.instances {
			return g.runOverInstances(ctx, s, each)
		}
		if g.charts != nil {
			if len(g.charts) == 0 {
				return nil // the selection was narrowed to nothing, and said so
			}
			return g.runCharts(ctx, s, each)
		}
		r := g.newRun(ctx, s, g.chartDir, g.streams)
		r.cluster, r.colorOn = kube.NewCluster(g.kube), g.color()
		return r.finish(ctx, each(r))
	}
}

// newRun is one chart's run of the command s declares.
func (g *globalOptions) newRun(ctx context.Context, s *spec, dir string, streams IOStreams) *run {
	return &run{g: g, ctx: ctx, spec: s, args: g.args, dir: dir, streams: streams}
}

// finish runs the post hooks when the stage succeeded (diff finding
// changes is success) and, after Ctrl-C, says what the run left.
func (r *run) finish(ctx context.Context, err error) error {
	if s := r.stage; s != nil && (err == nil || ExitCode(err) == ExitChanges) {
		if herr := hooks.Run(ctx, s.cfg, s.name, "post", s.env, r.streams.ErrOut); herr != nil {
			err = herr
		}
	}
	if err != nil && ctx.Err() != nil {
		return r.interrupted(ctx, err)
	}
	return err
}

// interrupted reports a run ended by Ctrl-C in one line: what the release
// and its HelmRelease are now, when this run may have written them, read
// afresh with a short grace.
func (r *run) interrupted(ctx context.Context, err error) error {
	state := "nothing was written"
	var ie *InterruptedError
	switch {
	case errors.As(err, &ie):
		state = ie.State
	case r.writing != nil:
		grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		state = r.writing.ReleaseState(grace) + "; the next cozyhr apply repairs a pending or failed release"
	}
	fmt.Fprintf(r.streams.ErrOut, "cozyhr: interrupted: %s\n", state)
	return &ExitError{Code: ExitInterrupted, Err: err, Silent: true}
}

// workspace loads the chart configuration, with overrides from the flags
// the user set, runs the stage's pre hooks, and connects to the cluster
// unless offline.
func (r *run) workspace(offline bool, overrides map[string]any) (*core.Workspace, error) {
	g := r.g
	cfg, err := r.config(r.dir, overrides)
	if err != nil {
		return nil, err
	}
	w := &core.Workspace{Config: cfg, Notices: r.streams.ErrOut, Plugins: g.pluginHost()}
	if err := r.startStage(cfg); err != nil {
		return nil, err
	}
	if !offline {
		w.Cluster = r.cluster
	}
	ns := cfg.Release.Namespace
	if ns == "" && w.Cluster != nil {
		ns = w.Cluster.DefaultNamespace()
	}
	r.release = cmp.Or(ns, "(default)") + "/" + cfg.Release.Name
	return w, nil
}

// config loads the configuration of the chart in dir, with overrides from
// the flags the user set (-n, NAME, --plain) on top of the command's own.
func (r *run) config(dir string, overrides map[string]any) (*config.Chart, error) {
	g := r.g
	if overrides == nil {
		overrides = map[string]any{}
	}
	if g.namespaceSet {
		overrides["release.namespace"] = *g.kube.Namespace
	}
	g.nameOverrides(r.spec, r.args, overrides)
	for k, v := range r.overrides {
		overrides[k] = v
	}
	// A release named on the command line can be suspended, resumed,
	// reconciled or deleted from anywhere, as cozyhr v1.6 allowed.
	chartOptional := r.spec.nameAnywhere && len(r.args) == 1
	return config.Load(config.LoadOptions{Dir: dir, File: g.configFile, Overrides: overrides, ChartOptional: chartOptional})
}

// startStage runs the pre hooks of the command's stage, from the chart's
// own .cozyhr.yaml (never from the environment), unless --no-hooks.
func (r *run) startStage(cfg *config.Chart) error {
	name := r.spec.stage
	if r.g.noHooks || r.stage != nil || !r.spec.hooked {
		return nil
	}
	r.stage = &stageRun{name: name, cfg: cfg, env: hooks.Env(cfg, name)}
	return hooks.Run(r.ctx, cfg, name, "pre", r.stage.env, r.streams.ErrOut)
}

// hookEnv records a value for the post hooks.
func (r *run) hookEnv(key, value string) {
	if r.stage != nil {
		r.stage.env[key] = value
	}
}

// lockRelease takes the release's lock for the commands that write it.
// Only an apply that may create the namespace makes a missing one to hold
// the lock in.
func (r *run) lockRelease(w *core.Workspace, command string, createNamespace bool) (*lock.ReleaseLock, error) {
	r.writing = w
	return w.Lock(r.ctx, command, r.g.waitForLock, createNamespace, func(msg string) { fmt.Fprintln(r.streams.ErrOut, "cozyhr:", msg) })
}

// debugWriter is where Helm's debug log goes: stderr with --debug, else nowhere.
func (r *run) debugWriter() io.Writer {
	if r.g.debug {
		return r.streams.ErrOut
	}
	return nil
}

// color says whether to colour output.
func (r *run) color() bool { return r.colorOn }

// color decides whether to colour output, once per process run (see
// output.Colors).
func (g *globalOptions) color() bool { return output.Colors(g.streams.Out, g.noColor) }

// checkFlagValues refuses values no flag of their type means: a negative
// duration (kubectl reads it as no limit, which nobody means) or a
// negative count, and a NAME that cannot name a HelmRelease.
func checkFlagValues(cmd *cobra.Command, s *spec, args []string) error {
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if err != nil {
			return
		}
		switch f.Value.Type() {
		case "duration":
			if d, perr := time.ParseDuration(f.Value.String()); perr == nil && d < 0 {
				err = fmt.Errorf("--%s %s: a duration cannot be negative; give 0 for no limit, or a length such as 30s", f.Name, f.Value)
			}
		case "int":
			if n, perr := strconv.Atoi(f.Value.String()); perr == nil && n < 0 {
				err = fmt.Errorf("--%s %d: give a count of 0 or more", f.Name, n)
			}
		}
	})
	if err != nil {
		return err
	}
	if len(args) == 1 && s.takesName {
		if errs := validation.IsDNS1123Subdomain(args[0]); len(errs) > 0 {
			return fmt.Errorf("NAME %q cannot name a HelmRelease: use lower case letters, digits, '-' and '.', starting and ending with a letter or digit (such as %s)", args[0], strings.ToLower(args[0]))
		}
	}
	return nil
}
