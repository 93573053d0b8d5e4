package post

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Target is where a review goes: a forge (github, gitlab or gitea), the
// repository (GitLab: the project's ID or path), the pull or merge
// request's number, and the API URL ("" for the forge's default, from
// the CI environment where it sets one).
type Target struct {
	Kind, Repo string
	Number     int
	API        string
}

// Forge is the target's comments API, its token read with getenv.
func (t Target) Forge(getenv func(string) string) (Forge, error) {
	if t.Repo == "" || t.Number <= 0 {
		return nil, errors.New("a review goes to one pull or merge request: name its repository (or GitLab project) and its number")
	}
	token := func(vars ...string) (string, error) {
		for _, v := range vars {
			if tok := getenv(v); tok != "" {
				return tok, nil
			}
		}
		return "", fmt.Errorf("no token for %s: set %s", t.Kind, vars[0])
	}
	switch t.Kind {
	case "github":
		tok, err := token("GITHUB_TOKEN", "GH_TOKEN")
		return GitHub(cmp.Or(t.API, getenv("GITHUB_API_URL"), "https://api.github.com"), t.Repo, t.Number, tok), err
	case "gitlab":
		tok, err := token("COZYHR_GITLAB_TOKEN", "GITLAB_TOKEN")
		return GitLab(cmp.Or(t.API, getenv("CI_API_V4_URL"), "https://gitlab.com/api/v4"), t.Repo, t.Number, tok), err
	case "gitea":
		if t.API == "" {
			return nil, errors.New("gitea has no default API URL: give https://HOST/api/v1")
		}
		tok, err := token("GITEA_TOKEN")
		return Gitea(t.API, t.Repo, t.Number, tok), err
	}
	return nil, fmt.Errorf("unknown forge %q: github, gitlab or gitea", t.Kind)
}

// ReadParts reads part-1.md, part-2.md, ... from dir, as a review split
// into comments was written there.
func ReadParts(dir string) ([]string, error) {
	var parts []string
	for i := 1; ; i++ {
		data, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("part-%d.md", i)))
		if err != nil {
			break
		}
		parts = append(parts, string(data))
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("%s holds no part-1.md: write the review there first", dir)
	}
	return parts, nil
}
