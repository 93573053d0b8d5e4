package post

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden request logs")

// standIn is a forge's comments API in memory: it serves one
// conversation, holding a comment of somebody else's, and records every
// request it gets.
type standIn struct {
	mu       sync.Mutex
	comments map[int]string
	next     int
	log      []string
	// list and item are the paths of the collection and of one comment
	// (with %d for its ID); auth the header a request must carry.
	list, item, authKey, authValue string
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	var in struct{ Body string }
	_ = json.Unmarshal(body, &in)
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	if in.Body != "" {
		line += " " + strings.SplitN(in.Body, "\n", 2)[0]
	}
	s.log = append(s.log, line)
	if r.Header.Get(s.authKey) != s.authValue {
		http.Error(w, "bad token", http.StatusUnauthorized)
		return
	}
	switch {
	case r.URL.Path == s.list && r.Method == http.MethodGet:
		var out []map[string]any
		if r.URL.Query().Get("page") == "1" {
			ids := make([]int, 0, len(s.comments))
			for id := range s.comments {
				ids = append(ids, id)
			}
			sort.Ints(ids)
			for _, id := range ids {
				out = append(out, map[string]any{"id": id, "body": s.comments[id]})
			}
		}
		_ = json.NewEncoder(w).Encode(out)
	case r.URL.Path == s.list && r.Method == http.MethodPost:
		s.next++
		s.comments[s.next] = in.Body
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{"id": s.next})
	default:
		var id int
		if _, err := fmt.Sscanf(r.URL.Path, s.item, &id); err != nil || s.comments[id] == "" {
			http.NotFound(w, r)
			return
		}
		if r.Method == http.MethodDelete {
			delete(s.comments, id)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		s.comments[id] = in.Body
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id})
	}
}

func parts(n int, text string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("<!-- cozyhr diff part %d/%d -->\n### review\n%s %d\n", i+1, n, text, i+1)
	}
	return out
}

// Each forge gets the review as comments, found again by their markers:
// a second run with the same review writes nothing, a changed one updates
// the same comments, a shorter one deletes the parts it no longer has;
// somebody else's comment is never touched. The requests are golden.
func TestSyncKeepsOneSetOfCommentsOnEveryForge(t *testing.T) {
	for _, c := range []struct {
		name  string
		stand *standIn
		forge func(url string) *REST
	}{
		{"github", &standIn{list: "/repos/o/r/issues/7/comments", item: "/repos/o/r/issues/comments/%d", authKey: "Authorization", authValue: "Bearer t0k"},
			func(u string) *REST { return GitHub(u, "o/r", 7, "t0k") }},
		{"gitlab", &standIn{list: "/api/v4/projects/group/app/merge_requests/7/notes", item: "/api/v4/projects/group/app/merge_requests/7/notes/%d", authKey: "PRIVATE-TOKEN", authValue: "t0k"},
			func(u string) *REST { return GitLab(u+"/api/v4", "group/app", 7, "t0k") }},
		{"gitea", &standIn{list: "/api/v1/repos/o/r/issues/7/comments", item: "/api/v1/repos/o/r/issues/comments/%d", authKey: "Authorization", authValue: "token t0k"},
			func(u string) *REST { return Gitea(u+"/api/v1", "o/r", 7, "t0k") }},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.stand.comments, c.stand.next = map[int]string{1: "LGTM"}, 1
			srv := httptest.NewServer(c.stand)
			defer srv.Close()
			f := c.forge(srv.URL)
			ctx := context.Background()
			for _, step := range []struct {
				parts []string
				want  Result
			}{
				{parts(3, "first"), Result{Created: 3}},
				{parts(3, "first"), Result{Unchanged: 3}},
				{parts(3, "second"), Result{Updated: 3}},
				{parts(1, "third"), Result{Updated: 1, Deleted: 2}},
			} {
				c.stand.log = append(c.stand.log, "# sync "+strconv.Itoa(len(step.parts))+" part(s)")
				got, err := Sync(ctx, f, step.parts)
				if err != nil || got != step.want {
					t.Fatalf("sync: %+v, %v; want %+v", got, err, step.want)
				}
			}
			if len(c.stand.comments) != 2 || c.stand.comments[1] != "LGTM" {
				t.Errorf("comments left: %v", c.stand.comments)
			}
			golden := filepath.Join("testdata", c.name+".golden")
			got := strings.Join(c.stand.log, "\n") + "\n"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil || string(want) != got {
				t.Errorf("requests differ from %s (go test ./core/post -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

// A refused token is an error naming the request and the forge's answer.
func TestSyncSaysWhatTheForgeRefused(t *testing.T) {
	s := &standIn{comments: map[int]string{}, list: "/repos/o/r/issues/7/comments", item: "/repos/o/r/issues/comments/%d", authKey: "Authorization", authValue: "Bearer right"}
	srv := httptest.NewServer(s)
	defer srv.Close()
	_, err := Sync(context.Background(), GitHub(srv.URL, "o/r", 7, "wrong"), parts(1, "x"))
	if err == nil || !strings.Contains(err.Error(), "GET /repos/o/r/issues/7/comments: 401 Unauthorized: bad token") {
		t.Errorf("error %v", err)
	}
}

// A target names its forge, repository and number, and finds its token
// and default API URL in the environment.
func TestTargetFindsItsForge(t *testing.T) {
	env := map[string]string{"GITHUB_TOKEN": "gh", "CI_API_V4_URL": "https://gitlab.example/api/v4", "GITLAB_TOKEN": "gl"}
	getenv := func(k string) string { return env[k] }
	f, err := Target{Kind: "github", Repo: "o/r", Number: 7}.Forge(getenv)
	if err != nil || f.(*REST).ListURL != "https://api.github.com/repos/o/r/issues/7/comments?per_page=100" {
		t.Errorf("github: %+v, %v", f, err)
	}
	f, err = Target{Kind: "gitlab", Repo: "group/app", Number: 3}.Forge(getenv)
	if err != nil || f.(*REST).CreateURL != "https://gitlab.example/api/v4/projects/group%2Fapp/merge_requests/3/notes" {
		t.Errorf("gitlab: %+v, %v", f, err)
	}
	for _, c := range []struct {
		target Target
		want   string
	}{
		{Target{Kind: "gitea", Repo: "o/r", Number: 1}, "gitea has no default API URL"},
		{Target{Kind: "gitea", Repo: "o/r", Number: 1, API: "https://gitea.example/api/v1"}, "no token for gitea: set GITEA_TOKEN"},
		{Target{Kind: "github", Repo: "o/r"}, "name its repository (or GitLab project) and its number"},
		{Target{Kind: "bitbucket", Repo: "o/r", Number: 1}, `unknown forge "bitbucket"`},
	} {
		if _, err := c.target.Forge(getenv); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.target, err, c.want)
		}
	}
	dir := t.TempDir()
	if _, err := ReadParts(dir); err == nil || !strings.Contains(err.Error(), "holds no part-1.md") {
		t.Errorf("no parts: %v", err)
	}
}
