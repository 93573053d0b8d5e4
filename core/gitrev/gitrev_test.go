package gitrev_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core/gitrev"
)

// repo is a git repository in a temporary directory.
type repo struct {
	t   *testing.T
	dir string
}

func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := &repo{t: t, dir: dir}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) write(files map[string]string) {
	r.t.Helper()
	for path, content := range files {
		full := filepath.Join(r.dir, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *repo) symlink(target, link string) {
	r.t.Helper()
	full := filepath.Join(r.dir, link)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.Symlink(target, full); err != nil {
		r.t.Fatal(err)
	}
}

func (r *repo) commit() string {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", "x")
	return r.git("rev-parse", "HEAD")
}

func (r *repo) open() *gitrev.Repo {
	r.t.Helper()
	g, err := gitrev.Open(context.Background(), filepath.Join(r.dir))
	if err != nil {
		r.t.Fatal(err)
	}
	return g
}

func TestOpenFindsTheTopFromBelow(t *testing.T) {
	r := newRepo(t)
	r.write(map[string]string{"a/b/c.txt": "x"})
	g, err := gitrev.Open(context.Background(), filepath.Join(r.dir, "a", "b"))
	if err != nil || g.Root != r.dir {
		t.Fatalf("root %v, %v; want %s", g, err, r.dir)
	}
	_, err = gitrev.Open(context.Background(), t.TempDir())
	var notRepo *gitrev.NotARepositoryError
	if !errors.As(err, &notRepo) || !strings.Contains(err.Error(), "not") {
		t.Errorf("outside a repository: %v", err)
	}
}

func TestResolveSaysWhatIsUnknown(t *testing.T) {
	r := newRepo(t)
	r.write(map[string]string{"f": "1"})
	first := r.commit()
	r.git("tag", "v1")
	r.write(map[string]string{"f": "2"})
	second := r.commit()
	g := r.open()
	ctx := context.Background()
	for ref, want := range map[string]string{"main": second, "HEAD~1": first, "v1": first, first[:10]: first} {
		if got, err := g.Resolve(ctx, ref); err != nil || got != want {
			t.Errorf("%s: %s, %v; want %s", ref, got, err, want)
		}
	}
	_, err := g.Resolve(ctx, "no-such")
	var unknown *gitrev.UnknownRevisionError
	if !errors.As(err, &unknown) || unknown.Shallow || !strings.Contains(err.Error(), `unknown revision "no-such"`) {
		t.Errorf("unknown: %v", err)
	}
	// A name that git could read as an option is a revision, not an option.
	if _, err := g.Resolve(ctx, "--output=/tmp/x"); !errors.As(err, &unknown) {
		t.Errorf("an option-like revision: %v", err)
	}
}

func TestExtractWritesTheCommittedTreeWithItsLinks(t *testing.T) {
	r := newRepo(t)
	r.write(map[string]string{"lib/templates/_h.tpl": "lib", "app/Chart.yaml": "name: app", "app/run.sh": "#!/bin/sh\n"})
	if err := os.Chmod(filepath.Join(r.dir, "app/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.symlink("../../lib", "app/charts/lib")
	commit := r.commit()
	r.write(map[string]string{"app/Chart.yaml": "name: changed"})
	dst := filepath.Join(t.TempDir(), "tree")
	if err := r.open().Extract(context.Background(), commit, dst); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dst, "app/Chart.yaml")); err != nil || string(data) != "name: app" {
		t.Errorf("Chart.yaml: %q, %v (the committed content, not the working tree's)", data, err)
	}
	if target, err := os.Readlink(filepath.Join(dst, "app/charts/lib")); err != nil || target != "../../lib" {
		t.Errorf("the link: %q, %v", target, err)
	}
	if data, err := os.ReadFile(filepath.Join(dst, "app/charts/lib/templates/_h.tpl")); err != nil || string(data) != "lib" {
		t.Errorf("through the link inside the tree: %q, %v", data, err)
	}
	if fi, err := os.Stat(filepath.Join(dst, "app/run.sh")); err != nil || fi.Mode().Perm()&0o100 == 0 {
		t.Errorf("run.sh lost its mode: %v, %v", fi, err)
	}
	if err := r.open().Extract(context.Background(), "0000000000000000000000000000000000000000", filepath.Join(t.TempDir(), "x")); err == nil {
		t.Error("extracting a commit that does not exist succeeded")
	}
}

func TestChangedFilesIncludeUncommittedAndUntrackedFiles(t *testing.T) {
	r := newRepo(t)
	r.write(map[string]string{"a.txt": "1", "b.txt": "1", "gone.txt": "1"})
	base := r.commit()
	r.write(map[string]string{"b.txt": "2"})
	head := r.commit()
	r.write(map[string]string{"a.txt": "2", "new/untracked.txt": "x"})
	if err := os.Remove(filepath.Join(r.dir, "gone.txt")); err != nil {
		t.Fatal(err)
	}
	g := r.open()
	ctx := context.Background()
	between, err := g.ChangedFiles(ctx, base, head)
	if err != nil || !slices.Equal(between, []string{"b.txt"}) {
		t.Errorf("between commits: %q, %v", between, err)
	}
	working, err := g.ChangedFiles(ctx, base, "")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(working)
	if want := []string{"a.txt", "b.txt", "gone.txt", filepath.Join("new", "untracked.txt")}; !slices.Equal(working, want) {
		t.Errorf("against the working tree: %q, want %q", working, want)
	}
}

func TestChartInputsFollowLinksAndFileDependencies(t *testing.T) {
	r := newRepo(t)
	r.write(map[string]string{
		"packages/app/Chart.yaml":    "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: common\n  repository: file://../../shared/common\n",
		"shared/common/Chart.yaml":   "apiVersion: v2\nname: common\nversion: 1.0.0\n",
		"library/lib/Chart.yaml":     "apiVersion: v2\nname: lib\nversion: 1.0.0\n",
		"values/app.yaml":            "a: 1\n",
		"packages/app/files/cfg.txt": "x",
		"outside-target.txt":         "y",
	})
	r.symlink("../../../library/lib", "packages/app/charts/lib")
	r.symlink("../../../outside-target.txt", "packages/app/files/link.txt")
	r.symlink("../../nowhere", "packages/app/dangling")
	g := r.open()
	inputs, err := g.ChartInputs(filepath.Join(r.dir, "packages/app"), []string{"../../values/app.yaml", "/elsewhere/not-in-repo.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	sep := string(filepath.Separator)
	for _, want := range []string{
		"packages" + sep + "app" + sep, "shared" + sep + "common" + sep, "library" + sep + "lib" + sep,
		filepath.Join("packages", "app", "charts", "lib"), filepath.Join("packages", "app", "files", "link.txt"),
		"outside-target.txt", filepath.Join("values", "app.yaml"),
	} {
		if !slices.Contains(inputs, want) {
			t.Errorf("inputs lack %q: %q", want, inputs)
		}
	}
	for _, in := range inputs {
		if strings.Contains(in, "not-in-repo") || strings.Contains(in, "nowhere") {
			t.Errorf("an input git cannot see: %q", in)
		}
	}
	// Relative to the working directory works as well as absolute.
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	if err := os.Chdir(r.dir); err != nil {
		t.Fatal(err)
	}
	rel, err := g.ChartInputs("packages/app", nil)
	if err != nil || !slices.Contains(rel, "library"+sep+"lib"+sep) {
		t.Errorf("relative chart path: %q, %v", rel, err)
	}
}

func TestTouches(t *testing.T) {
	sep := string(filepath.Separator)
	inputs := []string{"packages" + sep + "app" + sep, "values.yaml"}
	for file, want := range map[string]bool{
		filepath.Join("packages", "app", "Chart.yaml"): true,
		filepath.Join("packages", "application", "x"):  false,
		"values.yaml":      true,
		"values.yaml.orig": false,
		"other":            false,
	} {
		if got := gitrev.Touches(inputs, file); got != want {
			t.Errorf("Touches(%q) = %v", file, got)
		}
	}
}

func TestRemovedChartsAreTheOutermostGone(t *testing.T) {
	r := newRepo(t)
	r.write(map[string]string{
		"a/Chart.yaml": "name: a", "a/.cozyhr.yaml": "kind: Chart",
		"a/charts/sub/Chart.yaml": "name: sub",
		"b/Chart.yaml":            "name: b",
		"c/Chart.yaml":            "name: c", "c/charts/inner/Chart.yaml": "name: inner",
	})
	base := r.commit()
	for _, p := range []string{"a", "b", "c/charts/inner"} {
		if err := os.RemoveAll(filepath.Join(r.dir, p)); err != nil {
			t.Fatal(err)
		}
	}
	g := r.open()
	ctx := context.Background()
	removed, err := g.RemovedCharts(ctx, base, "", false)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(removed)
	// a's subchart goes with a; c's subchart is c's own change.
	if !slices.Equal(removed, []string{"a", "b"}) {
		t.Errorf("removed %q", removed)
	}
	configured, err := g.RemovedCharts(ctx, base, "", true)
	if err != nil || !slices.Equal(configured, []string{"a"}) {
		t.Errorf("removed with a .cozyhr.yaml: %q, %v", configured, err)
	}
	head := r.commit()
	committed, err := g.RemovedCharts(ctx, base, head, false)
	slices.Sort(committed)
	if err != nil || !slices.Equal(committed, []string{"a", "b"}) {
		t.Errorf("between commits: %q, %v", committed, err)
	}
}
