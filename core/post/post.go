// Package post puts a review on a pull request or merge request as
// comments, and keeps them there: run again, it updates the same comments
// in place, adds the parts a longer review needs and deletes the parts a
// shorter one no longer has. Its comments are found by the marker each
// part begins with (<!-- cozyhr diff part K/N -->).
package post

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Comment is one comment of the conversation.
type Comment struct {
	ID   string
	Body string
}

// Forge is the comments API of one pull or merge request.
type Forge interface {
	List(ctx context.Context) ([]Comment, error)
	Create(ctx context.Context, body string) error
	Update(ctx context.Context, id, body string) error
	Delete(ctx context.Context, id string) error
}

// part reads the number of the review part a comment holds, 0 for none.
var part = regexp.MustCompile(`^<!-- cozyhr diff part (\d+)/\d+ -->`)

// Result counts what Sync did.
type Result struct{ Created, Updated, Deleted, Unchanged int }

// Sync makes the conversation hold parts, and no other review part: the
// comment holding part K is updated (left alone when it says the same),
// missing parts are created, and parts beyond the review are deleted.
func Sync(ctx context.Context, f Forge, parts []string) (Result, error) {
	var res Result
	comments, err := f.List(ctx)
	if err != nil {
		return res, fmt.Errorf("list comments: %w", err)
	}
	ours := map[int]Comment{}
	for _, c := range comments {
		if m := part.FindStringSubmatch(c.Body); m != nil {
			n, _ := strconv.Atoi(m[1])
			if _, dup := ours[n]; !dup {
				ours[n] = c
				continue
			}
			// A second comment for one part (two runs at once): it goes.
			if err := f.Delete(ctx, c.ID); err != nil {
				return res, fmt.Errorf("delete comment %s: %w", c.ID, err)
			}
			res.Deleted++
		}
	}
	for i, body := range parts {
		c, ok := ours[i+1]
		switch {
		case !ok:
			if err := f.Create(ctx, body); err != nil {
				return res, fmt.Errorf("create part %d: %w", i+1, err)
			}
			res.Created++
		case c.Body == body:
			res.Unchanged++
		default:
			if err := f.Update(ctx, c.ID, body); err != nil {
				return res, fmt.Errorf("update part %d (comment %s): %w", i+1, c.ID, err)
			}
			res.Updated++
		}
	}
	for _, n := range slices.Sorted(maps.Keys(ours)) {
		if c := ours[n]; n > len(parts) {
			if err := f.Delete(ctx, c.ID); err != nil {
				return res, fmt.Errorf("delete part %d (comment %s): %w", n, c.ID, err)
			}
			res.Deleted++
		}
	}
	return res, nil
}

// REST is a forge whose comments API is JSON over HTTP: GitHub, GitLab
// and Gitea differ only in paths, the update verb and how a token is sent.
type REST struct {
	Client *http.Client
	// List and Create are the collection's URL; Item gives one comment's.
	ListURL, CreateURL string
	Item               func(id string) string
	UpdateMethod       string
	// Auth sets the token on a request.
	Auth func(*http.Request)
}

// GitHub is a pull request's conversation on GitHub (or GitHub
// Enterprise: api is its API URL); repo is OWNER/NAME.
func GitHub(api, repo string, number int, token string) *REST {
	base := strings.TrimSuffix(api, "/") + "/repos/" + repo + "/issues"
	return &REST{ListURL: fmt.Sprintf("%s/%d/comments?per_page=100", base, number), CreateURL: fmt.Sprintf("%s/%d/comments", base, number),
		Item: func(id string) string { return base + "/comments/" + id }, UpdateMethod: http.MethodPatch,
		Auth: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }}
}

// GitLab is a merge request's notes; api is the v4 API URL
// (CI_API_V4_URL), project its ID or path.
func GitLab(api, project string, iid int, token string) *REST {
	base := fmt.Sprintf("%s/projects/%s/merge_requests/%d/notes", strings.TrimSuffix(api, "/"), url.PathEscape(project), iid)
	return &REST{ListURL: base + "?per_page=100", CreateURL: base,
		Item: func(id string) string { return base + "/" + id }, UpdateMethod: http.MethodPut,
		Auth: func(r *http.Request) { r.Header.Set("PRIVATE-TOKEN", token) }}
}

// Gitea is a pull request's conversation on Gitea (or Forgejo); api is
// its API URL (https://HOST/api/v1), repo OWNER/NAME.
func Gitea(api, repo string, number int, token string) *REST {
	base := strings.TrimSuffix(api, "/") + "/repos/" + repo + "/issues"
	return &REST{ListURL: fmt.Sprintf("%s/%d/comments", base, number), CreateURL: fmt.Sprintf("%s/%d/comments", base, number),
		Item: func(id string) string { return base + "/comments/" + id }, UpdateMethod: http.MethodPatch,
		Auth: func(r *http.Request) { r.Header.Set("Authorization", "token "+token) }}
}

// List implements Forge: every page.
func (f *REST) List(ctx context.Context) ([]Comment, error) {
	var out []Comment
	for page := 1; ; page++ {
		sep := "?"
		if strings.Contains(f.ListURL, "?") {
			sep = "&"
		}
		var items []struct {
			ID   json.Number `json:"id"`
			Body string      `json:"body"`
		}
		if err := f.do(ctx, http.MethodGet, f.ListURL+sep+"page="+strconv.Itoa(page), nil, &items); err != nil {
			return nil, err
		}
		for _, it := range items {
			out = append(out, Comment{ID: it.ID.String(), Body: it.Body})
		}
		if len(items) == 0 || page == 100 {
			return out, nil
		}
	}
}

// Create implements Forge.
func (f *REST) Create(ctx context.Context, body string) error {
	return f.do(ctx, http.MethodPost, f.CreateURL, map[string]string{"body": body}, nil)
}

// Update implements Forge.
func (f *REST) Update(ctx context.Context, id, body string) error {
	return f.do(ctx, f.UpdateMethod, f.Item(id), map[string]string{"body": body}, nil)
}

// Delete implements Forge.
func (f *REST) Delete(ctx context.Context, id string) error {
	return f.do(ctx, http.MethodDelete, f.Item(id), nil, nil)
}

func (f *REST) do(ctx context.Context, method, target string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	f.Auth(req)
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: %s: %s", method, req.URL.Path, resp.Status, strings.TrimSpace(string(msg)))
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
