package iox

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// SymlinkLoop finds, under dir, a symbolic link to a directory that holds
// it (itself, or one above it): following it never ends, and Helm's loader
// then fails with a path of the link repeated hundreds of times. It
// returns the link, relative to dir, and what it points to as written.
func SymlinkLoop(dir string) (link, target string, found bool) {
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		resolved, err := filepath.EvalSymlinks(path)
		if err != nil {
			return nil
		}
		parent, err := filepath.EvalSymlinks(filepath.Dir(path))
		if err != nil {
			return nil
		}
		// The link's own directory lies within what it points to.
		if parent == resolved || strings.HasPrefix(parent, resolved+string(filepath.Separator)) {
			link, _ = filepath.Rel(dir, path)
			target, _ = os.Readlink(path)
			found = true
			return filepath.SkipAll
		}
		return nil
	})
	return link, target, found
}
