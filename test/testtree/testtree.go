// Package testtree copies a directory tree for a test to change freely.
package testtree

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Copy copies the tree at src to dst, every file writable. link, when
// set, says which entries become symbolic links, and to what: it is given
// each symlink of src (data nil) and each file (its data, for a file that
// holds a link's target: a git symlink checked out as a file); "" copies
// the entry as it is, a symlink as what it points to.
func Copy(t testing.TB, src, dst string, link func(path string, data []byte) string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if d.Type()&fs.ModeSymlink != 0 && link != nil {
			if to := link(path, nil); to != "" {
				return os.Symlink(to, target)
			}
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if link != nil {
			if to := link(path, data); to != "" {
				return os.Symlink(to, target)
			}
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
