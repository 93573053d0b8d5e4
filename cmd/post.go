package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/cozyhr/cozyhr/core/post"
)

func newPostCmd(g *globalOptions) *cobra.Command {
	var t post.Target
	repos := map[string]*string{} // the flag each forge is named by
	cmd := &cobra.Command{
		Use:   "post DIR",
		Short: "Post a review (diff -o markdown --parts DIR) on a pull or merge request, updating its earlier comments",
		Long: `Put the parts diff -o markdown --parts DIR wrote on a pull or merge request as comments; run again, it
updates them in place by their markers, adds parts and deletes stale ones, never touching others.
Token: GITHUB_TOKEN, COZYHR_GITLAB_TOKEN (or GITLAB_TOKEN), GITEA_TOKEN.`,
		Example: `  cozyhr -R packages diff --base origin/main -o markdown --parts review
  cozyhr post review --gitlab "$CI_PROJECT_ID" --number "$CI_MERGE_REQUEST_IID"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for kind, repo := range repos {
				if *repo != "" {
					t.Kind, t.Repo = kind, *repo
				}
			}
			f, err := t.Forge(os.Getenv)
			if err != nil {
				return fmt.Errorf("%w (--github, --gitlab or --gitea, --number, --api-url)", err)
			}
			parts, err := post.ReadParts(args[0])
			if err != nil {
				return fmt.Errorf("%w with diff -o markdown --parts %s", err, args[0])
			}
			res, err := post.Sync(cmd.Context(), f, parts)
			if err != nil {
				return err
			}
			fmt.Fprintf(g.streams.ErrOut, "cozyhr: posted %d part(s): %d created, %d updated, %d unchanged, %d deleted\n", len(parts), res.Created, res.Updated, res.Unchanged, res.Deleted)
			return nil
		},
	}
	for _, kind := range []string{"github", "gitlab", "gitea"} {
		repos[kind] = cmd.Flags().String(kind, "", "the "+kind+" repository, `OWNER/REPO` (GitLab: the project's ID or path)")
	}
	cmd.MarkFlagsMutuallyExclusive("github", "gitlab", "gitea")
	cmd.Flags().IntVar(&t.Number, "number", 0, "the pull or merge request's number (GitLab: its IID)")
	cmd.Flags().StringVar(&t.API, "api-url", "", "the forge's API URL (default: GITHUB_API_URL or api.github.com, CI_API_V4_URL or gitlab.com/api/v4; Gitea: required)")
	return cmd
}
