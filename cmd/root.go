// Package cmd holds cozyhr's cobra commands: each parses flags into an
// options struct and calls a function in core.
package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/review"
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
	// on success, error and Ctrl-C alike; every chart of a run shares it.
	plugins *host.Host
	// sel selects several charts (-C…, -R, -L); charts are the ones chosen
	// when there are several, each then run on its own (see run).
	sel    chartSelection
	charts []string
	// instanceShard is --shard K/N when it splits a snapshot's instances.
	instanceShard string
	// trees holds the git revisions diff --base compares, written once per
	// run and removed when it ends.
	trees review.Trees
	// specs are what each command declared itself to be.
	specs map[*cobra.Command]*spec
	// args are the positional arguments; namespaceSet says -n was given.
	args         []string
	namespaceSet bool
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
	pf.StringArrayVarP(&g.sel.Dirs, "chart-dir", "C", nil, "work on the chart in `DIR` (default: the working directory; --working-directory is an alias); repeat it, or give a glob, for several charts")
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
		newPostCmd(g),
		newVersionCmd(g), newSnapshotCmd(g),
		newPluginsCmd(g),
		newUpdateCmd(g),
		newImageCmd(g),
		newChangedCmd(g),
	)
	g.registerCompletions(root)
	root.PersistentPreRunE = func(cmd *cobra.Command, args []string) error {
		g.args, g.namespaceSet = args, cmd.Flags().Changed("namespace")
		s := g.specOf(cmd)
		if err := g.sel.checkConcurrency(); err != nil {
			return err
		}
		if err := checkFlagValues(cmd, s, args); err != nil {
			return err
		}
		return g.selectCharts(cmd, s, args)
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
	// Helm logs through slog's default logger, a process global like the
	// two above: its lines become cozyhr's, warnings shown, info with --debug.
	slog.SetDefault(slog.New(output.NewHelmLog(streams.ErrOut, func() bool { return g.debug })))
	defer g.closePlugins()
	defer g.trees.Close()
	return g.execute(ctx, args)
}

// execute runs one command line with g: the whole run, or one chart's part
// of a run over many.
func (g *globalOptions) execute(ctx context.Context, args []string) error {
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && ctx.Err() != nil {
		// Interrupted before any chart's run began (or a run that already
		// said what it left).
		var ee *ExitError
		if errors.As(err, &ee) && ee.Code == ExitInterrupted {
			return err
		}
		fmt.Fprintln(g.streams.ErrOut, "cozyhr: interrupted: nothing was written")
		return &ExitError{Code: ExitInterrupted, Err: err, Silent: true}
	}
	return g.report(g.streams.ErrOut, err)
}

// report prints an error as the command line says it, once: whatever a
// library made of a server that did not answer becomes that; a failure
// already shown (a reconcile's ✗ line) or a silent exit is not repeated.
func (g *globalOptions) report(w io.Writer, err error) error {
	err = explainTimeout(g.timeouts, err)
	if err != nil {
		var shown *flux.ReportedError
		var ee *ExitError
		if silent := errors.As(err, &ee) && ee.Silent; !silent && !errors.As(err, &shown) {
			fmt.Fprintf(w, "Error: %s\n", userMessage(err))
		}
	}
	return err
}

// nameOverrides applies the positional NAME, which names the HelmRelease
// (and so the release, through helm-controller's naming) over .cozyhr.yaml,
// with -n its namespace, as cozyhr v1.6 and Cozystack's package.mk use it;
// and --plain, which ignores any HelmRelease and makes NAME the release.
func (g *globalOptions) nameOverrides(s *spec, args []string, overrides map[string]any) {
	if len(args) == 1 && s.takesName {
		overrides["release.name"] = args[0]
		if !g.plain {
			overrides["helmRelease.name"] = args[0]
			overrides["helmRelease.enabled"] = true
			if g.namespaceSet {
				overrides["helmRelease.namespace"] = *g.kube.Namespace
			}
		}
	}
	if g.plain {
		overrides["helmRelease.enabled"] = false
	}
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

// pluginHost is the run's plugin host, made on first use.
func (g *globalOptions) pluginHost() *host.Host {
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

// setIfChanged records a flag's value as a configuration override only when
// the user set it, so that the file and environment still apply otherwise.
func setIfChanged(cmd *cobra.Command, overrides map[string]any, flag, key string, value any) {
	if cmd.Flags().Changed(flag) {
		overrides[key] = value
	}
}
