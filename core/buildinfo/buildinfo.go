// Package buildinfo says which cozyhr this is: what the linker set, completed
// from what Go records in the binary.
package buildinfo

import (
	"runtime"
	"runtime/debug"
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

// Version completes what the linker set in linked (version, commit, build
// date; unset: "dev" and "unknown") with the Go version, the platform, the
// Helm library's version, and, for a plain go build, the module version
// and the VCS state Go records.
func Version(linked VersionInfo) VersionInfo {
	v := linked
	v.GoVersion, v.Platform, v.Helm = runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH, "unknown"
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
