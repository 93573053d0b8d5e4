package cmd

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/spf13/cobra"
	sigsyaml "sigs.k8s.io/yaml"
)

// Set at link time by the Makefile (-X); read-only afterwards.
var (
	version   = "dev"
	commit    = "unknown"
	buildDate = "unknown"
)

// VersionInfo describes the binary.
type VersionInfo struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	BuildDate string `json:"buildDate"`
	GoVersion string `json:"goVersion"`
	Helm      string `json:"helm"`
	Platform  string `json:"platform"`
}

func currentVersion() VersionInfo {
	v := VersionInfo{Version: version, Commit: commit, BuildDate: buildDate, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH, Helm: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			if dep.Path == "helm.sh/helm/v4" {
				v.Helm = dep.Version
			}
		}
		// A plain go build (or go install) carries no -X values, but Go
		// records the module version and the VCS state itself.
		if v.Version == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && v.Commit == "unknown":
				v.Commit = s.Value
				if len(v.Commit) > 12 {
					v.Commit = v.Commit[:12]
				}
			case s.Key == "vcs.time" && v.BuildDate == "unknown":
				v.BuildDate = s.Value
			case s.Key == "vcs.modified" && s.Value == "true" && v.Version == "dev":
				v.Version = "dev-dirty"
			}
		}
	}
	return v
}

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
			v := currentVersion()
			switch f {
			case output.JSON:
				enc := json.NewEncoder(g.streams.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(v)
			case output.YAML:
				data, err := sigsyaml.Marshal(v)
				if err != nil {
					return err
				}
				_, err = g.streams.Out.Write(data)
				return err
			default:
				_, err := fmt.Fprintf(g.streams.Out, "cozyhr %s (commit %s, built %s, %s, helm %s, %s)\n", v.Version, v.Commit, v.BuildDate, v.GoVersion, v.Helm, v.Platform)
				return err
			}
		},
	}
	outputFlag(cmd, &format, formats, "")
	return cmd
}
