package gitrev

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// ChangedFiles are the paths, relative to the repository's top, that differ
// between base and head; with head "" the working tree is the head, its
// uncommitted and untracked files included.
func (r *Repo) ChangedFiles(ctx context.Context, base, head string) ([]string, error) {
	args := []string{"diff", "--name-only", "--no-renames", "-z", base}
	if head != "" {
		args = append(args, head)
	}
	out, err := git(ctx, r.Root, args...)
	if err != nil {
		return nil, err
	}
	files := splitZ(out)
	if head == "" {
		untracked, err := git(ctx, r.Root, "ls-files", "--others", "--exclude-standard", "-z")
		if err != nil {
			return nil, err
		}
		files = append(files, splitZ(untracked)...)
	}
	sort.Strings(files)
	return slices.Compact(files), nil
}

func splitZ(s string) []string {
	var out []string
	for _, f := range strings.Split(s, "\x00") {
		if f != "" {
			out = append(out, filepath.FromSlash(f))
		}
	}
	return out
}

// ChartInputs are the paths, relative to the repository's top, whose
// change can change a chart's render: the chart directory, the directories
// its symlinks reach (a library chart linked under charts/), its file://
// dependencies, and extra files (values files .cozyhr.yaml names). A path
// ending in the separator is a directory.
func (r *Repo) ChartInputs(chartDir string, extra []string) ([]string, error) {
	var inputs []string
	seen := map[string]bool{}
	add := func(abs string, dir bool) {
		rel, err := filepath.Rel(r.Root, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return // outside the repository: git cannot say it changed
		}
		if dir {
			rel += string(filepath.Separator)
		}
		if !seen[rel] {
			seen[rel] = true
			inputs = append(inputs, rel)
		}
	}
	var walk func(dir string) error
	walk = func(dir string) error {
		add(dir, true)
		for _, dep := range fileDependencies(dir) {
			if abs, err := filepath.EvalSymlinks(filepath.Join(dir, dep)); err == nil && !seen[relOrEmpty(r.Root, abs)+string(filepath.Separator)] {
				if err := walk(abs); err != nil {
					return err
				}
			}
		}
		return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.Type()&fs.ModeSymlink == 0 {
				return err
			}
			target, err := filepath.EvalSymlinks(path)
			if err != nil {
				return nil // a dangling link: its render error says so
			}
			add(path, false) // the link itself may change
			if fi, err := os.Stat(target); err == nil && fi.IsDir() {
				if !seen[relOrEmpty(r.Root, target)+string(filepath.Separator)] {
					return walk(target)
				}
				return nil
			}
			add(target, false)
			return nil
		})
	}
	// Relative to the repository's top, which is absolute: a chart given
	// by a relative path (-R packages) is made absolute first.
	abs, err := filepath.Abs(chartDir)
	if err != nil {
		return nil, err
	}
	if abs, err = filepath.EvalSymlinks(abs); err != nil {
		return nil, err
	}
	if err := walk(abs); err != nil {
		return nil, err
	}
	for _, f := range extra {
		if !filepath.IsAbs(f) {
			f = filepath.Join(abs, f)
		}
		add(filepath.Clean(f), false)
	}
	return inputs, nil
}

// Touches reports whether a changed file is one of the inputs.
func Touches(inputs []string, file string) bool {
	for _, in := range inputs {
		if strings.HasSuffix(in, string(filepath.Separator)) && strings.HasPrefix(file, in) || file == in {
			return true
		}
	}
	return false
}

func relOrEmpty(root, path string) string {
	rel, err := filepath.Rel(root, path)
	if err != nil {
		return ""
	}
	return rel
}

// fileDependencies are the file:// repositories of Chart.yaml's
// dependencies, relative to the chart.
func fileDependencies(dir string) []string {
	data, err := os.ReadFile(filepath.Join(dir, "Chart.yaml"))
	if err != nil {
		return nil
	}
	var out []string
	for _, m := range fileRepository.FindAllStringSubmatch(string(data), -1) {
		out = append(out, strings.Trim(m[1], `"'`))
	}
	return out
}

var fileRepository = regexp.MustCompile(`(?m)repository:\s*["']?file://([^\s"']+)`)

// RemovedCharts are the chart directories (relative to the repository,
// slash-separated, outermost only) that have a Chart.yaml at base and none
// at head ("" for the working tree), nor inside a chart that head still
// has (a subchart taken out of a chart is that chart's change). With
// configured, only those that had a .cozyhr.yaml at base.
func (r *Repo) RemovedCharts(ctx context.Context, base, head string, configured bool) ([]string, error) {
	out, err := git(ctx, r.Root, "ls-tree", "-r", "-z", "--name-only", base)
	if err != nil {
		return nil, err
	}
	had := map[string]bool{}
	hadConfig := map[string]bool{}
	for _, f := range splitZ(out) {
		switch path.Base(f) {
		case "Chart.yaml":
			had[path.Dir(f)] = true
		case ".cozyhr.yaml":
			hadConfig[path.Dir(f)] = true
		}
	}
	var atHead map[string]bool
	if head != "" {
		out, err := git(ctx, r.Root, "ls-tree", "-r", "-z", "--name-only", head)
		if err != nil {
			return nil, err
		}
		atHead = map[string]bool{}
		for _, f := range splitZ(out) {
			if path.Base(f) == "Chart.yaml" {
				atHead[path.Dir(f)] = true
			}
		}
	}
	exists := func(dir string) bool {
		if atHead != nil {
			return atHead[dir]
		}
		_, err := os.Stat(filepath.Join(r.Root, filepath.FromSlash(dir), "Chart.yaml"))
		return err == nil
	}
	var removed []string
	for dir := range had {
		if exists(dir) || (configured && !hadConfig[dir]) {
			continue
		}
		outer := true
		for p := path.Dir(dir); outer && p != "." && p != "/"; p = path.Dir(p) {
			outer = !exists(p) && !had[p]
		}
		if outer {
			removed = append(removed, dir)
		}
	}
	sort.Strings(removed)
	return removed, nil
}
