package review_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cozyhr/cozyhr/core/review"
)

// A run killed before it removed its revision trees leaves them behind;
// the next run removes them before it writes its own, and leaves alone
// the trees of runs still going.
func TestTreesOfDeadRunsAreSwept(t *testing.T) {
	base := t.TempDir()
	t.Setenv("TMPDIR", base)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Skip("no true command to stand for a run that ended")
	}
	tree := func(name string, pid int) string {
		dir := filepath.Join(base, "cozyhr-rev-"+name)
		if err := os.MkdirAll(filepath.Join(dir, "tree"), 0o755); err != nil {
			t.Fatal(err)
		}
		if pid > 0 {
			if err := os.WriteFile(filepath.Join(dir, "owner"), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	left := tree("left-by-a-killed-run", dead.Process.Pid)
	running := tree("of-a-running-run", os.Getppid())
	unknown := tree("without-an-owner", 0)

	r := newRepo(t)
	r.Write(chart("app", "hello"))
	commit := r.Commit("app")
	trees := &review.Trees{}
	repo, err := trees.Open(context.Background(), r.Dir)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := trees.Tree(context.Background(), repo, commit)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the dead run's tree is still there: %v", err)
	}
	for _, kept := range []string{running, unknown} {
		if _, err := os.Stat(kept); err != nil {
			t.Errorf("%s was removed: %v", kept, err)
		}
	}
	owner, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "owner"))
	if err != nil || string(owner) != strconv.Itoa(os.Getpid())+"\n" {
		t.Errorf("this run's tree names its owner: %q, %v", owner, err)
	}
	trees.Close()
	if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Errorf("Close left %s", dir)
	}
}
