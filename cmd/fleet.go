package cmd

import (
	"github.com/spf13/cobra"
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
