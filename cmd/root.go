// Package cmd holds cozyhr's cobra commands: each parses flags into an
// options struct and calls a function in core.
package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/gonvenience/bunt"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/hooks"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/lock"
	"github.com/cozyhr/cozyhr/plugins/host"
)

// IOStreams are the standard streams a command uses.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	streams    IOStreams
	chartDir   string
	configFile string
	kube       *genericclioptions.ConfigFlags
	// timeouts bounds each API request (--request-timeout).
	timeouts *kube.RequestTimeouts
	noColor  bool
	debug    bool
	noHooks  bool
	// waitForLock waits for another run's lock on the release instead of
	// refusing at once.
	waitForLock bool
	// plain ignores any HelmRelease: render and apply as plain Helm
	// (cozyhr v1.6's --plain).
	plain bool
	// plugins is started on first use and closed when the command returns,
	// on success, error and Ctrl-C alike.
	plugins *host.Host
	// stage is the hooked stage this run is in, once its pre hooks ran;
	// its post hooks run when the command succeeds.
	stage *stageRun
	// sel selects several charts (-C…, -R, -L); charts are the ones chosen
	// when there are several, each then run on its own with chartDir set.
	sel    chartSelection
	charts []string
	// shared is what a run over many charts shares with each chart's run;
	// nil otherwise.
	shared *sharedRun
	// outcome is what a chart's run reports for the summary of a run over
	// many.
	outcome chartOutcome
	// writing is the workspace of a command that took the release's lock
	// to write it: after Ctrl-C, its state is reported.
	writing *core.Workspace
}

// stageRun is a stage whose post hooks are due; commands add to env what
// the hooks should see (IMAGE_DIGEST, CHART_VERSION).
type stageRun struct {
	name string
	cfg  *config.Chart
	env  map[string]string
}

// hooked reports whether a command is a stage that runs .cozyhr.yaml hooks.
func hooked(command string) bool {
	switch command {
	case hooks.StageUpdate, hooks.StageImage, hooks.StageShow, hooks.StageDiff, hooks.StageApply, hooks.StageDelete:
		return true
	}
	return false
}

func newGlobalOptions(streams IOStreams) *globalOptions {
	return &globalOptions{streams: streams, kube: genericclioptions.NewConfigFlags(true), timeouts: &kube.RequestTimeouts{}}
}

// newRootCmd builds the cozyhr command tree over g.
func newRootCmd(g *globalOptions) *cobra.Command {
	// API warnings (deprecations, unknown fields) print as "Warning: …"
	// lines, once each, as kubectl prints them; not as klog lines.
	warnings := rest.NewWarningWriter(g.streams.ErrOut, rest.WarningWriterOptions{Deduplicate: true})
	g.kube.WrapConfigFn = func(c *rest.Config) *rest.Config {
		c = kube.TuneRESTConfig(c)
		c.WarningHandler = warnings
		return g.timeouts.Wrap(c)
	}

	root := &cobra.Command{
		Use:   "cozyhr",
		Short: "Develop Helm charts that Flux delivers: show, diff and apply one chart directory",
		Long: `cozyhr renders a chart directory as helm-controller would, diffs it structurally
against the live objects, and applies it with Helm, keeping the chart's Flux
HelmRelease out of the way while you work. Configuration lives in .cozyhr.yaml
in the chart directory.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(g.streams.In)
	root.SetOut(g.streams.Out)
	root.SetErr(g.streams.ErrOut)

	pf := root.PersistentFlags()
	pf.StringArrayVarP(&g.sel.dirs, "chart-dir", "C", nil, "work on the chart in `DIR` (default: the working directory; --working-directory is an alias); repeat it, or give a glob, for several charts")
	g.sel.addFlags(pf)
	pf.StringVar(&g.configFile, "config", "", "configuration file (default: CHART_DIR/"+config.FileName+")")
	pf.StringVar(g.kube.KubeConfig, "kubeconfig", "", "path to the kubeconfig file")
	pf.StringVar(g.kube.Context, "context", "", "kubeconfig context to use")
	pf.StringVarP(g.kube.Namespace, "namespace", "n", "", "release namespace (overrides release.namespace)")
	pf.BoolVar(&g.noColor, "no-color", false, "never colour output (NO_COLOR is honoured too)")
	pf.BoolVar(&g.debug, "debug", false, "print Helm's debug log to stderr")
	pf.BoolVar(&g.noHooks, "no-hooks", false, "skip the pre and post hooks of .cozyhr.yaml (not Helm hooks)")
	pf.BoolVar(&g.plain, "plain", false, "ignore any HelmRelease: render and apply as plain Helm")
	pf.DurationVar(&g.timeouts.Read, "request-timeout", kube.DefaultRequestTimeout, "how long to wait for the API server to answer a read, as kubectl's flag (writes wait at least 45s; 0 waits forever)")
	pf.BoolVar(&g.waitForLock, "wait-for-lock", false, "apply, delete and rollback: wait while another run holds the release's lock")
	// cozyhr v1.6 called -C --working-directory; scripts still say so.
	root.SetGlobalNormalizationFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		switch name {
		case "working-directory":
			name = "chart-dir"
		case "kube-context": // helm's name
			name = "context"
		}
		return pflag.NormalizedName(name)
	})

	for _, c := range []*cobra.Command{newShowCmd(g), newDiffCmd(g), newApplyCmd(g), newDeleteCmd(g), newValuesCmd(g),
		newSuspendCmd(g), newResumeCmd(g), newReconcileCmd(g), newHistoryCmd(g), newEventsCmd(g)} {
		g.nameArg(c)
		root.AddCommand(c)
	}
	root.AddCommand(
		newGetCmd(g),
		newListCmd(g),
		newRollbackCmd(g),
		newUnlockCmd(g),
		newVersionCmd(g),
		newPluginsCmd(g),
		newUpdateCmd(g),
		newImageCmd(g),
	)
	g.registerCompletions(root)
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return g.selectCharts(cmd) }
	for _, c := range root.Commands() {
		if manyCharts(c) {
			g.overManyCharts(c)
		}
	}
	return root
}

// Execute runs cozyhr with args; main maps the error to an exit code.
func Execute(ctx context.Context, args []string, streams IOStreams) error {
	// controller-runtime's client complains on stderr, with a stack, unless
	// given a logger; cozyhr reports errors itself.
	ctrllog.SetLogger(logr.Discard())
	// client-go's klog lines ("memcache.go: Couldn't get …") are noise next
	// to cozyhr's own errors; --debug shows Helm's log instead.
	klog.SetLogger(logr.Discard())
	g := newGlobalOptions(streams)
	defer g.closePlugins()
	return g.execute(ctx, args)
}

// execute runs one command line with g: the whole run, or one chart's part
// of a run over many.
func (g *globalOptions) execute(ctx context.Context, args []string) error {
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	err = g.finishStage(ctx, err)
	if err != nil && ctx.Err() != nil {
		return g.interrupted(ctx, err)
	}
	// Whatever a library made of a server that did not answer, say that.
	timeouts := g.timeouts
	if g.shared != nil {
		timeouts = g.shared.timeouts
	}
	err = explainTimeout(timeouts, err)
	if err != nil {
		// A failure already shown (as a reconcile's ✗ line) is not repeated.
		var shown *flux.ReportedError
		if ee, ok := err.(*ExitError); (!ok || !ee.Silent) && !errors.As(err, &shown) {
			fmt.Fprintf(g.streams.ErrOut, "Error: %s\n", userMessage(err))
		}
	}
	return err
}

// workspace loads the chart configuration, with overrides from the flags
// the user set, and connects to the cluster unless offline.
func (g *globalOptions) workspace(cmd *cobra.Command, offline bool, overrides map[string]any) (*core.Workspace, error) {
	if overrides == nil {
		overrides = map[string]any{}
	}
	if cmd.Flags().Changed("namespace") {
		overrides["release.namespace"] = *g.kube.Namespace
	}
	g.nameOverrides(cmd, overrides)
	// A release named on the command line can be suspended, resumed,
	// reconciled or deleted from anywhere, as cozyhr v1.6 allowed.
	chartOptional := false
	switch cmd.Name() {
	case "suspend", "resume", "reconcile", "delete":
		chartOptional = len(cmd.Flags().Args()) == 1
	}
	cfg, err := config.Load(config.LoadOptions{Dir: g.chartDir, File: g.configFile, Overrides: overrides, ChartOptional: chartOptional})
	if err != nil {
		return nil, err
	}
	w := &core.Workspace{Config: cfg, Notices: g.streams.ErrOut, Plugins: g.pluginHost()}
	if err := g.startStage(cmd, cfg); err != nil {
		return nil, err
	}
	if !offline {
		w.Cluster = g.cluster()
	}
	if g.shared != nil { // one chart of many: the summary names its release
		ns := cfg.Release.Namespace
		if ns == "" && w.Cluster != nil {
			ns = w.Cluster.DefaultNamespace()
		}
		g.outcome.release = cmp.Or(ns, "(default)") + "/" + cfg.Release.Name
	}
	return w, nil
}

// interrupted reports a run ended by Ctrl-C in one line: what the release
// and its HelmRelease are now, when this run may have written them, read
// afresh with a short grace.
func (g *globalOptions) interrupted(ctx context.Context, err error) error {
	state := "nothing was written"
	var ie *InterruptedError
	switch {
	case errors.As(err, &ie):
		state = ie.State
	case g.writing != nil:
		grace, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		state = g.writing.ReleaseState(grace) + "; the next cozyhr apply repairs a pending or failed release"
	}
	fmt.Fprintf(g.streams.ErrOut, "cozyhr: interrupted: %s\n", state)
	return &ExitError{Code: ExitInterrupted, Err: err, Silent: true}
}

// lockRelease takes the release's lock for the commands that write it.
// Only an apply that may create the namespace makes a missing one to hold
// the lock in.
func (g *globalOptions) lockRelease(cmd *cobra.Command, w *core.Workspace, command string, createNamespace bool) (*lock.ReleaseLock, error) {
	g.writing = w
	return w.Lock(cmd.Context(), command, g.waitForLock, createNamespace, func(msg string) { fmt.Fprintln(g.streams.ErrOut, "cozyhr:", msg) })
}

// nameOverrides applies the positional NAME, which names the HelmRelease
// (and so the release, through helm-controller's naming) over .cozyhr.yaml,
// with -n its namespace, as cozyhr v1.6 and Cozystack's package.mk use it;
// and --plain, which ignores any HelmRelease and makes NAME the release.
func (g *globalOptions) nameOverrides(cmd *cobra.Command, overrides map[string]any) {
	if args := cmd.Flags().Args(); len(args) == 1 && acceptsName(cmd) {
		overrides["release.name"] = args[0]
		if !g.plain {
			overrides["helmRelease.name"] = args[0]
			overrides["helmRelease.enabled"] = true
			if cmd.Flags().Changed("namespace") {
				overrides["helmRelease.namespace"] = *g.kube.Namespace
			}
		}
	}
	if g.plain {
		overrides["helmRelease.enabled"] = false
	}
}

// acceptsName reports whether a command takes the HelmRelease NAME.
func acceptsName(cmd *cobra.Command) bool {
	switch cmd.Name() {
	case "show", "diff", "apply", "delete", "suspend", "resume", "reconcile", "values", "history", "events", "get", "unlock":
		return true
	}
	return false
}

// nameArg is the positional NAME of the commands that accept it, with
// completion of the HelmReleases in the namespace.
func (g *globalOptions) nameArg(cmd *cobra.Command) {
	cmd.Use += " [NAME]"
	cmd.Args = cobra.MaximumNArgs(1)
	cmd.ValidArgsFunction = func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		return g.completeHelmReleases(cmd.Context(), args)
	}
}

// startStage runs the pre hooks of the command's stage, from the chart's
// own .cozyhr.yaml (never from the environment), unless --no-hooks.
func (g *globalOptions) startStage(cmd *cobra.Command, cfg *config.Chart) error {
	if g.noHooks || g.stage != nil || !hooked(cmd.Name()) {
		return nil
	}
	g.stage = &stageRun{name: cmd.Name(), cfg: cfg, env: hooks.Env(cfg, cmd.Name())}
	return hooks.Run(cmd.Context(), cfg, g.stage.name, "pre", g.stage.env, g.streams.ErrOut)
}

// hookEnv records a value for the post hooks.
func (g *globalOptions) hookEnv(key, value string) {
	if g.stage != nil {
		g.stage.env[key] = value
	}
}

// finishStage runs the post hooks when the stage succeeded; diff finding
// changes is success.
func (g *globalOptions) finishStage(ctx context.Context, err error) error {
	s := g.stage
	if s == nil || (err != nil && ExitCode(err) != ExitChanges) {
		return err
	}
	if herr := hooks.Run(ctx, s.cfg, s.name, "post", s.env, g.streams.ErrOut); herr != nil {
		return herr
	}
	return err
}

// cluster is the run's connection; one for every chart of a run over many.
func (g *globalOptions) cluster() *kube.Cluster {
	if g.shared != nil {
		return g.shared.cluster
	}
	return kube.NewCluster(g.kube)
}

// pluginHost is the run's plugin host, made on first use.
func (g *globalOptions) pluginHost() *host.Host {
	if g.shared != nil {
		return g.shared.plugins
	}
	if g.plugins == nil {
		g.plugins = host.New(host.Options{Debug: g.debugWriter()})
	}
	return g.plugins
}

// closePlugins kills every plugin process this run started.
func (g *globalOptions) closePlugins() {
	if g.plugins != nil {
		g.plugins.Close()
	}
}

// debugWriter is where Helm's debug log goes: stderr with --debug, else nowhere.
func (g *globalOptions) debugWriter() io.Writer {
	if g.debug {
		return g.streams.ErrOut
	}
	return nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// color decides whether to colour output: only on a terminal, never with
// NO_COLOR or --no-color. dyff styles through bunt, whose setting is global
// to the process; it is set here, once per command run.
func (g *globalOptions) color() bool {
	if g.shared != nil {
		return g.shared.color
	}
	on := false
	if f, ok := g.streams.Out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		on = os.Getenv("NO_COLOR") == "" && !g.noColor
	}
	if on {
		bunt.SetColorSettings(bunt.ON, bunt.ON)
	} else {
		bunt.SetColorSettings(bunt.OFF, bunt.OFF)
	}
	return on
}

// setIfChanged records a flag's value as a configuration override only when
// the user set it, so that the file and environment still apply otherwise.
func setIfChanged(cmd *cobra.Command, overrides map[string]any, flag, key string, value any) {
	if cmd.Flags().Changed(flag) {
		overrides[key] = value
	}
}
