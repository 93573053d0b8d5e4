package cmd

import (
	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core/upstream"
	"github.com/spf13/cobra"
)

func newUpdateCmd(g *globalOptions) *cobra.Command {
	o := upstream.UpdateOptions{}
	s := &spec{hooked: true, overMany: true}
	cmd := &cobra.Command{
		Use: "update",
		Example: `  cozyhr update                      # fetch upstream into charts/, apply patches/
  cozyhr update --version 1.15.11 --dry-run`,
		SuggestFor: []string{"pull"},
		Short:      "Fetch the upstream chart, apply the patches, propagate its version (replaces make update)",
		Long: `Fetch the chart .cozyhr.yaml's upstream names (a Helm repository, an OCI
registry or a tarball), replace the vendored copy (default charts/<name>), apply
every patch (default patches/*.diff and *.patch, in name order) and write the
new version where upstream.propagate says.

It is all or nothing: everything happens on a staged copy first, so a patch that
does not apply leaves charts/ and every other file untouched, and the error names
the patch and hunk with the command to reproduce it.`,
		Args: cobra.NoArgs,
		RunE: g.runE(s, nil, func(r *run) error {
			w, err := r.workspace(true, nil)
			if err != nil {
				return err
			}
			res, err := upstream.Update(r.ctx, w.Config, o, r.streams.ErrOut)
			if err != nil {
				return err
			}
			output.Update(r.streams.Out, res)
			r.hookEnv("CHART_VERSION", res.NewVersion)
			r.hookEnv("APP_VERSION", res.AppVersion)
			r.hookEnv("OLD_CHART_VERSION", res.OldVersion)
			return nil
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.Version, "version", "", "chart version or semver range, overriding upstream's")
	f.BoolVar(&o.DryRun, "dry-run", false, "fetch and patch, report what would change, write nothing")
	f.BoolVar(&o.PlainHTTP, "plain-http", false, "use HTTP, not HTTPS, for an OCI registry")
	f.BoolVar(&o.InsecureSkipTLS, "insecure-skip-tls-verify", false, "skip TLS certificate checks of the chart download")
	f.StringVar(&o.Username, "username", "", "chart repository username")
	f.StringVar(&o.Password, "password", "", "chart repository password")
	return g.declare(cmd, s)
}
