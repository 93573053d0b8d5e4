package cmd

import (
	"fmt"
	"io"
	"maps"

	"github.com/cozyhr/cozyhr/core"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
)

type showOptions struct {
	render        renderFlags
	show          output.ShowOptions
	offline       bool
	includeCRDs   bool
	output        string
	deterministic bool
	instances     bool
	prod          prodFlags
	// caseName renders with one of .cozyhr.yaml's value cases.
	caseName string
	// golden is where show --golden writes (or with check, compares) one
	// render per chart and value case.
	golden string
	check  bool

	// overrides are the flags the user gave that override .cozyhr.yaml's
	// render:, set by complete.
	overrides map[string]any
}

// showFormats are what show -o prints, its default first.
func showFormats() []output.Format { return []output.Format{output.YAML, output.JSON} }

// complete checks the output format and the render flags, and records the
// flags that override .cozyhr.yaml.
func (o *showOptions) complete(cmd *cobra.Command) error {
	if err := o.validate(); err != nil {
		return err
	}
	o.overrides = map[string]any{}
	setIfChanged(cmd, o.overrides, "include-crds", "render.includeCRDs", o.includeCRDs)
	setIfChanged(cmd, o.overrides, "skip-hooks", "render.skipHooks", o.show.SkipHooks)
	return nil
}

// validate checks the output format and the render flags.
func (o *showOptions) validate() error {
	var err error
	if o.show.Output, err = output.Parse(o.output, showFormats()...); err != nil {
		return err
	}
	switch {
	case o.check && o.golden == "":
		return fmt.Errorf("--check compares the golden files: give their directory with --golden DIR")
	case o.golden != "" && (o.instances || o.caseName != ""):
		return fmt.Errorf("--golden renders the chart's default values and every value case offline: leave out --instances and --case")
	case o.instances && o.caseName != "":
		return fmt.Errorf("--instances renders each HelmRelease's own values: leave out --case")
	}
	if o.instances && o.offline && o.prod.file == "" {
		return fmt.Errorf("--instances renders with the live HelmReleases' values: leave out --offline, or read them from a snapshot with --snapshot FILE")
	}
	if o.prod.file != "" && !o.instances {
		return fmt.Errorf("--snapshot holds every instance of a chart: add --instances")
	}
	return o.render.validate(o.offline)
}

// print renders the workspace's chart (seeded when deterministic) and
// writes it to out, warnings and the masking notice on the run's error
// stream. It only reads o: instances print at once.
func (o *showOptions) print(r *run, w *core.Workspace, out io.Writer, deterministic bool) error {
	show := o.show
	show.SkipHooks = w.Config.Render.SkipHooks
	opts := o.render.options(r.streams.In)
	opts.TextOnly = show.Output != output.JSON
	opts.Deterministic = deterministic
	d, err := w.Desired(r.ctx, opts, r.debugWriter())
	if err != nil {
		return err
	}
	for _, warning := range d.Warnings {
		fmt.Fprintln(r.streams.ErrOut, "Warning:", warning)
	}
	masked, err := output.Show(out, d, show)
	if masked > 0 {
		fmt.Fprintf(r.streams.ErrOut, "cozyhr: data of %d Secret(s) masked; --show-secrets prints it\n", masked)
	}
	return err
}

func newShowCmd(g *globalOptions) *cobra.Command {
	o := &showOptions{}
	s := &spec{takesName: true, hooked: true, overMany: true, offline: &o.offline, render: &o.render,
		// Renders are YAML or JSON: a run over many writes no header into them.
		machine: func() (bool, bool) { return true, o.output != string(output.JSON) }}
	cmd := &cobra.Command{
		Use: "show",
		Example: `  cozyhr show                                  # render as Flux would, with the cluster's capabilities
  cozyhr show -n cozy-metallb metallb          # for HelmRelease metallb (Cozystack's package.mk)
  cozyhr show --offline --kube-version 1.33.0  # no cluster, like helm template
  cozyhr show -s 'templates/*.yaml' -o json
  cozyhr show --case ha                        # with the value case "ha" of .cozyhr.yaml
  cozyhr show -R . --golden golden --check     # are the committed renders up to date?
  cozyhr show --instances                      # once per live HelmRelease of this chart`,
		SuggestFor: []string{"template"},
		Short:      "Render the chart as Flux would install it (replaces make show)",
		Long: `Render the chart with the values Flux would use (the live HelmRelease's values,
then .cozyhr.yaml's, then -f and --set), post-processed as helm-controller does.
Capabilities and lookups come from the cluster unless --offline.
Secret data is masked unless --show-secrets.`,
		Args: cobra.NoArgs,
		RunE: g.runE(s, o.complete, func(r *run) error {
			switch {
			case o.instances:
				return o.runInstances(r)
			case o.golden != "":
				return o.runGolden(r)
			}
			w, err := r.workspace(o.offline, maps.Clone(o.overrides))
			if err != nil {
				return err
			}
			if o.caseName != "" {
				if w.Config, err = core.WithCase(w.Config, o.caseName); err != nil {
					return err
				}
			}
			return o.print(r, w, r.streams.Out, o.deterministic)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.caseName, "case", "", "render with the value case `NAME` of .cozyhr.yaml's cases:")
	f.StringVar(&o.golden, "golden", "", "write one offline, deterministic render per chart and value case under `DIR` (DIR/CHART/CASE.yaml)")
	f.BoolVar(&o.check, "check", false, "with --golden: write nothing, fail (exit 2) with a diff when a golden file is stale")
	f.BoolVar(&o.instances, "instances", false, "render the chart for every HelmRelease made from it (all namespaces, or -n's), each with its own values")
	o.render.add(f)
	o.prod.add(f)
	f.StringArrayVarP(&o.show.ShowOnly, "show-only", "s", nil, "only show objects from these templates (repeatable, globs allowed)")
	outputFlag(cmd, &o.output, showFormats(), "")
	_ = cmd.RegisterFlagCompletionFunc("show-only", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return g.templatePaths(), cobra.ShellCompDirectiveNoFileComp
	})
	f.BoolVar(&o.show.SkipHooks, "skip-hooks", false, "leave Helm hooks out")
	f.BoolVar(&o.includeCRDs, "include-crds", true, "include the chart's crds/ directory")
	f.BoolVar(&o.show.ShowSecrets, "show-secrets", false, "print Secret data instead of masking it")
	f.BoolVar(&o.offline, "offline", false, "render without a cluster, like helm template")
	f.BoolVar(&o.deterministic, "deterministic", false, "seed the random functions (randAlphaNum, uuidv4, genCA, genPrivateKey, ...) and fix now, for golden files (never used by apply)")
	return g.declare(cmd, s)
}
