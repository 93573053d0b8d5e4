package cmd

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/pluginlist"
)

type pluginsListOptions struct {
	output string
}

func newPluginsCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use: "plugins",
		Example: `  cozyhr plugins list
  cozyhr plugins list -o json`,
		Short: "Inspect post-processor and image builder plugins",
		Args:  cobra.NoArgs,
	}
	o := &pluginsListOptions{}
	formats := []output.Format{output.Table, output.JSON}
	list := &cobra.Command{
		Use:     "list",
		Example: `  cozyhr plugins list -o json`,
		Short:   "List built-ins and the plugins found, with their protocol versions",
		Long: `List the built-in post-processors and image builders, the plugins the chart's
.cozyhr.yaml names, and every cozyhr-plugin-NAME on the plugin search path
($COZYHR_PLUGINS_PATH, ~/.config/cozyhr/plugins, $PATH). Each plugin is
started once to negotiate its protocol version, then stopped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := output.Parse(o.output, formats...)
			if err != nil {
				return err
			}
			// Outside a chart (no .cozyhr.yaml) it lists what is found.
			var cfg *config.Chart
			if _, err := os.Stat(filepath.Join(g.chartDir, config.FileName)); err == nil || g.configFile != "" {
				if cfg, err = config.Load(config.LoadOptions{Dir: g.chartDir, File: g.configFile}); err != nil {
					return err
				}
			}
			entries := pluginlist.List(cmd.Context(), cfg, g.pluginHost())
			return output.Plugins(g.streams.Out, entries, format)
		},
	}
	outputFlag(list, &o.output, formats, "")
	cmd.AddCommand(list)
	return cmd
}
