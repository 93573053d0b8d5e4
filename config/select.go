package config

import (
	"fmt"
	"hash/fnv"
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
		charts = slices.DeleteFunc(charts, func(d string) bool { return !s.InShard(d) })
	}
	return charts, nil
}

// InShard reports whether the chart at path d (as the selection names it)
// is in the shard; every chart is without one. By a hash of the path: a
// chart stays in its shard when others are added or removed.
func (s Selection) InShard(d string) bool {
	k, n, err := ParseShard(s.Shard)
	if s.Shard == "" || err != nil {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(filepath.ToSlash(d)))
	return int(h.Sum32()%uint32(n)) == k-1
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
