package cmd

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// fleetFlags are apply's and resume's --instances, --canary and --yes.
type fleetFlags struct {
	instances bool
	canary    int
	yes       bool
}

func (f *fleetFlags) add(cmd *cobra.Command, verb string) {
	cmd.Flags().BoolVar(&f.instances, "instances", false, verb+" every HelmRelease made from this chart (all namespaces, or -n's), each as itself")
	cmd.Flags().BoolVar(&f.yes, "yes", false, "with --instances: do not ask before touching more than one release")
	if verb == "apply to" {
		cmd.Flags().IntVar(&f.canary, "canary", 0, "with --instances: apply to N instances first, waiting until they are ready, and stop if any of them fails or does not become ready")
	}
}

// confirm asks on a terminal before touching several releases; elsewhere
// it says to add --yes.
func (g *globalOptions) confirm(what string) error {
	f, ok := g.streams.In.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return fmt.Errorf("%s: add --yes to go on without a terminal to confirm on", what)
	}
	fmt.Fprintf(g.streams.ErrOut, "%s. Go on? [y/N] ", what)
	answer, _ := bufio.NewReader(f).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return fmt.Errorf("not confirmed: nothing was done")
	}
	return nil
}
