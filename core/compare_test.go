package core

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/test/testtree"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/values"
)

// Two renders of one chart compare with no cluster: a value that changes
// one object is one change, a value that removes one is a removal, and a
// Secret's data stays masked on both sides.
func TestCompareRendersNeedsNoCluster(t *testing.T) {
	render := func(set ...string) *Desired {
		t.Helper()
		return renderPlain(t, filepath.Join("..", "examples", "hello"), "compare", set...)
	}
	base := render()
	same, err := CompareRenders(t.Context(), base, render(), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if same.HasChanges() || same.Unchanged == 0 {
		t.Errorf("a render compared with itself: %d changes, %d unchanged", len(same.Changes), same.Unchanged)
	}
	res, err := CompareRenders(t.Context(), base, render("replicas=3", "widget.enabled=false", "auth.password=other"), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range res.Changes {
		got = append(got, string(c.Action)+" "+c.Ref.String())
		if c.Ref.Kind == "Secret" {
			for k, v := range c.Desired["data"].(map[string]any) {
				if !strings.HasPrefix(v.(string), "(masked") {
					t.Errorf("Secret data %s unmasked: %v", k, v)
				}
			}
		}
	}
	want := "change Deployment compare/hello,change Secret compare/hello-auth,remove Widget compare/hello"
	if strings.Join(got, ",") != want {
		t.Errorf("changes = %v\nwant %s", got, want)
	}
}

// renderPlain renders the chart in dir offline as plain Helm in namespace,
// with --set overrides.
func renderPlain(t *testing.T, dir, namespace string, set ...string) *Desired {
	t.Helper()
	cfg, err := config.Load(config.LoadOptions{Dir: dir, Overrides: map[string]any{"helmRelease.enabled": false, "release.namespace": namespace}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := (&Workspace{Config: cfg}).Desired(t.Context(), RenderOptions{Values: values.Overrides{Values: set}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// A change that touches only a hook is a change of the chart, marked as
// the hook's; the hooks that did not change are counted unchanged.
func TestCompareRendersReviewsHooks(t *testing.T) {
	dir := filepath.Join("..", "examples", "hello")
	base := renderPlain(t, dir, "hooks")
	same, err := CompareRenders(t.Context(), base, renderPlain(t, dir, "hooks"), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if same.HasChanges() || same.Unchanged != len(base.Rendered.Manifests)+len(base.Rendered.Hooks)+len(base.Rendered.CRDs) {
		t.Errorf("unchanged %d, want every resource, hook and CRD", same.Unchanged)
	}
	hookOnly := t.TempDir()
	testtree.Copy(t, dir, hookOnly, nil)
	hook := filepath.Join(hookOnly, "templates", "hook-configmap.yaml")
	data, err := os.ReadFile(hook)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hook, []byte(strings.Replace(string(data), "data:", "data:\n  added: by-the-change", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := CompareRenders(t.Context(), base, renderPlain(t, hookOnly, "hooks"), DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changes) != 1 || !res.Changes[0].Hook || res.Changes[0].Action != ActionChange || res.Changes[0].Ref.Kind != "ConfigMap" {
		t.Fatalf("a hook-only change: %+v", res.Changes)
	}
	removed, err := CompareRenders(t.Context(), base, nil, DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hooks := 0
	for _, c := range removed.Changes {
		if c.Hook {
			hooks++
		}
	}
	if hooks != len(base.Rendered.Hooks) {
		t.Errorf("a removed chart's hooks: %d marked, want %d", hooks, len(base.Rendered.Hooks))
	}
}
