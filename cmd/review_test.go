package cmd

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// gitRepo is a chart repository built by the test, with a commit per
// revision.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	g := &gitRepo{t: t, dir: t.TempDir()}
	g.git("init", "-q", "-b", "main")
	return g
}

func (g *gitRepo) git(args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=cozyhr", "-c", "user.email=cozyhr@example.com"}, args...)...)
	cmd.Dir = g.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (g *gitRepo) write(path, content string) {
	g.t.Helper()
	put(g.t, filepath.Join(g.dir, path), content)
}

func (g *gitRepo) commit(msg string) string {
	g.t.Helper()
	g.git("add", "-A")
	g.git("commit", "-q", "-m", msg)
	return g.git("rev-parse", "HEAD")
}

// appChart writes an application chart that links the library chart by
// symlink, as platform repositories do.
func (g *gitRepo) appChart(name string) {
	g.t.Helper()
	g.write("apps/"+name+"/Chart.yaml", "apiVersion: v2\nname: "+name+"\nversion: 0.1.0\ndependencies:\n- name: lib\n  version: 0.1.0\n")
	g.write("apps/"+name+"/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: "+name+"\n  namespace: tenant-root\n")
	g.write("apps/"+name+"/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ include \"lib.greeting\" . }}\n")
	g.write("apps/"+name+"/templates/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-auth\nstringData:\n  password: {{ .Values.password | default \"s3cret\" }}\n")
	if err := os.MkdirAll(filepath.Join(g.dir, "apps", name, "charts"), 0o755); err != nil {
		g.t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "..", "library", "lib"), filepath.Join(g.dir, "apps", name, "charts", "lib")); err != nil {
		g.t.Fatal(err)
	}
}

// A change is reviewed between two revisions with no cluster: what it does
// to the rendered objects, a change in a linked library included, Secret
// data masked; the working tree is never touched.
func TestDiffBetweenRevisionsNeedsNoCluster(t *testing.T) {
	g := newGitRepo(t)
	g.write("library/lib/Chart.yaml", "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n")
	g.write("library/lib/templates/_greeting.tpl", `{{- define "lib.greeting" -}}hello{{- end -}}`+"\n")
	g.appChart("app")
	g.appChart("same")
	base := g.commit("base")
	g.write("library/lib/templates/_greeting.tpl", `{{- define "lib.greeting" -}}{{ .Release.Name }}-{{ .Values.greeting | default "hi" }}{{- end -}}`+"\n")
	g.write("apps/app/values.yaml", "password: changed\n")
	head := g.commit("head")
	app := filepath.Join(g.dir, "apps", "app")

	// No --kubeconfig: a review needs no cluster.
	r := cozyhrNoCluster(t, "-C", app, "diff", "--base", base, "--head", head, "--exit-code")
	if r.code != ExitChanges {
		t.Fatalf("exit %d, want 2\n%s%s", r.code, r.out, r.err)
	}
	for _, want := range []string{"ConfigMap tenant-root/app", "- hello", "+ app-hi", "Secret tenant-root/app-auth", "(masked, new value)", "Plan: 0 to add, 2 to change, 0 to delete"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("the review lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "changed") && strings.Contains(r.out, "Y2hhbmdlZA") {
		t.Errorf("Secret data printed:\n%s", r.out)
	}
	if !strings.Contains(r.err, "comparing "+base+" ("+base[:12]+") with "+head) {
		t.Errorf("the sides are not said:\n%s", r.err)
	}

	// The working tree by default, uncommitted changes included.
	g.write("apps/same/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: edited\n")
	r = cozyhrNoCluster(t, "-C", filepath.Join(g.dir, "apps", "same"), "diff", "--base", "main", "-o", "brief")
	if r.code != 0 || !strings.Contains(r.out, "ConfigMap  0    1       0") || !strings.Contains(r.err, "with the working tree, uncommitted changes included") {
		t.Errorf("working tree:\n%s%s", r.out, r.err)
	}
	if status := g.git("status", "--porcelain"); status != "M apps/same/templates/cm.yaml" {
		t.Errorf("the working tree changed: %q", status)
	}

	// A chart added since base is all additions.
	g.appChart("added")
	r = cozyhrNoCluster(t, "-C", filepath.Join(g.dir, "apps", "added"), "diff", "--base", base, "--exit-code")
	if r.code != ExitChanges || !strings.Contains(r.out, "+ ConfigMap tenant-root/added will be created") {
		t.Errorf("an added chart:\n%s%s", r.out, r.err)
	}
}

// What cannot be compared says why and what to do.
func TestDiffBetweenRevisionsBadInput(t *testing.T) {
	g := newGitRepo(t)
	g.write("library/lib/Chart.yaml", "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n")
	g.write("library/lib/templates/_greeting.tpl", `{{- define "lib.greeting" -}}hello{{- end -}}`+"\n")
	g.appChart("app")
	base := g.commit("base")
	app := filepath.Join(g.dir, "apps", "app")
	g.write("apps/app/templates/broken.yaml", `{{ fail "broken at head" }}`+"\n")
	notRepo := chartCopy(t, "review")
	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"an unknown revision", []string{"-C", app, "diff", "--base", "nope"}, []string{`unknown revision "nope"`, "git log"}},
		{"not a git repository", []string{"-C", notRepo, "diff", "--base", "main"}, []string{"is not in a git repository"}},
		{"a side that does not render", []string{"-C", app, "diff", "--base", base}, []string{"head (the working tree) does not render", "broken at head"}},
		{"head without base", []string{"-C", app, "diff", "--head", base}, []string{"--head goes with --base"}},
		{"base with --server-side", []string{"-C", app, "diff", "--base", base, "--server-side"}, []string{"--server-side compares with the cluster"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cozyhrNoCluster(t, c.args...)
			if r.code != ExitFailure {
				t.Errorf("exit %d, want 1\n%s", r.code, r.err)
			}
			for _, w := range c.want {
				if !strings.Contains(r.err, w) {
					t.Errorf("the message lacks %q:\n%s", w, r.err)
				}
			}
		})
	}
}

// cozyhrNoCluster runs the root command with a kubeconfig that names no
// cluster, so that any API request would fail.
func cozyhrNoCluster(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, kubeconfig, "apiVersion: v1\nkind: Config\n")
	err := Execute(context.Background(), append([]string{"--kubeconfig", kubeconfig}, args...), IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return result{out: out.String(), err: errOut.String(), code: ExitCode(err)}
}

// changed lists exactly the charts a change touches, a change in a linked
// library included; a changed path no chart reads is said, never dropped;
// diff --base over many charts compares only those.
func TestChangedListsTheChartsAChangeTouches(t *testing.T) {
	g := newGitRepo(t)
	g.write("library/lib/Chart.yaml", "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n")
	g.write("library/lib/templates/_greeting.tpl", `{{- define "lib.greeting" -}}hello{{- end -}}`+"\n")
	g.appChart("app")
	g.appChart("same")
	g.write("apps/plain/Chart.yaml", "apiVersion: v2\nname: plain\nversion: 0.1.0\n")
	g.write("apps/plain/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: plain\n")
	g.write("apps/valued/Chart.yaml", "apiVersion: v2\nname: valued\nversion: 0.1.0\n")
	g.write("apps/valued/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: valued\ndata:\n  v: {{ .Values.v | quote }}\n")
	g.write("apps/valued/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nvaluesFiles: [../../env/prod.yaml]\n")
	g.write("env/prod.yaml", "v: one\n")
	g.write("README.md", "charts\n")
	base := g.commit("base")
	// Only the library changes for app (and same, which links it too); the
	// values file outside valued's directory changes valued.
	g.write("library/lib/templates/_greeting.tpl", `{{- define "lib.greeting" -}}hi{{- end -}}`+"\n")
	g.write("env/prod.yaml", "v: two\n")
	g.write("README.md", "charts, reviewed\n")
	g.commit("head")
	g.write("notes.txt", "untracked\n")

	apps := filepath.Join(g.dir, "apps")
	r := cozyhrNoCluster(t, "-R", apps, "--all", "changed", "--base", base)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.err)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(r.out), "\n") {
		got = append(got, filepath.Base(l))
	}
	if strings.Join(got, " ") != "app same valued" {
		t.Errorf("changed = %q, want app same valued", got)
	}
	for _, want := range []string{"read by none of the selected charts: README.md", "read by none of the selected charts: notes.txt"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("an unattributed path is not said (%q):\n%s", want, r.err)
		}
	}
	js := cozyhrNoCluster(t, "-R", apps, "--all", "changed", "--base", base, "--head", "HEAD", "-o", "json")
	if !strings.Contains(js.out, `"unattributed": [`+"\n"+`    "README.md"`) || strings.Contains(js.out, "notes.txt") {
		t.Errorf("-o json with --head:\n%s", js.out)
	}

	// Shards split the charts stably: together they are the whole.
	var sharded []string
	for _, shard := range []string{"1/2", "2/2"} {
		out := cozyhrNoCluster(t, "-R", apps, "--all", "--shard", shard, "changed", "--base", base).out
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l != "" {
				sharded = append(sharded, filepath.Base(l))
			}
		}
	}
	sort.Strings(sharded)
	if strings.Join(sharded, " ") != "app same valued" {
		t.Errorf("shards 1/2 and 2/2 together: %v", sharded)
	}
	if bad := cozyhrNoCluster(t, "-R", apps, "--shard", "3/2", "changed", "--base", base); bad.code != 1 || !strings.Contains(bad.err, "1 <= K <= N") {
		t.Errorf("--shard 3/2: %s", bad.err)
	}

	// The same as one review comment.
	md := cozyhrNoCluster(t, "-R", apps, "--all", "diff", "--base", base, "-o", "markdown")
	if md.code != 0 {
		t.Fatalf("-o markdown: exit %d\n%s", md.code, md.err)
	}
	for _, want := range []string{"### cozyhr diff: " + base + " → the working tree", "| chart | added | changed | removed | flagged |",
		"<details><summary><code>" + filepath.Join(apps, "app"), "```diff", "data.greeting"} {
		if !strings.Contains(md.out, want) {
			t.Errorf("the comment lacks %q:\n%s", want, md.out)
		}
	}
	if strings.Contains(md.out, "==>") || strings.Count(md.out, "<details>") != 3 {
		t.Errorf("one comment with a section per changed chart:\n%s", md.out)
	}

	// diff --base over many charts compares the changed ones only.
	d := cozyhrNoCluster(t, "-R", apps, "--all", "diff", "--base", base, "--exit-code", "-o", "brief")
	if d.code != ExitChanges || !strings.Contains(d.err, "3 of 4 charts changed since "+base) || strings.Contains(d.out, "apps/plain") {
		t.Errorf("diff --base -R:\n%s\n%s", d.out, d.err)
	}
}
