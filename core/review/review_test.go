package review_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/gitrev"
	"github.com/cozyhr/cozyhr/core/review"
)

// reviewOf reviews dir between base and head with a fresh set of trees,
// removed when the test ends.
func reviewOf(t *testing.T, dir, base, head string) (*review.Chart, error) {
	t.Helper()
	trees := &review.Trees{}
	t.Cleanup(trees.Close)
	return trees.Review(context.Background(), dir, review.Options{Base: base, Head: head})
}

// counts is a result's additions, changes and removals.
func counts(r *core.DiffResult) [3]int {
	a, c, d := r.Counts()
	return [3]int{a, c, d}
}

func TestReviewShowsAValueChangeAndNotTheRandomOnes(t *testing.T) {
	r := newRepo(t)
	r.Write(merge(chart("charts/app", "hello"), configured("charts/app", "app", "apps", "")))
	base := r.Commit("app")
	r.Write(map[string]string{"charts/app/values.yaml": "greeting: bonjour\nreplicas: 1\n"})

	rev, err := reviewOf(t, r.Path("charts/app"), "main", "")
	if err != nil {
		t.Fatal(err)
	}
	if rev.Base.Commit != base || rev.Base.Ref != "main" || !rev.Base.Exists {
		t.Errorf("base side: %+v, want main at %s", rev.Base, base)
	}
	if rev.Head.Ref != "" || rev.Head.Commit != "" || !rev.Head.Exists || rev.Head.String() != "the working tree" {
		t.Errorf("head side: %+v (%s), want the working tree", rev.Head, rev.Head)
	}
	if rev.Path != "charts/app" || rev.Release != "app" || rev.Namespace != "apps" {
		t.Errorf("chart: path %q release %q namespace %q", rev.Path, rev.Release, rev.Namespace)
	}
	if len(rev.Cases) != 1 || rev.Cases[0].Name != "" {
		t.Fatalf("cases: %+v, want the default values alone", rev.Cases)
	}
	res := rev.Cases[0].Result
	if got := counts(res); got != [3]int{0, 1, 0} {
		t.Fatalf("counts %v, want one change", got)
	}
	c := res.Changes[0]
	if c.Ref.Kind != "ConfigMap" || c.Ref.Name != "app-greeting" || c.Ref.Namespace != "apps" {
		t.Errorf("changed %s, want ConfigMap apps/app-greeting", c.Ref)
	}
	// Only the greeting: the seeded token is the same on both sides.
	if len(c.Report.Diffs) != 1 || !strings.Contains(c.Report.Diffs[0].Path.String(), "greeting") {
		t.Errorf("fields changed: %v, want data.greeting alone", c.Report.Diffs)
	}
	if err := rev.Err(); err != nil {
		t.Errorf("Err: %v", err)
	}
}

func TestReviewOfAnUnchangedChartFindsNothing(t *testing.T) {
	r := newRepo(t)
	r.Write(chart("app", "hello"))
	r.Commit("app")
	r.Write(map[string]string{"README.md": "not read by the chart\n"})
	rev, err := reviewOf(t, r.Path("app"), "HEAD", "")
	if err != nil {
		t.Fatal(err)
	}
	if res := rev.Cases[0].Result; res.HasChanges() || res.Unchanged != 1 {
		t.Errorf("changes %v, unchanged %d: want none and one unchanged object", counts(res), res.Unchanged)
	}
	if rev.Release != "app" {
		t.Errorf("release %q: without a .cozyhr.yaml the chart names it", rev.Release)
	}
}

func TestReviewBetweenTwoCommits(t *testing.T) {
	r := newRepo(t)
	r.Write(chart("app", "hello"))
	first := r.Commit("one")
	r.Write(map[string]string{"app/values.yaml": "greeting: hello\nreplicas: 2\n"})
	second := r.Commit("two")
	// The working tree changes again: a review between commits ignores it.
	r.Write(map[string]string{"app/values.yaml": "greeting: changed\nreplicas: 9\n"})

	rev, err := reviewOf(t, r.Path("app"), first, second)
	if err != nil {
		t.Fatal(err)
	}
	if rev.Head.Commit != second || rev.Head.String() != second+", "+review.Short(second) {
		t.Errorf("head: %+v", rev.Head)
	}
	res := rev.Cases[0].Result
	if counts(res) != [3]int{0, 1, 0} || !strings.Contains(res.Changes[0].Report.Diffs[0].Path.String(), "replicas") {
		t.Errorf("want data.replicas changed alone, got %v", res.Changes)
	}
}

func TestReviewComparesEveryValueCaseEitherSideNames(t *testing.T) {
	r := newRepo(t)
	r.Write(merge(chart("app", "hello"), configured("app", "app", "apps", "cases:\n  ha:\n    values:\n      replicas: 3\n")))
	r.Commit("ha")
	r.Write(configured("app", "app", "apps", "cases:\n  ha:\n    values:\n      replicas: 4\n  big:\n    values:\n      replicas: 10\n"))

	rev, err := reviewOf(t, r.Path("app"), "HEAD", "")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range rev.Cases {
		names = append(names, c.Name)
	}
	if strings.Join(names, ",") != ",big,ha" {
		t.Fatalf("cases %q, want the default values, then big and ha", names)
	}
	byName := map[string]*core.DiffResult{}
	for _, c := range rev.Cases {
		byName[c.Name] = c.Result
	}
	if got := counts(byName[""]); got != [3]int{} {
		t.Errorf("default values: %v, want no change", got)
	}
	if got := counts(byName["ha"]); got != [3]int{0, 1, 0} {
		t.Errorf("case ha: %v, want the replicas changed", got)
	}
	// A case only the head names is added whole.
	if got := counts(byName["big"]); got != [3]int{1, 0, 0} {
		t.Errorf("case big: %v, want its object added", got)
	}
	if all := counts(rev.Changes()); all != [3]int{1, 1, 0} {
		t.Errorf("all cases: %v", all)
	}
}

func TestReviewOfAnAddedAndARemovedChart(t *testing.T) {
	r := newRepo(t)
	r.Write(chart("old", "bye"))
	r.Write(map[string]string{"keep.txt": "x\n"})
	r.Commit("old")
	r.Remove("old")
	r.Write(chart("new", "hi"))

	added, err := reviewOf(t, r.Path("new"), "HEAD", "")
	if err != nil {
		t.Fatal(err)
	}
	if added.Base.Exists || !added.Head.Exists || counts(added.Cases[0].Result) != [3]int{1, 0, 0} {
		t.Errorf("added chart: base %+v head %+v counts %v", added.Base, added.Head, counts(added.Cases[0].Result))
	}
	// The removed chart is no longer in the working tree: its path still
	// reviews, as a whole removal named by the base.
	removed, err := reviewOf(t, r.Path("old"), "HEAD", "")
	if err != nil {
		t.Fatal(err)
	}
	if !removed.Base.Exists || removed.Head.Exists || counts(removed.Cases[0].Result) != [3]int{0, 0, 1} || removed.Release != "old" {
		t.Errorf("removed chart: base %+v head %+v counts %v release %q", removed.Base, removed.Head, counts(removed.Cases[0].Result), removed.Release)
	}
	_, err = reviewOf(t, r.Path("neither"), "HEAD", "")
	if err == nil || !strings.Contains(err.Error(), "neither is a chart at neither HEAD nor the working tree") {
		t.Errorf("a path that is a chart on no side: %v", err)
	}
}

func TestReviewSaysEachSideThatDoesNotRender(t *testing.T) {
	r := newRepo(t)
	files := chart("app", "hello")
	files["app/templates/broken.yaml"] = "{{ .Values.missing.field }}\n"
	r.Write(files)
	r.Commit("broken")

	// Fixed in the working tree: the base alone fails.
	r.Remove("app/templates/broken.yaml")
	rev, err := reviewOf(t, r.Path("app"), "HEAD", "")
	if err != nil {
		t.Fatal(err)
	}
	c := rev.Cases[0]
	if c.BaseErr == nil || c.HeadErr != nil || c.Result != nil {
		t.Fatalf("base error %v, head error %v, result %v: want the base alone to fail", c.BaseErr, c.HeadErr, c.Result)
	}
	if !strings.HasPrefix(c.BaseErr.Error(), "base (HEAD, ") || !strings.Contains(c.BaseErr.Error(), "does not render") {
		t.Errorf("base error names neither the side nor what failed: %v", c.BaseErr)
	}
	if !errors.Is(rev.Err(), c.BaseErr) || rev.Err().Error() != c.BaseErr.Error() {
		t.Errorf("Err: %v", rev.Err())
	}

	// Broken on both sides: both are said.
	r.Write(map[string]string{"app/templates/broken.yaml": "{{ .Values.other.field }}\n"})
	rev, err = reviewOf(t, r.Path("app"), "HEAD", "")
	if err != nil {
		t.Fatal(err)
	}
	c = rev.Cases[0]
	if c.BaseErr == nil || c.HeadErr == nil {
		t.Fatalf("base error %v, head error %v: want both", c.BaseErr, c.HeadErr)
	}
	if !strings.HasPrefix(c.HeadErr.Error(), "head (the working tree) does not render") {
		t.Errorf("head error: %v", c.HeadErr)
	}
	// Both are said, base first.
	if err := rev.Err(); !errors.Is(err, c.BaseErr) || !errors.Is(err, c.HeadErr) || !strings.HasPrefix(err.Error(), "base (HEAD, ") || !strings.Contains(err.Error(), "\nhead (the working tree) does not render") {
		t.Errorf("both sides: %v", err)
	}
}

func TestReviewOfAnUnknownRevision(t *testing.T) {
	r := newRepo(t)
	r.Write(chart("app", "hello"))
	r.Commit("app")
	_, err := reviewOf(t, r.Path("app"), "no-such-branch", "")
	var unknown *gitrev.UnknownRevisionError
	if !errors.As(err, &unknown) {
		t.Fatalf("want an unknown revision, got %v", err)
	}
}

func TestReviewOutsideARepository(t *testing.T) {
	dir := t.TempDir()
	for path, content := range chart("app", "hello") {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, path), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := reviewOf(t, filepath.Join(dir, "app"), "HEAD", "")
	var notRepo *gitrev.NotARepositoryError
	if !errors.As(err, &notRepo) {
		t.Fatalf("want not a repository, got %v", err)
	}
}

func TestReviewLoadsEachSideWithTheCallersConfiguration(t *testing.T) {
	r := newRepo(t)
	r.Write(chart("app", "hello"))
	r.Commit("app")
	var loaded []string
	trees := &review.Trees{}
	defer trees.Close()
	rev, err := trees.Review(context.Background(), r.Path("app"), review.Options{Base: "HEAD",
		Load: func(dir string) (*config.Chart, error) {
			loaded = append(loaded, dir)
			return config.Load(config.LoadOptions{Dir: dir, Overrides: map[string]any{"release.name": "renamed", "release.namespace": "elsewhere"}})
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(loaded) != 2 || loaded[1] != r.Path("app") || !strings.HasSuffix(loaded[0], filepath.Join("tree", "app")) {
		t.Errorf("loaded %q: want the base's tree, then the working tree", loaded)
	}
	if rev.Release != "renamed" || rev.Namespace != "elsewhere" {
		t.Errorf("release %s/%s: the caller's overrides name it", rev.Namespace, rev.Release)
	}
	if c := rev.Cases[0].Result.Changes; len(c) != 0 {
		t.Errorf("same overrides on both sides changed %v", c)
	}
}

func TestTreesWriteEachCommitOnceAndRemoveThem(t *testing.T) {
	r := newRepo(t)
	r.Write(chart("app", "hello"))
	commit := r.Commit("app")
	ctx := context.Background()
	trees := &review.Trees{}
	repo, err := trees.Open(ctx, r.Path("app"))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := trees.Open(ctx, r.Path("app/templates")); again != repo {
		t.Error("a directory below the same top opened the repository again")
	}
	resolved, err := trees.Resolve(ctx, repo, "main")
	if err != nil || resolved != commit {
		t.Fatalf("resolve main: %s, %v", resolved, err)
	}
	one, err := trees.Tree(ctx, repo, commit)
	if err != nil {
		t.Fatal(err)
	}
	two, _ := trees.Tree(ctx, repo, commit)
	if one != two {
		t.Errorf("the same commit written twice: %s and %s", one, two)
	}
	if _, err := os.Stat(filepath.Join(one, "app", "Chart.yaml")); err != nil {
		t.Errorf("tree lacks the chart: %v", err)
	}
	trees.Close()
	if _, err := os.Stat(one); !os.IsNotExist(err) {
		t.Errorf("tree %s left behind after Close: %v", one, err)
	}
}

func TestShortAbbreviatesCommits(t *testing.T) {
	for in, want := range map[string]string{"": "", "abc": "abc", "0123456789abcdef": "0123456789ab"} {
		if got := review.Short(in); got != want {
			t.Errorf("Short(%q) = %q, want %q", in, got, want)
		}
	}
}

// A chart's review says its first failure, base before head and case by
// case, and counts the changes of the cases that compared.
func TestAChartsErrAndChangesOverItsCases(t *testing.T) {
	baseErr, headErr := errors.New("base failed"), errors.New("head failed")
	change := core.ObjectDiff{Action: core.ActionChange}
	add := core.ObjectDiff{Action: core.ActionAdd}
	c := &review.Chart{Cases: []review.Case{
		{Name: "", Result: &core.DiffResult{Changes: []core.ObjectDiff{change}}},
		{Name: "ha", HeadErr: headErr},
		{Name: "small", BaseErr: baseErr, HeadErr: headErr},
		{Name: "tiny", Result: &core.DiffResult{Changes: []core.ObjectDiff{add, change}}},
	}}
	if err := c.Err(); !errors.Is(err, headErr) || err.Error() != "head failed" {
		t.Errorf("Err %v: the first failing case's", err)
	}
	c.Cases[1].HeadErr = nil
	if err := c.Err(); !errors.Is(err, baseErr) || !errors.Is(err, headErr) || err.Error() != "base failed\nhead failed" {
		t.Errorf("Err %v: both sides, base first", err)
	}
	if got := counts(c.Changes()); got != [3]int{1, 2, 0} {
		t.Errorf("changes over the cases that compared: %v", got)
	}
	if err := (&review.Chart{}).Err(); err != nil {
		t.Errorf("no cases: %v", err)
	}
	for side, want := range map[review.Side]string{
		{Name: "base", Ref: "main", Commit: "0123456789abcdef0123"}: "main, 0123456789ab",
		{Name: "head"}: "the working tree",
	} {
		if side.String() != want {
			t.Errorf("%+v: %q, want %q", side, side.String(), want)
		}
	}
}

// A committed symbolic link that points outside the repository is read as
// it is on this machine now, not as the revision held it: the review says
// so, once per revision side; a link inside the repository is fine.
func TestReviewWarnsOfLinksOutsideTheRepository(t *testing.T) {
	r := newRepo(t)
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "extra.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Write(merge(chart("charts/app", "hello"), configured("charts/app", "app", "apps", "")))
	r.Symlink(filepath.Join(outside, "extra.yaml"), "charts/app/templates/extra.yaml")
	r.Symlink("../values.yaml", "charts/app/templates/inside.txt")
	r.Commit("app")
	rev, err := reviewOf(t, r.Path("charts/app"), "main", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rev.Warnings) != 1 || !strings.Contains(rev.Warnings[0], "charts/app/templates/extra.yaml -> "+outside) ||
		!strings.Contains(rev.Warnings[0], "base (main,") || !strings.Contains(rev.Warnings[0], "points outside the repository") {
		t.Errorf("warnings %q", rev.Warnings)
	}
}
