package cmd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cozyhr/cozyhr/test/testtree"

	"github.com/cozyhr/cozyhr/cmd/output"
)

// corpusPackages is the real platform tree under ../shared/corpus, or skips.
func corpusPackages(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "corpus", "packages")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no corpus at %s", dir)
	}
	return dir
}

// gitLink is the target a file under charts/ holds when it is a git
// symlink checked out as a file (a relative path and nothing else).
func gitLink(path string, data []byte) string {
	if filepath.Base(filepath.Dir(path)) == "charts" && strings.HasPrefix(string(data), "../") && !strings.Contains(string(data), "\n") {
		return string(data)
	}
	return ""
}

// reviewed is what diff --base HEAD~1 --head HEAD reports over the tree, one
// line per changed object ("CHART: ACTION KIND NAMESPACE/NAME") and per
// failed chart ("CHART: error TEXT"), sorted.
func reviewed(t *testing.T) []string {
	t.Helper()
	r := cozyhrNoCluster(t, "-R", "packages", "--all", "diff", "--base", "HEAD~1", "--head", "HEAD", "-o", "json")
	var doc output.RunList
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatalf("exit %d, not one document: %v\n%s\n%s", r.code, err, r.out, r.err)
	}
	var got []string
	for _, it := range doc.Items {
		if it.Error != "" {
			got = append(got, it.Chart+": error "+strings.Join(strings.Fields(it.Error), " "))
		}
		for _, raw := range it.Reports {
			var rep output.JSONReport
			if err := json.Unmarshal(raw, &rep); err != nil {
				t.Fatal(err)
			}
			for _, c := range rep.Changes {
				hook := ""
				if c.Hook {
					hook = " (hook)"
				}
				got = append(got, fmt.Sprintf("%s: %s %s %s/%s%s", it.Chart, c.Action, c.Kind, c.Namespace, c.Name, hook))
			}
		}
	}
	slices.Sort(got)
	return got
}

// A replay of a platform repository's history, twelve commits, one per
// kind of change a review met on Cozystack's: for each commit, diff --base HEAD~1
// reports exactly the objects the change touches, no more and no fewer.
func TestReplayOfAPlatformHistory(t *testing.T) {
	corpus := corpusPackages(t)
	g := newGitRepo(t)
	testtree.Copy(t, corpus, filepath.Join(g.dir, "packages"), gitLink)
	// An application chart is named by its HelmRelease, in a tenant's
	// namespace (its Makefile sets no NAMESPACE): the tree's defaults file
	// says so, as the platform would.
	g.write("packages/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Defaults\ncharts:\n  - match: apps/*\n    release: {name: \"{dir}-cache\", namespace: tenant-root}\n")
	// A registry whose password is htpasswd'd, with a post-delete hook.
	g.write("packages/system/registry/Chart.yaml", "apiVersion: v2\nname: registry\nversion: 0.1.0\n")
	g.write("packages/system/registry/values.yaml", "user: admin\npassword: s3cret\n")
	g.write("packages/system/registry/templates/secret.yaml", `{{- $auth := htpasswd .Values.user .Values.password }}
apiVersion: v1
kind: Secret
metadata:
  name: registry-auth
  annotations:
    checksum/secret: {{ $auth | sha256sum }}
stringData:
  htpasswd: {{ $auth | quote }}
`)
	g.write("packages/system/registry/templates/cleanup.yaml", `apiVersion: batch/v1
kind: Job
metadata:
  name: registry-cleanup
  annotations:
    helm.sh/hook: post-delete
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: cleanup, image: busybox, args: [rm, -rf, /data]}]
`)
	// A chart that fails to render at every revision.
	g.write("packages/system/broken/Chart.yaml", "apiVersion: v2\nname: broken\nversion: 0.1.0\n")
	g.write("packages/system/broken/values.yaml", "a: 1\n")
	g.write("packages/system/broken/templates/cm.yaml", "{{ fail \"broken on purpose\" }}\n")
	g.commit("base")
	t.Chdir(g.dir)

	edit := func(path, old, new string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(g.dir, path))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), old) {
			t.Fatalf("%s lacks %q", path, old)
		}
		g.write(path, strings.Replace(string(data), old, new, 1))
	}
	appendTo := func(path, text string) {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(g.dir, path))
		if err != nil {
			t.Fatal(err)
		}
		g.write(path, string(data)+text)
	}
	steps := []struct {
		name   string
		change func()
		want   []string
	}{
		{"a library change reaches the chart linking it", func() {
			edit("packages/library/cozy-lib/templates/_rbac.tpl", "- kind: ServiceAccount\n  name: {{ . }}", "- kind: ServiceAccount\n  apiGroup: \"\"\n  name: {{ . }}")
		}, []string{"packages/apps/redis: change RoleBinding tenant-root/redis-cache-dashboard-resources"}},
		{"an application chart's values from the defaults file", func() {
			appendTo("packages/.cozyhr.yaml", "    values: {replicas: 3}\n")
		}, []string{"packages/apps/redis: change RedisFailover tenant-root/redis-cache", "packages/apps/redis: change WorkloadMonitor tenant-root/redis-cache-redis"}},
		{"a hook-only change", func() {
			edit("packages/system/registry/templates/cleanup.yaml", "args: [rm, -rf, /data]", "args: [rm, -rf, /data/registry]")
		}, []string{"packages/system/registry: change Job default/registry-cleanup (hook)"}},
		{"a chart with random values, untouched", func() {
			appendTo("packages/apps/redis/values.yaml", "# reviewed\n")
		}, nil},
		{"a chart with htpasswd, untouched", func() {
			appendTo("packages/system/registry/values.yaml", "# reviewed\n")
		}, nil},
		{"a chart added", func() {
			g.write("packages/apps/added/Chart.yaml", "apiVersion: v2\nname: added\nversion: 0.1.0\n")
			g.write("packages/apps/added/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: added, namespace: tenant-root}\n")
			g.write("packages/apps/added/values.yaml", "greeting: hello\n")
			g.write("packages/apps/added/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\ndata:\n  greeting: {{ .Values.greeting }}\n")
		}, []string{"packages/apps/added: add ConfigMap tenant-root/added"}},
		{"a chart removed", func() { g.git("rm", "-rq", "packages/system/multus") }, []string{
			"packages/system/multus: remove ClusterRole cozy-multus/multus",
			"packages/system/multus: remove ClusterRoleBinding cozy-multus/multus",
			"packages/system/multus: remove ConfigMap cozy-multus/multus-daemon-config",
			"packages/system/multus: remove CustomResourceDefinition /network-attachment-definitions.k8s.cni.cncf.io",
			"packages/system/multus: remove DaemonSet cozy-multus/cozy-multus",
			"packages/system/multus: remove ServiceAccount cozy-multus/multus",
		}},
		{"a CRD changed", func() {
			edit("packages/system/gateway-api-crds/templates/crds-experimental.yaml", "connects to a Backend via TLS.", "connects to a Backend via TLS (changed by the replay).")
		}, []string{"packages/system/gateway-api-crds: change CustomResourceDefinition /backendtlspolicies.gateway.networking.k8s.io"}},
		{"a values schema tightened", func() {
			edit("packages/apps/redis/values.schema.json", "\"type\": \"integer\",\n      \"default\": 2", "\"type\": \"integer\",\n      \"minimum\": 1,\n      \"default\": 2")
		}, nil},
		{"a values key renamed", func() {
			g.write("packages/apps/added/values.yaml", "message: hello\n")
			g.write("packages/apps/added/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\ndata:\n  greeting: {{ .Values.message }}\n")
		}, nil},
		{"a change larger than one comment", func() {
			g.write("packages/apps/added/templates/big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added-big\ndata:\n  big: |\n"+strings.Repeat("    a line of a generated file, long enough to matter\n", 2000))
		}, []string{"packages/apps/added: add ConfigMap tenant-root/added-big"}},
		{"an unchanged chart that fails at both sides", func() {
			appendTo("packages/system/broken/values.yaml", "# reviewed\n")
		}, []string{"packages/system/broken: error base (HEAD~1, %BASE%) does not render: render broken: execution error at (broken/templates/cm.yaml:1:3): broken on purpose " +
			"head (HEAD, %HEAD%) does not render: render broken: execution error at (broken/templates/cm.yaml:1:3): broken on purpose"}},
	}
	for _, s := range steps {
		s.change()
		head := g.commit(s.name)
		base := g.git("rev-parse", "HEAD~1")
		want := make([]string, len(s.want))
		for i, w := range s.want {
			want[i] = strings.NewReplacer("%BASE%", base[:12], "%HEAD%", head[:12]).Replace(w)
		}
		if got := reviewed(t); !slices.Equal(got, want) {
			t.Errorf("%s: the review reports\n  %s\nwant exactly\n  %s", s.name, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
	}
	// The large change still fits one comment, its object cut in place.
	md := cozyhrNoCluster(t, "-R", "packages", "--all", "diff", "--base", "HEAD~2", "--head", "HEAD~1", "-o", "markdown")
	if len(md.out) > output.CommentLimit || !strings.Contains(md.out, "<code>packages/apps/added</code>") || !strings.Contains(md.out, "of this object left out") {
		t.Errorf("the large change's comment: %d characters\n%.2000s", len(md.out), md.out)
	}
	// --parts writes numbered comments instead, each under the limit, and
	// takes away the parts of an earlier, longer review.
	parts := t.TempDir()
	put(t, filepath.Join(parts, "part-9.md"), "stale")
	r := cozyhrNoCluster(t, "-R", "packages", "--all", "diff", "--base", "HEAD~2", "--head", "HEAD~1", "-o", "markdown", "--parts", parts)
	files, _ := filepath.Glob(filepath.Join(parts, "part-*.md"))
	n := len(files)
	if r.code != 0 || r.out != "" || n < 2 || !strings.Contains(r.err, fmt.Sprintf("wrote the review as %d comment(s)", n)) {
		t.Fatalf("--parts: exit %d, files %v\n%s", r.code, files, r.err)
	}
	for i := range n {
		data, _ := os.ReadFile(filepath.Join(parts, fmt.Sprintf("part-%d.md", i+1)))
		if len(data) > output.CommentLimit || !strings.HasPrefix(string(data), fmt.Sprintf("<!-- cozyhr diff part %d/%d -->", i+1, n)) {
			t.Errorf("part %d: %d characters, starts %.40q", i+1, len(data), data)
		}
	}
}

// post puts the parts --parts wrote on a pull request and, run again,
// finds and keeps the same comments (the requests of each forge are golden
// in core/post).
func TestPostPutsTheReviewOnAPullRequest(t *testing.T) {
	var mu sync.Mutex
	comments, next := map[int]string{}, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer t0k" {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		var in struct{ Body string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Get("page") == "1":
			var out []map[string]any
			for id, body := range comments {
				out = append(out, map[string]any{"id": id, "body": body})
			}
			_ = json.NewEncoder(w).Encode(out)
		case r.Method == http.MethodGet:
			_, _ = w.Write([]byte("[]"))
		case r.Method == http.MethodPost && r.URL.Path == "/repos/o/r/issues/7/comments":
			next++
			comments[next] = in.Body
		default:
			var id int
			if _, err := fmt.Sscanf(r.URL.Path, "/repos/o/r/issues/comments/%d", &id); err != nil {
				http.NotFound(w, r)
				return
			}
			comments[id] = in.Body
		}
	}))
	defer srv.Close()
	parts := t.TempDir()
	put(t, filepath.Join(parts, "part-1.md"), "<!-- cozyhr diff part 1/2 -->\none\n")
	put(t, filepath.Join(parts, "part-2.md"), "<!-- cozyhr diff part 2/2 -->\ntwo\n")
	t.Setenv("GITHUB_TOKEN", "t0k")
	args := []string{"post", parts, "--github", "o/r", "--number", "7", "--api-url", srv.URL}
	if r := cozyhrNoCluster(t, args...); r.code != 0 || !strings.Contains(r.err, "posted 2 part(s): 2 created") {
		t.Fatalf("first post: exit %d\n%s", r.code, r.err)
	}
	put(t, filepath.Join(parts, "part-2.md"), "<!-- cozyhr diff part 2/2 -->\ntwo, changed\n")
	if r := cozyhrNoCluster(t, args...); r.code != 0 || !strings.Contains(r.err, "0 created, 1 updated, 1 unchanged, 0 deleted") {
		t.Fatalf("second post: exit %d\n%s", r.code, r.err)
	}
	if len(comments) != 2 || !strings.Contains(comments[2], "two, changed") {
		t.Errorf("comments: %v", comments)
	}
	if r := cozyhrNoCluster(t, "post", parts, "--number", "7"); r.code != 1 || !strings.Contains(r.err, "--github, --gitlab or --gitea") {
		t.Errorf("no forge: exit %d\n%s", r.code, r.err)
	}
}
