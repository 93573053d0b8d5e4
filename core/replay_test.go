package core_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/manifest"
)

// corpusSystem is the shared corpus's system charts, when it is there.
var corpusSystem = filepath.Join("..", "..", "shared", "corpus", "packages", "system")

// trigger introduces one rule's trigger into a render: it changes the
// base and head object lists (copies of the same render) and names the
// object the rule must fire on, as a change names it ("" for the release
// as a whole). ok is
// false when the render has nothing to introduce it into.
type trigger func(base, head *[]*unstructured.Unstructured, chart *core.Desired) (on string, ok bool)

func firstOf(objs []*unstructured.Unstructured, kinds ...string) int {
	return slices.IndexFunc(objs, func(u *unstructured.Unstructured) bool { return slices.Contains(kinds, u.GetKind()) })
}

func setField(u *unstructured.Unstructured, value any, path ...string) {
	if err := unstructured.SetNestedField(u.Object, value, path...); err != nil {
		panic(err)
	}
}

func ref(u *unstructured.Unstructured) string { return manifest.RefOf(u).String() }

func object(kind, apiVersion, name string, fields map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": map[string]any{"name": name}}}
	for k, v := range fields {
		u.Object[k] = v
	}
	return u
}

// triggers are the rules a comparison of two renders can fire, each with
// how to introduce it.
var triggers = map[string]trigger{
	hazard.ImmutableField: func(base, head *[]*unstructured.Unstructured, _ *core.Desired) (string, bool) {
		i := firstOf(*head, "Deployment")
		if i < 0 {
			return "", false
		}
		setField((*head)[i], "replayed", "spec", "selector", "matchLabels", "cozyhr.io/replay")
		return ref((*head)[i]), true
	},
	hazard.PVCShrink: func(base, head *[]*unstructured.Unstructured, d *core.Desired) (string, bool) {
		claim := func(size string) *unstructured.Unstructured {
			return object("PersistentVolumeClaim", "v1", "replay-data", map[string]any{"spec": map[string]any{
				"accessModes": []any{"ReadWriteOnce"}, "resources": map[string]any{"requests": map[string]any{"storage": size}}}})
		}
		*base, *head = append(*base, claim("10Gi")), append(*head, claim("5Gi"))
		return "PersistentVolumeClaim " + d.Target.Namespace + "/replay-data", true
	},
	hazard.RemovalTakesData: func(base, head *[]*unstructured.Unstructured, _ *core.Desired) (string, bool) {
		i := firstOf(*head, "CustomResourceDefinition")
		if i < 0 {
			return "", false
		}
		on := ref((*head)[i])
		*head = slices.Delete(*head, i, i+1)
		return on, true
	},
	hazard.NetworkPolicyRemoved: func(base, head *[]*unstructured.Unstructured, d *core.Desired) (string, bool) {
		*base = append(*base, object("NetworkPolicy", "networking.k8s.io/v1", "replay-deny", map[string]any{"spec": map[string]any{"podSelector": map[string]any{}}}))
		return "NetworkPolicy " + d.Target.Namespace + "/replay-deny", true
	},
	hazard.PrivilegeAdded: func(base, head *[]*unstructured.Unstructured, _ *core.Desired) (string, bool) {
		i := firstOf(*head, "Deployment", "DaemonSet", "StatefulSet")
		if i < 0 {
			return "", false
		}
		setField((*head)[i], true, "spec", "template", "spec", "hostNetwork")
		return ref((*head)[i]), true
	},
	hazard.RBACWidened: func(base, head *[]*unstructured.Unstructured, _ *core.Desired) (string, bool) {
		i := firstOf(*head, "ClusterRole", "Role")
		if i < 0 {
			return "", false
		}
		rules, _, _ := unstructured.NestedSlice((*head)[i].Object, "rules")
		rules = append(rules, map[string]any{"apiGroups": []any{""}, "resources": []any{"secrets"}, "verbs": []any{"*"}})
		setField((*head)[i], rules, "rules")
		return ref((*head)[i]), true
	},
	hazard.ReplicasToZero: func(base, head *[]*unstructured.Unstructured, _ *core.Desired) (string, bool) {
		i := firstOf(*head, "Deployment", "StatefulSet")
		if i < 0 {
			return "", false
		}
		setField((*base)[i], int64(2), "spec", "replicas")
		setField((*head)[i], int64(0), "spec", "replicas")
		return ref((*head)[i]), true
	},
	hazard.ImageMajorBump: func(base, head *[]*unstructured.Unstructured, _ *core.Desired) (string, bool) {
		i := firstOf(*head, "Deployment", "DaemonSet", "StatefulSet")
		if i < 0 {
			return "", false
		}
		for side, tag := range map[*[]*unstructured.Unstructured]string{base: "1.4.2", head: "2.0.0"} {
			containers, _, _ := unstructured.NestedSlice((*side)[i].Object, "spec", "template", "spec", "containers")
			if len(containers) == 0 {
				return "", false
			}
			containers[0].(map[string]any)["image"] = "registry.example/replay:" + tag
			setField((*side)[i], containers, "spec", "template", "spec", "containers")
		}
		return ref((*head)[i]), true
	},
	hazard.LargeChange: func(base, head *[]*unstructured.Unstructured, _ *core.Desired) (string, bool) {
		for n := range hazard.LargeChangeObjects {
			*head = append(*head, object("ConfigMap", "v1", fmt.Sprintf("replay-%02d", n), map[string]any{"data": map[string]any{"n": fmt.Sprint(n)}}))
		}
		return "", true
	},
}

// On the shared corpus's system charts, each rule a comparison of two
// renders can fire has its trigger introduced once, into the first chart
// (in turn) that has what it needs: the rule fires there, on that object,
// and no other rule fires; and no rule fires on any chart compared with
// itself. chart-major-bump, the release's own, is replayed on every chart;
// values-unread on the values of one. object-moves, field-conflict and
// image-missing need a live cluster or a registry: their tests are in
// test/flux (predict_owner_test.go, predict_conflict_test.go) and cmd
// (rules_test.go).
func TestCorpusReplayFiresEachRuleWhereItIsIntroduced(t *testing.T) {
	entries, err := os.ReadDir(corpusSystem)
	if err != nil {
		t.Skipf("no shared corpus here (%v)", err)
	}
	var renders []*core.Desired
	for _, e := range entries {
		dir := filepath.Join(corpusSystem, e.Name())
		if _, err := os.Stat(filepath.Join(dir, "Chart.yaml")); err != nil {
			continue
		}
		name, ns := config.MakefileNames(dir)
		cfg, err := config.Load(config.LoadOptions{Dir: dir, Overrides: map[string]any{
			"release.name": cmpOr(name, e.Name()), "release.namespace": cmpOr(ns, "cozy-"+e.Name()), "helmRelease.enabled": false}})
		if err != nil {
			t.Fatal(err)
		}
		d, err := (&core.Workspace{Config: cfg}).Desired(context.Background(), core.RenderOptions{KubeVersion: "1.31.0", Deterministic: true}, nil)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		renders = append(renders, d)
	}
	if len(renders) == 0 {
		t.Skip("no chart in the corpus")
	}

	for _, d := range renders {
		res := compareObjects(t, d, objectsOf(t, d), objectsOf(t, d), false)
		if got := fired(res); len(got) > 0 {
			t.Errorf("%s compared with itself fires %v", d.Chart.Name(), got)
		}
		bumped := compareObjects(t, d, objectsOf(t, d), objectsOf(t, d), true)
		if got := fired(bumped); fmt.Sprint(got) != "[chart-major-bump@]" {
			t.Errorf("%s with a major version up fires %v", d.Chart.Name(), got)
		}
	}
	ids := make([]string, 0, len(triggers))
	for id := range triggers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	next := 0
	for _, id := range ids {
		introduced := false
		for k := range renders {
			d := renders[(next+k)%len(renders)]
			base, head := objectsOf(t, d), objectsOf(t, d)
			on, ok := triggers[id](&base, &head, d)
			if !ok {
				continue
			}
			next += k + 1
			introduced = true
			res := compareObjects(t, d, base, head, false)
			got := fired(res)
			if len(got) == 0 || slices.ContainsFunc(got, func(f string) bool { return f != id+"@"+on }) {
				t.Errorf("%s introduced into %s (on %q) fires %v", id, d.Chart.Name(), on, got)
			} else {
				t.Logf("%s: introduced into %s, fires on %q", id, d.Chart.Name(), on)
			}
			break
		}
		if !introduced {
			t.Errorf("no corpus chart could take %s", id)
		}
	}

	// values-unread: an instance that sets every value its chart has
	// fires nothing against the same chart; against one whose values.yaml
	// lost one of them, it fires once, on that value.
	for i, d := range renders {
		instance := d.Chart.Values
		if got := hazard.UnreadValues(d.Chart.Values, d.Chart.Values, instance); len(got) > 0 {
			t.Errorf("%s: values-unread on an unchanged chart: %v", d.Chart.Name(), got)
		}
		if i != next%len(renders) {
			continue
		}
		keys := slices.Sorted(maps.Keys(d.Chart.Values))
		if len(keys) == 0 {
			next++
			continue
		}
		head := maps.Clone(d.Chart.Values)
		delete(head, keys[0])
		got := hazard.UnreadValues(d.Chart.Values, head, instance)
		if len(got) == 0 || slices.ContainsFunc(got, func(f hazard.Finding) bool {
			return f.Rule != hazard.ValuesUnread || !strings.HasPrefix(f.Message, keys[0])
		}) {
			t.Errorf("values-unread introduced into %s (%s removed) fires %v", d.Chart.Name(), keys[0], got)
		} else {
			t.Logf("values-unread: introduced into %s, fires on %s (%d value(s) under it)", d.Chart.Name(), keys[0], len(got))
		}
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// objectsOf are deep copies of a render's objects, namespaced as
// CompareRenders names them.
func objectsOf(t *testing.T, d *core.Desired) []*unstructured.Unstructured {
	t.Helper()
	objs, err := manifest.ParseObjects(append(append([]manifest.Object(nil), d.Rendered.CRDs...), d.Rendered.Manifests...))
	if err != nil {
		t.Fatal(err)
	}
	out := make([]*unstructured.Unstructured, len(objs))
	for i, o := range objs {
		out[i] = &unstructured.Unstructured{Object: runtime.DeepCopyJSON(o.Object)}
		// As a comparison with no cluster names them (CompareRenders).
		if out[i].GetNamespace() == "" && out[i].GetKind() != "Namespace" && out[i].GetKind() != "CustomResourceDefinition" {
			out[i].SetNamespace(d.Target.Namespace)
		}
	}
	return out
}

// compareObjects compares two object lists as two renders of d's chart,
// the head one a major version up when bump.
func compareObjects(t *testing.T, d *core.Desired, base, head []*unstructured.Unstructured, bump bool) *core.DiffResult {
	t.Helper()
	side := func(objs []*unstructured.Unstructured) *core.Desired {
		r := &core.Rendered{}
		for _, u := range objs {
			r.Manifests = append(r.Manifests, manifest.Object{Unstructured: u})
		}
		return &core.Desired{Target: d.Target, Chart: d.Chart, Rendered: r}
	}
	b, h := side(base), side(head)
	if bump {
		c := *d.Chart
		md := *c.Metadata
		md.Version = "999.0.0"
		c.Metadata = &md
		h.Chart = &c
	}
	res, err := core.CompareRenders(context.Background(), b, h, core.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// fired lists "rule@object" for each finding, "rule@" for the release's.
func fired(res *core.DiffResult) []string {
	var out []string
	for _, f := range res.Findings {
		out = append(out, f.Rule+"@")
	}
	for _, c := range res.Changes {
		for _, h := range c.Hazards {
			out = append(out, h.Rule+"@"+c.Ref.String())
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}
