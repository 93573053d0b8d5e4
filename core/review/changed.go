package review

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/gitrev"
)

// ChangeSet is which of the selected charts a change between two
// revisions touches, and the changed paths no selected chart reads.
type ChangeSet struct {
	Base         string   `json:"base"`
	Head         string   `json:"head"` // "" for the working tree
	Charts       []string `json:"charts"`
	Unattributed []string `json:"unattributed"`
	// Instances are, with a snapshot, each changed chart's instances in
	// it (namespace/name), by chart path.
	Instances map[string][]string `json:"instances,omitempty"`
}

// RemovedScope is where a run over many charts looks for charts removed
// since the base revision: below its roots, only charts that had a
// .cozyhr.yaml unless Unconfigured. No roots: a chart named alone is never
// removed.
type RemovedScope struct {
	// Roots are absolute directories, symlinks resolved.
	Roots []string
	// Configured keeps only charts that had a .cozyhr.yaml.
	Configured bool
}

// ScopeOf is where a run with this selection looks for removed charts:
// below -R's roots, or the working directory when no chart is named
// (nothing names one). -L selects by labels a removed chart
// no longer has, so there is none with it.
func ScopeOf(sel config.Selection, nothingNamed bool) RemovedScope {
	if sel.Selector != "" {
		return RemovedScope{}
	}
	roots := sel.Recursive
	if len(roots) == 0 && len(sel.Dirs) == 0 && nothingNamed {
		roots = []string{"."}
	}
	out := RemovedScope{Configured: !sel.All}
	for _, r := range roots {
		abs, err := filepath.Abs(r)
		if err != nil {
			continue
		}
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		out.Roots = append(out.Roots, abs)
	}
	return out
}

func (s RemovedScope) covers(dir string) bool {
	for _, r := range s.Roots {
		if rel, err := filepath.Rel(r, dir); err == nil && rel != ".." && !strings.HasPrefix(rel, "../") {
			return true
		}
	}
	return false
}

// ChangedIn is Changed for a run that selected dirs with sel (nothingNamed:
// no chart was named, so removed charts are looked for below the working
// directory). With a shard the change is read over every chart sel
// selects, so that the files the other shards' charts read are theirs
// rather than nobody's, and the charts of this shard are kept.
func ChangedIn(ctx context.Context, sel config.Selection, dirs []string, base, head string, nothingNamed bool) (*ChangeSet, error) {
	scope := ScopeOf(sel, nothingNamed)
	if sel.Shard == "" {
		return Changed(ctx, dirs, base, head, scope)
	}
	whole := sel
	whole.Shard = ""
	all, err := whole.Charts()
	if err != nil {
		return nil, err
	}
	cs, err := Changed(ctx, all, base, head, scope)
	if err != nil {
		return nil, err
	}
	// The changed charts are split, not the whole selection: each shard
	// gets its part of the work this change makes.
	cs.Charts = sel.InShard(cs.Charts)
	return cs, nil
}

// Changed finds, among dirs, the charts whose rendered inputs differ
// between base and head ("" for the working tree): files in the chart,
// files its symlinks reach (a library chart linked under charts/),
// file:// dependencies, the values files .cozyhr.yaml names (its own, its
// value cases', the HelmRelease file), .cozyhr.yaml itself.
//
// A chart removed since base, below one of scope's roots, counts as
// changed too: it shows as a whole removal.
func Changed(ctx context.Context, dirs []string, base, head string, scope RemovedScope) (*ChangeSet, error) {
	start := "."
	if len(dirs) > 0 {
		start = dirs[0]
	}
	abs, err := filepath.Abs(start)
	if err != nil {
		return nil, err
	}
	repo, err := gitrev.Open(ctx, abs)
	if err != nil {
		return nil, err
	}
	baseCommit, err := repo.Resolve(ctx, base)
	if err != nil {
		return nil, err
	}
	headCommit := ""
	if head != "" {
		if headCommit, err = repo.Resolve(ctx, head); err != nil {
			return nil, err
		}
	}
	files, err := repo.ChangedFiles(ctx, baseCommit, headCommit)
	if err != nil {
		return nil, err
	}
	cs := &ChangeSet{Base: base, Head: head, Charts: []string{}, Unattributed: []string{}}
	attributed := make([]bool, len(files))
	touches := func(inputs []string) bool {
		touched := false
		for i, f := range files {
			if gitrev.Touches(inputs, filepath.ToSlash(f)) {
				touched, attributed[i] = true, true
			}
		}
		return touched
	}
	for _, dir := range dirs {
		inputs, err := repo.ChartInputs(dir, configuredInputs(dir))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if touches(inputs) {
			cs.Charts = append(cs.Charts, dir)
		}
	}
	if len(scope.Roots) > 0 {
		removed, err := repo.RemovedCharts(ctx, baseCommit, headCommit, scope.Configured)
		if err != nil {
			return nil, err
		}
		for _, rd := range removed {
			dir := filepath.Join(repo.Root, filepath.FromSlash(rd))
			if !scope.covers(dir) {
				continue
			}
			if touches([]string{rd + "/"}) {
				cs.Charts = append(cs.Charts, config.DisplayPath(dir))
			}
		}
	}
	for i, f := range files {
		if !attributed[i] {
			cs.Unattributed = append(cs.Unattributed, filepath.ToSlash(f))
		}
	}
	// Sorted, so that the same change lists the same way (-o json).
	slices.Sort(cs.Charts)
	slices.Sort(cs.Unattributed)
	return cs, nil
}

// configuredInputs are the files outside the chart's own tree that its
// .cozyhr.yaml makes it read: values files, the value cases' values files,
// the HelmRelease file, and the defaults file that gave it its settings.
func configuredInputs(dir string) []string {
	cfg, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		// A broken defaults file above the chart is still its input: its
		// change is reviewed, and the review says what is wrong with it.
		if f := config.DefaultsFileFor(dir); f != "" {
			return []string{f}
		}
		return nil
	}
	extra := append([]string(nil), cfg.ValuesFiles...)
	for _, name := range cfg.CaseNames() {
		extra = append(extra, cfg.Cases[name].ValuesFiles...)
	}
	if cfg.HelmRelease.File != "" {
		extra = append(extra, cfg.HelmRelease.File)
	}
	if cfg.Defaults != "" {
		extra = append(extra, cfg.Defaults)
	}
	return extra
}
