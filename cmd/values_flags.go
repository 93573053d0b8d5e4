package cmd

import (
	"fmt"
	"io"
	"regexp"

	"github.com/spf13/pflag"
	"helm.sh/helm/v4/pkg/chart/common"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/snapshot"
	"github.com/cozyhr/cozyhr/core/values"
)

// addValueFlags registers Helm's value flags.
func addValueFlags(fs *pflag.FlagSet, v *values.Overrides) {
	fs.StringArrayVarP(&v.Files, "values", "f", nil, "values file applied after the HelmRelease and .cozyhr.yaml values (repeatable; - reads stdin, an http(s) URL is fetched)")
	fs.StringArrayVar(&v.JSONValues, "set-json", nil, "set JSON values on the command line (key1=jsonval1,key2=jsonval2)")
	fs.StringArrayVar(&v.Values, "set", nil, "set values on the command line, applied last (key1=val1,key2=val2)")
	fs.StringArrayVar(&v.StringValues, "set-string", nil, "set STRING values on the command line, applied last")
	fs.StringArrayVar(&v.FileValues, "set-file", nil, "set values from files (key1=path1,key2=path2)")
	fs.StringArrayVar(&v.LiteralValues, "set-literal", nil, "set a literal STRING value on the command line")
}

// apiVersion is what --api-versions takes, as .Capabilities.APIVersions
// holds it: [group/]version[/Kind].
var apiVersion = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?v[0-9]+((alpha|beta)[0-9]*)?(/[A-Z][A-Za-z0-9]*)?$`)

// renderFlags are the flags of every command that renders.
type renderFlags struct {
	values      values.Overrides
	kubeVersion string
	apiVersions []string
	// lookups is a file of objects that answer lookup offline.
	lookups string
	answers *snapshot.Answers
}

func (r *renderFlags) add(fs *pflag.FlagSet) {
	addValueFlags(fs, &r.values)
	fs.StringVar(&r.kubeVersion, "kube-version", "", "Kubernetes version for .Capabilities when offline")
	fs.StringSliceVarP(&r.apiVersions, "api-versions", "a", nil, "extra API versions for .Capabilities when offline")
	fs.StringVar(&r.lookups, "lookups", "", "offline: a YAML `FILE` of objects that answer the chart's lookup calls")
}

// validate checks the render flags alone; offline says the command renders
// without a cluster, the only case where the versions apply.
func (r *renderFlags) validate(offline bool) error {
	if r.lookups != "" && r.answers == nil {
		var err error
		if r.answers, err = snapshot.ReadObjects(r.lookups); err != nil {
			return fmt.Errorf("--lookups: %w", err)
		}
	}
	for _, v := range r.apiVersions {
		if !apiVersion.MatchString(v) {
			return fmt.Errorf("--api-versions %q is not an API version: give group/version (apps/v1, v1) or group/version/Kind (apps/v1/Deployment), comma-separated or repeated", v)
		}
	}
	if !offline && (r.kubeVersion != "" || len(r.apiVersions) > 0) {
		return fmt.Errorf("--kube-version and --api-versions set .Capabilities only with --offline; against a cluster its own versions are used (drop them, or add --offline)")
	}
	if r.kubeVersion != "" {
		if _, err := common.ParseKubeVersion(r.kubeVersion); err != nil {
			return fmt.Errorf("--kube-version %q: %w", r.kubeVersion, err)
		}
	}
	return nil
}

func (r *renderFlags) options(stdin io.Reader) core.RenderOptions {
	values := r.values
	values.Stdin = stdin
	return core.RenderOptions{Values: values, KubeVersion: r.kubeVersion, APIVersions: r.apiVersions, Lookups: r.answers}
}
