package cmd

import (
	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core/buildinfo"
	"github.com/spf13/cobra"
)

// Set at link time by the Makefile (-X); read-only afterwards.
var (
	version   = "dev"
	commit    = "unknown"
	buildDate = "unknown"
)

func newVersionCmd(g *globalOptions) *cobra.Command {
	var format string
	formats := []output.Format{output.Text, output.JSON, output.YAML}
	cmd := &cobra.Command{
		Use: "version",
		Example: `  cozyhr version
  cozyhr version -o yaml`,
		Short: "Print the version of cozyhr",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			f, err := output.Parse(format, formats...)
			if err != nil {
				return err
			}
			v := buildinfo.Version(buildinfo.VersionInfo{Version: version, Commit: commit, BuildDate: buildDate})
			return output.Version(g.streams.Out, v, f)
		},
	}
	outputFlag(cmd, &format, formats, "")
	return cmd
}
