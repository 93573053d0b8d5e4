package output

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/cozyhr/cozyhr/core/buildinfo"
	sigsyaml "sigs.k8s.io/yaml"
)

// Version prints what the binary is.
func Version(out io.Writer, v buildinfo.VersionInfo, f Format) error {
	switch f {
	case JSON:
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case YAML:
		data, err := sigsyaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = out.Write(data)
		return err
	}
	_, err := fmt.Fprintf(out, "cozyhr %s (commit %s, built %s, %s, helm %s, %s)\n", v.Version, v.Commit, v.BuildDate, v.GoVersion, v.Helm, v.Platform)
	return err
}
