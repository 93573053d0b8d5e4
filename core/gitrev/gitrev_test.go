package gitrev_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core/gitrev"
	"github.com/cozyhr/cozyhr/test/testgit"
)

// repo is a git repository the test writes and commits to.
type repo struct {
	*testgit.Repo
	t *testing.T
}

func newRepo(t *testing.T) *repo { return &repo{Repo: testgit.New(t), t: t} }

func (r *repo) open() *gitrev.Repo {
	r.t.Helper()
	g, err := gitrev.Open(context.Background(), r.Dir)
	if err != nil {
		r.t.Fatal(err)
	}
	return g
}

func TestOpenFindsTheTopFromBelow(t *testing.T) {
	r := newRepo(t)
	r.Write(map[string]string{"a/b/c.txt": "x"})
	g, err := gitrev.Open(context.Background(), filepath.Join(r.Dir, "a", "b"))
	if err != nil || g.Root != r.Dir {
		t.Fatalf("root %v, %v; want %s", g, err, r.Dir)
	}
	_, err = gitrev.Open(context.Background(), t.TempDir())
	var notRepo *gitrev.NotARepositoryError
	if !errors.As(err, &notRepo) || !strings.Contains(err.Error(), "not") {
		t.Errorf("outside a repository: %v", err)
	}
}

func TestResolveSaysWhatIsUnknown(t *testing.T) {
	r := newRepo(t)
	r.Write(map[string]string{"f": "1"})
	first := r.Commit("x")
	r.Git("tag", "v1")
	r.Write(map[string]string{"f": "2"})
	second := r.Commit("x")
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
	// A tree or a blob is named for what it is.
	tree := r.Git("rev-parse", "HEAD^{tree}")
	if _, err := g.Resolve(ctx, tree); !errors.As(err, &unknown) || unknown.Object != "tree" || !strings.Contains(err.Error(), "names a git tree, not a commit") {
		t.Errorf("a tree: %v", err)
	}
	blob := r.Git("rev-parse", "HEAD:f")
	if _, err := g.Resolve(ctx, blob); !errors.As(err, &unknown) || unknown.Object != "blob" {
		t.Errorf("a blob: %v", err)
	}
	// A name that git could read as an option is a revision, not an option.
	if _, err := g.Resolve(ctx, "--output=/tmp/x"); !errors.As(err, &unknown) {
		t.Errorf("an option-like revision: %v", err)
	}
}

func TestExtractWritesTheCommittedTreeWithItsLinks(t *testing.T) {
	r := newRepo(t)
	r.Write(map[string]string{"lib/templates/_h.tpl": "lib", "app/Chart.yaml": "name: app", "app/run.sh": "#!/bin/sh\n"})
	if err := os.Chmod(filepath.Join(r.Dir, "app/run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	r.Symlink("../../lib", "app/charts/lib")
	commit := r.Commit("x")
	r.Write(map[string]string{"app/Chart.yaml": "name: changed"})
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
	r.Write(map[string]string{"a.txt": "1", "b.txt": "1", "gone.txt": "1"})
	base := r.Commit("x")
	r.Write(map[string]string{"b.txt": "2"})
	head := r.Commit("x")
	r.Write(map[string]string{"a.txt": "2", "new/untracked.txt": "x"})
	if err := os.Remove(filepath.Join(r.Dir, "gone.txt")); err != nil {
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
	r.Write(map[string]string{
		"packages/app/Chart.yaml":    "apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n- name: common\n  repository: file://../../shared/common\n",
		"shared/common/Chart.yaml":   "apiVersion: v2\nname: common\nversion: 1.0.0\n",
		"library/lib/Chart.yaml":     "apiVersion: v2\nname: lib\nversion: 1.0.0\n",
		"values/app.yaml":            "a: 1\n",
		"packages/app/files/cfg.txt": "x",
		"outside-target.txt":         "y",
	})
	r.Symlink("../../../library/lib", "packages/app/charts/lib")
	r.Symlink("../../../outside-target.txt", "packages/app/files/link.txt")
	r.Symlink("../../nowhere", "packages/app/dangling")
	g := r.open()
	inputs, err := g.ChartInputs(filepath.Join(r.Dir, "packages/app"), []string{"../../values/app.yaml", "/elsewhere/not-in-repo.yaml"})
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
	if err := os.Chdir(r.Dir); err != nil {
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
	r.Write(map[string]string{
		"a/Chart.yaml": "name: a", "a/.cozyhr.yaml": "kind: Chart",
		"a/charts/sub/Chart.yaml": "name: sub",
		"b/Chart.yaml":            "name: b",
		"c/Chart.yaml":            "name: c", "c/charts/inner/Chart.yaml": "name: inner",
	})
	base := r.Commit("x")
	for _, p := range []string{"a", "b", "c/charts/inner"} {
		if err := os.RemoveAll(filepath.Join(r.Dir, p)); err != nil {
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
	head := r.Commit("x")
	committed, err := g.RemovedCharts(ctx, base, head, false)
	slices.Sort(committed)
	if err != nil || !slices.Equal(committed, []string{"a", "b"}) {
		t.Errorf("between commits: %q, %v", committed, err)
	}
}
