package review

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/cozyhr/cozyhr/core/gitrev"
	"github.com/cozyhr/cozyhr/core/lock"
)

// Trees are the trees of the revisions a run compares, each written once
// from git's objects into a directory of its own and shared by every chart
// of the run. Close removes them.
type Trees struct {
	mu sync.Mutex
	// base is where this run writes its trees, chosen with its first one,
	// when the trees dead runs left there are removed.
	base  string
	trees map[string]string // commit → directory
	dirs  []string
	// repos and commits spare a chart of a run over many the git
	// processes the charts before it already ran.
	repos   []*gitrev.Repo
	commits map[string]string // root NUL ref → commit
}

// Open is the repository dir is in: one found before when dir is below
// its top with no other repository (a .git) in between.
func (t *Trees) Open(ctx context.Context, dir string) (*gitrev.Repo, error) {
	t.mu.Lock()
	for _, repo := range t.repos {
		if within(repo.Root, dir) {
			t.mu.Unlock()
			return repo, nil
		}
	}
	t.mu.Unlock()
	repo, err := gitrev.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	t.repos = append(t.repos, repo)
	t.mu.Unlock()
	return repo, nil
}

// within reports whether dir is below root with no .git in between.
func within(root, dir string) bool {
	rel, err := filepath.Rel(root, dir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return false
	}
	for d := dir; d != root && len(d) > len(root); d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return false
		}
	}
	return true
}

// Resolve is the commit ref names in repo, asked of git once per run.
func (t *Trees) Resolve(ctx context.Context, repo *gitrev.Repo, ref string) (string, error) {
	key := repo.Root + "\x00" + ref
	t.mu.Lock()
	commit, ok := t.commits[key]
	t.mu.Unlock()
	if ok {
		return commit, nil
	}
	commit, err := repo.Resolve(ctx, ref)
	if err != nil {
		return "", err
	}
	t.mu.Lock()
	if t.commits == nil {
		t.commits = map[string]string{}
	}
	t.commits[key] = commit
	t.mu.Unlock()
	return commit, nil
}

// Tree is the directory holding commit's tree, written on first use.
func (t *Trees) Tree(ctx context.Context, repo *gitrev.Repo, commit string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if dir, ok := t.trees[commit]; ok {
		return dir, nil
	}
	if t.base == "" {
		t.base = treeBase()
		sweepDeadTrees(t.base)
	}
	parent, err := mkTreeDir(t.base)
	if err != nil {
		return "", err
	}
	t.dirs = append(t.dirs, parent)
	dir := filepath.Join(parent, "tree")
	if err := repo.Extract(ctx, commit, dir); err != nil {
		return "", err
	}
	if t.trees == nil {
		t.trees = map[string]string{}
	}
	t.trees[commit] = dir
	return dir, nil
}

// mkTreeDir makes the directory a revision tree is written in, under base
// (treeBase). Its owner file holds the pid of the run that made it, so that
// a later run can remove what a run killed before its Close left behind.
func mkTreeDir(base string) (string, error) {
	dir, err := os.MkdirTemp(base, treePrefix)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

const (
	treePrefix = "cozyhr-rev-"
	ownerFile  = "owner"
)

// treeBase is where revision trees are made: TMPDIR when set, else
// /dev/shm when it can be written, else the system's temporary directory.
// A tree is many small files, and creating them on a disk can cost more
// than rendering them (0.46 s against 0.01 s for 600 files on the machine
// docs/performance.md measures on).
func treeBase() string {
	if os.Getenv("TMPDIR") == "" {
		if probe, err := os.MkdirTemp("/dev/shm", treePrefix+"probe-"); err == nil {
			os.Remove(probe)
			return "/dev/shm"
		}
	}
	return os.TempDir()
}

// sweepDeadTrees removes the revision trees under base whose run has
// ended on this machine without removing them (killed, or crashed): the
// memory of /dev/shm is not given back until they go. A tree of a run
// still going, or whose owner cannot be told, is left alone.
func sweepDeadTrees(base string) {
	dirs, _ := filepath.Glob(filepath.Join(base, treePrefix+"*"))
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid == os.Getpid() || !lock.ProcessGone(pid) {
			continue
		}
		os.RemoveAll(dir)
	}
}

// Close removes every tree written.
func (t *Trees) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, d := range t.dirs {
		os.RemoveAll(d)
	}
	t.dirs, t.trees = nil, nil
}

// realPath resolves the symlinks of dir, or of its nearest parent that
// exists: a chart removed since the base is no longer in the working tree.
func realPath(dir string) (string, error) {
	real, err := filepath.EvalSymlinks(dir)
	if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(dir) == dir {
		return real, err
	}
	parent, err := realPath(filepath.Dir(dir))
	return filepath.Join(parent, filepath.Base(dir)), err
}

// existingParent is dir, or its nearest parent that exists.
func existingParent(dir string) string {
	for {
		if _, err := os.Stat(dir); err == nil || filepath.Dir(dir) == dir {
			return dir
		}
		dir = filepath.Dir(dir)
	}
}
