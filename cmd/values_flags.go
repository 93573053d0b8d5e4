package cmd

import (
	"github.com/spf13/pflag"

	"github.com/cozyhr/cozyhr/core"
)

// addValueFlags registers Helm's value flags.
func addValueFlags(fs *pflag.FlagSet, v *core.ValueOverrides) {
	fs.StringArrayVarP(&v.Files, "values", "f", nil, "values file applied after the HelmRelease and .cozyhr.yaml values (repeatable)")
	fs.StringArrayVar(&v.Values, "set", nil, "set values on the command line, applied last (key1=val1,key2=val2)")
	fs.StringArrayVar(&v.StringValues, "set-string", nil, "set STRING values on the command line, applied last")
}

// renderFlags are the flags of every command that renders.
type renderFlags struct {
	values      core.ValueOverrides
	kubeVersion string
	apiVersions []string
}

func (r *renderFlags) add(fs *pflag.FlagSet) {
	addValueFlags(fs, &r.values)
	fs.StringVar(&r.kubeVersion, "kube-version", "", "Kubernetes version for .Capabilities when offline")
	fs.StringSliceVarP(&r.apiVersions, "api-versions", "a", nil, "extra API versions for .Capabilities when offline")
}

func (r *renderFlags) options() core.RenderOptions {
	return core.RenderOptions{Values: r.values, KubeVersion: r.kubeVersion, APIVersions: r.apiVersions}
}
