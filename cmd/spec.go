package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/cmd/output"
)

// spec is what a command is, declared by the command where it is made
// (g.declare): the runs over many charts and instances, the hooks, NAME and
// the summary read it, never the command's name or its flags by name.
type spec struct {
	// stage names the command in hooks, timings and messages: its name.
	stage string
	// takesName: the positional NAME names the HelmRelease (and release).
	takesName bool
	// nameAnywhere: with NAME the command needs no chart directory.
	nameAnywhere bool
	// hooked: a stage whose .cozyhr.yaml pre and post hooks run.
	hooked bool
	// overMany: it runs over several selected charts (-C…, -R, -L).
	overMany bool
	// ordered: over many charts it follows dependencies; reverse puts
	// dependants first (delete).
	ordered, reverse bool
	// offline is the command's --offline, when it has one: a run over
	// many then reads no HelmRelease for the order.
	offline *bool
	// render are the command's render flags, when it renders: -f - is
	// read once for every chart of a run over many.
	render *renderFlags
	// fleet are apply's and resume's --instances, --canary and --yes.
	fleet *fleetFlags
	// machine says whether stdout carries YAML or JSON now, so that a run
	// over many writes no headers into it; yamlOut, whether YAML.
	machine func() (machine, yamlOut bool)
	// list, when it gives one, is the one document a run over many writes.
	list func() *output.RunList
}

// declare records what cmd is and returns it.
func (g *globalOptions) declare(cmd *cobra.Command, s *spec) *cobra.Command {
	s.stage = cmd.Name()
	if g.specs == nil {
		g.specs = map[*cobra.Command]*spec{}
	}
	g.specs[cmd] = s
	return cmd
}

// specOf is what cmd declared itself to be; nothing for a command that
// declared nothing (version, completion).
func (g *globalOptions) specOf(cmd *cobra.Command) *spec {
	if s, ok := g.specs[cmd]; ok {
		return s
	}
	return &spec{stage: cmd.Name()}
}

// outputFlag defines a command's -o over the formats it prints, its
// default first, and completes them.
func outputFlag(cmd *cobra.Command, p *string, formats []output.Format, note string) {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = string(f)
	}
	list := strings.Join(names, ", ")
	if n := len(names); n > 1 {
		list = strings.Join(names[:n-1], ", ") + " or " + names[n-1]
	}
	cmd.Flags().StringVarP(p, "output", "o", names[0], "output format: "+list+note)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(names, cobra.ShellCompDirectiveNoFileComp))
}

// machineOutput is a spec's machine for a command whose -o is p: YAML or
// JSON means machine output.
func machineOutput(p *string) func() (bool, bool) {
	return func() (bool, bool) {
		machine := *p == string(output.JSON) || *p == string(output.YAML)
		return machine, machine && *p != string(output.JSON)
	}
}
