package config

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	yaml "go.yaml.in/yaml/v3"
)

// FindCharts lists the chart directories under root, sorted: every
// directory with a Chart.yaml and, unless all, a .cozyhr.yaml (with all, a
// library chart without one is left out: it is no release). A chart a
// defaults file above it gives settings counts as having one. It does not
// descend into hidden directories or a chart's charts/, where vendored
// subcharts live: they are parts of their umbrella chart, not charts of
// their own.
func FindCharts(root string, all bool) ([]string, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("-R %s: %w", root, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("-R %s: not a directory: -R takes a directory to search for charts", root)
	}
	var dirs []string
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			return nil
		}
		if p != root && d.Name()[0] == '.' {
			return filepath.SkipDir
		}
		if filepath.Base(p) == "charts" && isFile(filepath.Join(filepath.Dir(p), "Chart.yaml")) {
			return filepath.SkipDir
		}
		if isFile(filepath.Join(p, "Chart.yaml")) && (all || isFile(filepath.Join(p, FileName)) || byDefaults(p)) {
			// With --all a library chart would render to nothing: it is
			// never a release of its own, only linked into others.
			if !isFile(filepath.Join(p, FileName)) && isLibrary(filepath.Join(p, "Chart.yaml")) {
				return nil
			}
			dirs = append(dirs, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("-R %s: %w", root, err)
	}
	slices.Sort(dirs)
	return dirs, nil
}

// ExpandChartDirs expands the glob patterns among -C values (packages/*/);
// a pattern that matches no chart directory is an error, not silence.
func ExpandChartDirs(patterns []string) ([]string, error) {
	var dirs []string
	for _, p := range patterns {
		if !hasGlob(p) {
			dirs = append(dirs, p)
			continue
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("-C %s: %w", p, err)
		}
		n := 0
		for _, m := range matches {
			if isFile(filepath.Join(m, "Chart.yaml")) {
				dirs = append(dirs, m)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("-C %s matches no chart directory (none with a Chart.yaml)", p)
		}
	}
	return dirs, nil
}

func hasGlob(p string) bool {
	for _, c := range p {
		switch c {
		case '*', '?', '[':
			return true
		}
	}
	return false
}

func isFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

// isLibrary reports whether a Chart.yaml says type: library.
func isLibrary(chartYAML string) bool {
	data, err := os.ReadFile(chartYAML)
	if err != nil {
		return false
	}
	var meta struct {
		Type string `yaml:"type"`
	}
	return yaml.Unmarshal(data, &meta) == nil && meta.Type == "library"
}

// byDefaults reports a chart without a .cozyhr.yaml that a defaults file
// above it gives settings: it counts as configured. A broken defaults file
// counts too, so that its error shows.
func byDefaults(dir string) bool {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	file, entry, err := defaultsFor(abs, filepath.Base(abs))
	return entry != nil || (file != "" && err != nil)
}
