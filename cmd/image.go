package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/upstream"
)

func newImageCmd(g *globalOptions) *cobra.Command {
	o := upstream.ImageOptions{}
	s := &spec{hooked: true, overMany: true}
	cmd := &cobra.Command{
		Use: "image [NAME...]",
		Example: `  cozyhr image                       # build and push every image, write digests into values.yaml
  cozyhr image controller --push=false`,
		Short: "Build and push the chart's images, write their digests into values.yaml (replaces make image)",
		Long: `Build each image .cozyhr.yaml declares (or the NAMEs given) with its builder
(buildah by default: daemonless; buildx with Docker; or an image builder plugin),
push it, read its digest back from the registry, and write repository and
TAG@sha256:DIGEST into values.yaml at the declared paths.

values.yaml is edited in place: only the changed values differ, every comment,
key order, quote and blank line stays. It is written once, atomically, after all
images were pushed: a failed build leaves it untouched. --push=false only
builds (buildah keeps the image in containers-storage; --load loads a buildx
build into Docker) and writes nothing.`,
		ValidArgsFunction: func(cmd *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
			// Not g.workspace: completing must not run hooks.
			cfg, err := config.Load(config.LoadOptions{Dir: g.chartDir, File: g.configFile})
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []string
			for _, img := range cfg.Images {
				names = append(names, img.Name)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: g.runE(s, nil, func(r *run) error {
			o := o // each chart's run has its own copy
			o.Names = r.args
			w, err := r.workspace(true, nil)
			if err != nil {
				return err
			}
			results, err := upstream.BuildImages(r.ctx, w.Config, w.Plugins, o, r.streams.ErrOut)
			if err != nil {
				return err
			}
			output.Images(r.streams.Out, results)
			var all []string
			for _, img := range results {
				all = append(all, img.Name+"="+img.Reference+"@"+img.Digest)
				r.hookEnv("IMAGE_NAME", img.Name)
				r.hookEnv("IMAGE_REF", img.Reference)
				r.hookEnv("IMAGE_DIGEST", img.Digest)
			}
			r.hookEnv("IMAGES", strings.Join(all, " "))
			return nil
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.Push, "push", true, "push and write the digests; false only builds")
	f.BoolVar(&o.Load, "load", false, "load the image into the local image store (buildx: docker)")
	f.BoolVar(&o.PlainHTTP, "plain-http", false, "the registry speaks HTTP, not HTTPS (local registries)")
	return g.declare(cmd, s)
}
