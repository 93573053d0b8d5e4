package review_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/review"
)

// platform is a repository of charts as platform teams keep them: a
// library linked under an app's charts/ by a symlink, a chart whose values
// file lives outside it, and a chart without a .cozyhr.yaml.
func platform(t *testing.T) *repo {
	t.Helper()
	r := newRepo(t)
	r.Write(merge(
		chart("packages/apps/redis", "redis"), configured("packages/apps/redis", "redis", "tenant", ""),
		chart("packages/apps/kafka", "kafka"), configured("packages/apps/kafka", "kafka", "tenant", "valuesFiles: [../../../values/kafka.yaml]\n"),
		chart("packages/system/metallb", "metallb"),
		map[string]string{
			"packages/library/lib/Chart.yaml":             "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n",
			"packages/library/lib/templates/_helpers.tpl": "{{- define \"lib.name\" -}}lib{{- end -}}\n",
			"values/kafka.yaml":                           "greeting: from-values\n",
			"docs/README.md":                              "docs\n",
		},
	))
	if err := os.MkdirAll(r.Path("packages/apps/redis/charts"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../library/lib", r.Path("packages/apps/redis/charts/lib")); err != nil {
		t.Fatal(err)
	}
	r.Commit("platform")
	return r
}

// changed runs review.Changed over the platform's three charts from its
// top, as the command line names them.
func changed(t *testing.T, r *repo, scope review.RemovedScope) *review.ChangeSet {
	t.Helper()
	chdir(t, r.Dir)
	cs, err := review.Changed(context.Background(), []string{"packages/apps/kafka", "packages/apps/redis", "packages/system/metallb"}, "HEAD", "", scope)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestChangedFollowsTheFilesEachChartReads(t *testing.T) {
	cases := []struct {
		name         string
		edit         map[string]string
		charts       []string
		unattributed []string
	}{
		{name: "nothing"},
		{name: "a template", edit: map[string]string{"packages/system/metallb/templates/cm.yaml": "kind: ConfigMap\n"},
			charts: []string{"packages/system/metallb"}},
		{name: "the library, through the symlink", edit: map[string]string{"packages/library/lib/templates/_helpers.tpl": "{{- define \"lib.name\" -}}x{{- end -}}\n"},
			charts: []string{"packages/apps/redis"}},
		{name: "a values file .cozyhr.yaml names", edit: map[string]string{"values/kafka.yaml": "greeting: changed\n"},
			charts: []string{"packages/apps/kafka"}},
		{name: ".cozyhr.yaml itself", edit: configured("packages/apps/redis", "redis", "other", ""),
			charts: []string{"packages/apps/redis"}},
		{name: "a file no chart reads", edit: map[string]string{"docs/README.md": "more docs\n"},
			unattributed: []string{"docs/README.md"}},
		{name: "an untracked file in a chart", edit: map[string]string{"packages/apps/kafka/templates/new.yaml": "kind: Secret\n"},
			charts: []string{"packages/apps/kafka"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := platform(t)
			r.Write(c.edit)
			cs := changed(t, r, review.RemovedScope{})
			if !slices.Equal(cs.Charts, append([]string{}, c.charts...)) {
				t.Errorf("charts %q, want %q", cs.Charts, c.charts)
			}
			if !slices.Equal(cs.Unattributed, append([]string{}, c.unattributed...)) {
				t.Errorf("unattributed %q, want %q", cs.Unattributed, c.unattributed)
			}
			if cs.Base != "HEAD" || cs.Head != "" {
				t.Errorf("base %q head %q", cs.Base, cs.Head)
			}
		})
	}
}

func TestChangedFindsChartsRemovedBelowTheScope(t *testing.T) {
	r := platform(t)
	r.Remove("packages/apps/kafka")
	r.Remove("packages/system/metallb")
	chdir(t, r.Dir)
	dirs := []string{"packages/apps/redis"}
	abs := func(p string) string { return r.Path(p) }

	all, err := review.Changed(context.Background(), dirs, "HEAD", "", review.RemovedScope{Roots: []string{abs("packages")}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"packages/apps/kafka", "packages/system/metallb"}; !slices.Equal(all.Charts, want) {
		t.Errorf("removed charts %q, want %q", all.Charts, want)
	}
	// Only those that had a .cozyhr.yaml, when the run takes no others.
	configured, err := review.Changed(context.Background(), dirs, "HEAD", "", review.RemovedScope{Roots: []string{abs("packages")}, Configured: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"packages/apps/kafka"}; !slices.Equal(configured.Charts, want) {
		t.Errorf("configured removed charts %q, want %q", configured.Charts, want)
	}
	// Below another root: not this run's (shards: TestChangedInAShard…).
	other, err := review.Changed(context.Background(), dirs, "HEAD", "", review.RemovedScope{Roots: []string{abs("packages/library")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(other.Charts) != 0 {
		t.Errorf("charts %q, want none", other.Charts)
	}
	if !slices.Contains(other.Unattributed, "packages/system/metallb/Chart.yaml") {
		t.Errorf("the removed files no chart of the run covers are unattributed: %q", other.Unattributed)
	}
	// No roots: a chart named alone is never removed.
	none, err := review.Changed(context.Background(), dirs, "HEAD", "", review.RemovedScope{})
	if err != nil {
		t.Fatal(err)
	}
	if len(none.Charts) != 0 {
		t.Errorf("charts %q without a scope", none.Charts)
	}
}

func TestChangedBetweenTwoCommits(t *testing.T) {
	r := platform(t)
	base := r.Git("rev-parse", "HEAD")
	r.Write(map[string]string{"packages/apps/kafka/values.yaml": "greeting: two\nreplicas: 2\n"})
	head := r.Commit("kafka")
	r.Write(map[string]string{"packages/apps/redis/values.yaml": "greeting: not committed\n"})
	chdir(t, r.Dir)
	cs, err := review.Changed(context.Background(), []string{"packages/apps/kafka", "packages/apps/redis"}, base, head, review.RemovedScope{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cs.Charts, []string{"packages/apps/kafka"}) || cs.Head != head {
		t.Errorf("charts %q head %q: want kafka alone, the uncommitted redis change left out", cs.Charts, cs.Head)
	}
	if _, err := review.Changed(context.Background(), []string{"packages/apps/kafka"}, base, "nope", review.RemovedScope{}); err == nil {
		t.Error("an unknown head revision was accepted")
	}
}

func TestScopeOfASelection(t *testing.T) {
	dir := t.TempDir()
	chdir(t, dir)
	real, _ := filepath.EvalSymlinks(dir)
	cases := []struct {
		name         string
		sel          config.Selection
		nothingNamed bool
		roots        []string
		configured   bool
	}{
		{name: "-R roots", sel: config.Selection{Recursive: []string{"a", "b"}}, roots: []string{filepath.Join(real, "a"), filepath.Join(real, "b")}, configured: true},
		{name: "--all", sel: config.Selection{Recursive: []string{"a"}, All: true}, roots: []string{filepath.Join(real, "a")}},
		{name: "nothing named searches here", nothingNamed: true, roots: []string{real}, configured: true},
		{name: "a chart named alone", sel: config.Selection{Dirs: []string{"x"}}, nothingNamed: true, configured: true},
		{name: "-L: no removed chart has labels", sel: config.Selection{Recursive: []string{"a"}, Selector: "tier=system"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := review.ScopeOf(c.sel, c.nothingNamed)
			if !slices.Equal(s.Roots, c.roots) || s.Configured != c.configured {
				t.Errorf("roots %q configured %v, want %q %v", s.Roots, s.Configured, c.roots, c.configured)
			}
		})
	}
}

// A shard's run reads the change over every selected chart: the files the
// other shards' charts read are theirs, not nobody's.
func TestChangedInAShardAttributesEveryChartsFiles(t *testing.T) {
	r := platform(t)
	for _, c := range []string{"packages/apps/kafka", "packages/apps/redis", "packages/system/metallb"} {
		r.Write(map[string]string{c + "/templates/new.yaml": "kind: ConfigMap\n"})
	}
	chdir(t, r.Dir)
	var seen []string
	for _, shard := range []string{"1/2", "2/2"} {
		sel := config.Selection{Recursive: []string{"packages"}, All: true, Shard: shard}
		dirs, err := sel.Charts()
		if err != nil {
			t.Fatal(err)
		}
		cs, err := review.ChangedIn(context.Background(), sel, dirs, "HEAD", "", false)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs.Unattributed) != 0 {
			t.Errorf("shard %s: unattributed %q", shard, cs.Unattributed)
		}
		if !slices.Equal(cs.Charts, dirs) {
			t.Errorf("shard %s: changed %q, want its own charts %q", shard, cs.Charts, dirs)
		}
		seen = append(seen, cs.Charts...)
	}
	slices.Sort(seen)
	if want := []string{"packages/apps/kafka", "packages/apps/redis", "packages/system/metallb"}; !slices.Equal(seen, want) {
		t.Errorf("over both shards: %q, want each chart once", seen)
	}
}

// A defaults file is an input of the charts it gives settings to, and
// still of those below it when it is broken: its change is reviewed, and
// the review says what is wrong with it.
func TestChangedCountsTheDefaultsFileEvenBroken(t *testing.T) {
	r := newRepo(t)
	r.Write(merge(chart("packages/apps/app", "hello"), map[string]string{
		"packages/.cozyhr.yaml": "apiVersion: cozyhr.io/v1alpha1\nkind: Defaults\ncharts:\n  - match: apps/*\n    release: {namespace: tenant-root}\n",
	}))
	r.Commit("base")
	chdir(t, r.Dir)
	for name, text := range map[string]string{
		"changed": "apiVersion: cozyhr.io/v1alpha1\nkind: Defaults\ncharts:\n  - match: apps/*\n    release: {namespace: tenant-other}\n",
		"broken":  "apiVersion: cozyhr.io/v1alpha1\nkind: Defaults\ncharts:\n  - match: apps/*\n    valuesFile: [x.yaml]\n",
	} {
		r.Write(map[string]string{"packages/.cozyhr.yaml": text})
		cs, err := review.Changed(context.Background(), []string{"packages/apps/app"}, "HEAD", "", review.RemovedScope{})
		if err != nil || len(cs.Charts) != 1 || len(cs.Unattributed) != 0 {
			t.Errorf("%s defaults file: %+v, %v", name, cs, err)
		}
	}
}
