// Package gitrev reads a chart repository at a git revision without
// touching the working tree: the revision's tree is written into a
// directory of its own, from git's objects.
package gitrev

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/cozyhr/cozyhr/core/iox"
)

// Repo is a git repository, by its top directory.
type Repo struct {
	Root string
}

// NotARepositoryError is a directory outside any git repository.
type NotARepositoryError struct{ Dir string }

func (e *NotARepositoryError) Error() string {
	return fmt.Sprintf("%s is not in a git repository: a diff between revisions reads the chart from git", e.Dir)
}

// UnknownRevisionError is a revision git does not know; Shallow says the
// clone is shallow, so the revision may exist but not have been fetched.
type UnknownRevisionError struct {
	Ref     string
	Shallow bool
	// Object is what git knows the name as when it is no commit: a tree
	// or a blob.
	Object string
}

func (e *UnknownRevisionError) Error() string {
	if e.Object != "" {
		return fmt.Sprintf("revision %q names a git %s, not a commit: give a branch, tag or commit that git log shows", e.Ref, e.Object)
	}
	if e.Shallow {
		return fmt.Sprintf("revision %q is not in this shallow clone: fetch it first (git fetch --unshallow, or git fetch origin %s; in CI, check out with full history, such as fetch-depth: 0)", e.Ref, e.Ref)
	}
	return fmt.Sprintf("unknown revision %q: give a branch, tag or commit that git log shows", e.Ref)
}

// Open finds the repository dir is in.
func Open(ctx context.Context, dir string) (*Repo, error) {
	out, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, &NotARepositoryError{Dir: dir}
	}
	root, err := filepath.EvalSymlinks(strings.TrimSpace(out))
	if err != nil {
		return nil, err
	}
	return &Repo{Root: root}, nil
}

// Resolve gives the commit a revision names.
func (r *Repo) Resolve(ctx context.Context, ref string) (string, error) {
	out, err := git(ctx, r.Root, "rev-parse", "--verify", "--quiet", "--end-of-options", ref+"^{commit}")
	if err != nil {
		shallow, _ := git(ctx, r.Root, "rev-parse", "--is-shallow-repository")
		object, _ := git(ctx, r.Root, "cat-file", "-t", "--end-of-options", ref)
		if object = strings.TrimSpace(object); object == "commit" || object == "tag" {
			object = "" // a tag of a tree, say: no commit either way
		}
		return "", &UnknownRevisionError{Ref: ref, Shallow: strings.TrimSpace(shallow) == "true", Object: object}
	}
	return strings.TrimSpace(out), nil
}

// Extract writes the tree of commit into dst (which must not exist yet):
// files with their modes and symlinks as committed, so that a library
// chart linked under charts/ resolves inside the extracted tree too.
func (r *Repo) Extract(ctx context.Context, commit, dst string) error {
	cmd := exec.CommandContext(ctx, "git", "archive", "--format=tar", commit)
	cmd.Dir = r.Root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git archive %s: %w", commit, err)
	}
	if err := untar(stdout, dst); err != nil {
		_ = cmd.Wait()
		return fmt.Errorf("extract %s: %w", commit, err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git archive %s: %v: %s", commit, err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

func untar(r io.Reader, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if filepath.IsAbs(name) || name == ".." || strings.HasPrefix(name, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%s: a path outside the tree", h.Name)
		}
		path := filepath.Join(dst, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
		case tar.TypeSymlink:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			if err := os.Symlink(h.Linkname, path); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := iox.WriteFrom(path, tr, os.FileMode(h.Mode)); err != nil {
				return err
			}
		}
	}
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

// LinksOutside are the symbolic links under dir, a directory of the tree
// extracted at root, that point outside that tree (an absolute path, or
// one that climbs out of it): a revision's copy follows them to what is on
// this machine now, not to anything the revision holds. Each is said as
// "PATH -> TARGET", PATH relative to root.
func LinksOutside(root, dir string) []string {
	var out []string
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		target, err := os.Readlink(path)
		if err != nil {
			return nil
		}
		resolved := target
		if !filepath.IsAbs(target) {
			resolved = filepath.Join(filepath.Dir(path), target)
		}
		if rel, err := filepath.Rel(root, resolved); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			from, _ := filepath.Rel(root, path)
			out = append(out, filepath.ToSlash(from)+" -> "+target)
		}
		return nil
	})
	return out
}
