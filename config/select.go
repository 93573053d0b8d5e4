package config

import (
	"cmp"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Selection is how a run picks several charts: -C directories and globs,
// -R roots, -L labels, --shard.
type Selection struct {
	// Dirs are -C's values, repeatable, globs allowed.
	Dirs []string
	// Recursive are -R's roots; All takes charts without a .cozyhr.yaml.
	Recursive []string
	All       bool
	// Selector is -L as given; Matches decides whether a chart's labels
	// match it (the caller parses it; nil matches every chart).
	Selector string
	Matches  func(labels map[string]string) bool
	// Shard is --shard K/N, "" for every chart.
	Shard string
}

// Many reports whether the selection asks for a set of charts rather than
// one.
func (s Selection) Many() bool {
	return len(s.Recursive) > 0 || s.Selector != "" || len(s.UniqueDirs()) > 1 ||
		slices.ContainsFunc(s.Dirs, hasGlob)
}

// UniqueDirs are the -C values without repeats (shell completion parses
// the flags twice, and a repeated directory is still one chart).
func (s Selection) UniqueDirs() []string {
	var out []string
	for _, d := range s.Dirs {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// Charts are the selected chart directories, as the user would type them,
// each once: -C's, then those found below each -R root (the working
// directory when neither is given), those -L's labels match, in the shard.
// A shard may hold none, said by an empty list and no error.
func (s Selection) Charts() ([]string, error) {
	dirs, err := ExpandChartDirs(s.Dirs)
	if err != nil {
		return nil, err
	}
	roots := s.Recursive
	if len(roots) == 0 && len(s.Dirs) == 0 {
		roots = []string{"."}
	}
	for _, r := range roots {
		found, err := FindCharts(r, s.All)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			hint := ""
			if !s.All {
				hint = fmt.Sprintf("; --all also takes charts without a %s", FileName)
			}
			return nil, fmt.Errorf("-R %s: no chart below it has a Chart.yaml and a %s%s", r, FileName, hint)
		}
		dirs = append(dirs, found...)
	}
	var charts []string
	seen := map[string]bool{}
	for _, d := range dirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		if !seen[abs] {
			seen[abs] = true
			charts = append(charts, DisplayPath(d))
		}
	}
	if s.Matches != nil {
		charts = slices.DeleteFunc(charts, func(d string) bool {
			cfg, err := Load(LoadOptions{Dir: d})
			// A chart whose config is broken stays, so that its error shows.
			return err == nil && !s.Matches(cfg.Labels)
		})
		if len(charts) == 0 {
			return nil, fmt.Errorf("-L %s: no chart's %s labels match", s.Selector, FileName)
		}
	}
	if s.Shard != "" {
		if _, _, err := ParseShard(s.Shard); err != nil {
			return nil, err
		}
		charts = s.InShard(charts)
	}
	return charts, nil
}

// InShard keeps, of charts (as the selection names them), those of the
// selection's shard; all of them without one. The charts are split by
// their size on disk, the largest first, each to the shard with the least
// so far (ties to the lower shard, sizes to the path): so shards get about
// the same work, none is empty while another has two charts, and every
// shard, run on its own machine with the same files, makes the same split.
// (Run timings would weigh better, but each CI machine has its own.)
func (s Selection) InShard(charts []string) []string {
	k, n, err := ParseShard(s.Shard)
	if s.Shard == "" || err != nil {
		return charts
	}
	type sized struct {
		path string
		size int64
	}
	all := make([]sized, len(charts))
	for i, c := range charts {
		all[i] = sized{c, max(SizeOnDisk(c), 1)}
	}
	slices.SortFunc(all, func(a, b sized) int {
		if a.size != b.size {
			return cmp.Compare(b.size, a.size)
		}
		return cmp.Compare(filepath.ToSlash(a.path), filepath.ToSlash(b.path))
	})
	load := make([]int64, n)
	mine := map[string]bool{}
	for _, c := range all {
		least := slices.Index(load, slices.Min(load))
		load[least] += c.size
		if least == k-1 {
			mine[c.path] = true
		}
	}
	return slices.DeleteFunc(slices.Clone(charts), func(c string) bool { return !mine[c] })
}

// SizeOnDisk is what the files under dir hold, links not followed: a
// chart's cost before any run has timed it.
func SizeOnDisk(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				total += fi.Size()
			}
		}
		return nil
	})
	return total
}

// ParseShard reads K/N, 1 <= K <= N.
func ParseShard(s string) (k, n int, err error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, kerr := strconv.Atoi(ks)
	n, nerr := strconv.Atoi(ns)
	if !ok || kerr != nil || nerr != nil || n < 1 || k < 1 || k > n {
		return 0, 0, fmt.Errorf("--shard %q: give K/N with 1 <= K <= N, such as 2/4", s)
	}
	return k, n, nil
}

// DisplayPath is a path as the user would type it: relative to the
// working directory when inside it, else as given.
func DisplayPath(p string) string {
	if wd, err := os.Getwd(); err == nil {
		if abs, err := filepath.Abs(p); err == nil {
			if rel, err := filepath.Rel(wd, abs); err == nil && !strings.HasPrefix(rel, "..") {
				return rel
			}
		}
	}
	return filepath.Clean(p)
}

// Unplaced are the charts among dirs that no file gives a namespace (no
// .cozyhr.yaml, defaults file or Makefile NAMESPACE); a chart that does
// not load is left to its own run to say so.
func Unplaced(dirs []string) []string {
	var out []string
	for _, dir := range dirs {
		if cfg, err := Load(LoadOptions{Dir: dir}); err == nil && cfg.Release.Namespace == "" && cfg.HelmRelease.Namespace == "" {
			out = append(out, dir)
		}
	}
	return out
}
