package core_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/values"
	"github.com/cozyhr/cozyhr/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// plainChart writes a chart of a ConfigMap and a Secret whose
// .cozyhr.yaml installs it as plain Helm in namespace ns, hiding what
// cozyhr.yaml's diff.ignore says.
func plainChart(t *testing.T, ns, ignore string) *config.Chart {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "web")
	files := map[string]string{
		"Chart.yaml":  "apiVersion: v2\nname: web\nversion: 1.0.0\nappVersion: \"2.0\"\n",
		"values.yaml": "greeting: hello\nsize: small\npassword: s3cret\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-settings\n" +
			"data:\n  greeting: {{ .Values.greeting | quote }}\n  size: {{ .Values.size | quote }}\n",
		"templates/secret.yaml": "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-auth\n" +
			"stringData:\n  password: {{ .Values.password | quote }}\n",
		".cozyhr.yaml": "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: web\n  namespace: " + ns + "\nhelmRelease:\n  enabled: false\n" + ignore,
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func workspace(t *testing.T, cfg *config.Chart) *core.Workspace {
	t.Helper()
	testenv.Need(t, env)
	return &core.Workspace{Config: cfg, Cluster: env.Cluster(), Notices: &bytes.Buffer{}}
}

func counted(t *testing.T, res *core.DiffResult) [3]int {
	t.Helper()
	a, c, d := res.Counts()
	return [3]int{a, c, d}
}

func set(vals ...string) core.RenderOptions {
	return core.RenderOptions{Values: values.Overrides{Values: vals}}
}

// The engine's whole loop on one release, as a Go program drives it:
// diff, lock and apply, diff again, upgrade, history, roll back, delete.
func TestAReleaseFromInstallToDelete(t *testing.T) {
	cfg := plainChart(t, "core-loop", "diff:\n  ignore:\n  - paths: [/data/size]\n    target: {kind: ConfigMap}\n")
	w := workspace(t, cfg)
	ctx := context.Background()
	var log bytes.Buffer

	res, err := w.DiffChart(ctx, core.RenderOptions{}, core.DiffOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := counted(t, res); got != [3]int{2, 0, 0} {
		t.Fatalf("before install: %v, want both objects added", got)
	}

	apply := func(opts core.RenderOptions) *core.ApplyResult {
		t.Helper()
		l, err := w.Lock(ctx, "apply", false, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Release()
		d, err := w.Desired(ctx, opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		out, err := w.Apply(ctx, d, core.ApplyOptions{CreateNamespace: true}, &log)
		if err != nil {
			t.Fatalf("apply: %v\n%s", err, log.String())
		}
		return out
	}
	installed := apply(core.RenderOptions{})
	if !installed.Installed || installed.Release.Version != 1 || installed.Suspended {
		t.Fatalf("install: %+v", installed)
	}

	res, err = w.DiffChart(ctx, core.RenderOptions{}, core.DiffOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.HasChanges() || res.Unchanged != 2 {
		t.Errorf("right after install: %v, %d unchanged", counted(t, res), res.Unchanged)
	}
	// A value changes one field; the field .cozyhr.yaml ignores is hidden
	// and listed as such.
	res, err = w.DiffChart(ctx, set("greeting=bonjour", "size=large"), core.DiffOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := counted(t, res); got != [3]int{0, 1, 0} || len(res.Changes[0].Report.Diffs) != 1 {
		t.Fatalf("a changed value: %v %+v", got, res.Changes)
	}
	if len(res.Ignored) != 1 || !strings.Contains(res.Ignored[0].Path, "size") {
		t.Errorf("ignored %+v", res.Ignored)
	}
	// A Secret's change shows masked unless asked.
	res, err = w.DiffChart(ctx, set("password=other"), core.DiffOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := counted(t, res); got != [3]int{0, 1, 0} || strings.Contains(res.Changes[0].Report.Diffs[0].Details[0].To.Value, "other") {
		t.Errorf("a Secret's change: %v %+v", got, res.Changes)
	}

	upgraded := apply(set("greeting=bonjour"))
	if upgraded.Installed || upgraded.Release.Version != 2 {
		t.Errorf("upgrade: %+v", upgraded)
	}
	target, revs, err := w.History(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if target.ReleaseName != "web" || len(revs) != 2 || revs[0].Revision != 1 || revs[1].Status != "deployed" || revs[1].WrittenBy != "cozyhr" || revs[1].Chart != "web-1.0.0" {
		t.Errorf("history: %+v", revs)
	}
	if state := w.ReleaseState(ctx); !strings.Contains(state, "revision 2") || !strings.Contains(state, "deployed") {
		t.Errorf("state %q", state)
	}

	rolled, err := w.Rollback(ctx, core.RollbackOptions{}, &log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rolled.From != 2 || rolled.To != 1 || rolled.Release.Version != 3 {
		t.Errorf("rollback: %+v", rolled)
	}
	res, err = w.DiffChart(ctx, core.RenderOptions{}, core.DiffOptions{}, nil)
	if err != nil || res.HasChanges() {
		t.Errorf("after rolling back to the defaults: %v, %v", res, err)
	}
	if _, err := w.Rollback(ctx, core.RollbackOptions{Revision: 9}, &log, nil); err == nil || !strings.Contains(err.Error(), "has no revision 9") {
		t.Errorf("a revision that does not exist: %v", err)
	}

	if err := w.Delete(ctx, core.DeleteOptions{}, &log, nil); err != nil {
		t.Fatal(err)
	}
	res, err = w.DiffChart(ctx, core.RenderOptions{}, core.DiffOptions{}, nil)
	if err != nil || counted(t, res) != [3]int{2, 0, 0} {
		t.Errorf("after delete: %v, %v", res, err)
	}
	if holder, err := w.Unlock(ctx); err != nil || holder != "" {
		t.Errorf("every lock was given up: %q, %v", holder, err)
	}
}

func TestAWorkspaceWithoutAClusterSaysWhatNeedsOne(t *testing.T) {
	cfg := plainChart(t, "core-offline", "")
	w := &core.Workspace{Config: cfg}
	ctx := context.Background()
	d, err := w.Desired(ctx, core.RenderOptions{KubeVersion: "1.30.0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Rendered.Manifests) != 2 || d.Target.Namespace != "core-offline" || d.Previous != nil {
		t.Errorf("offline render: %d objects in %s", len(d.Rendered.Manifests), d.Target.Namespace)
	}
	for name, err := range map[string]error{
		"diff":   func() error { _, err := w.Diff(ctx, d, core.DiffOptions{}); return err }(),
		"apply":  func() error { _, err := w.Apply(ctx, d, core.ApplyOptions{}, &bytes.Buffer{}); return err }(),
		"delete": w.Delete(ctx, core.DeleteOptions{}, &bytes.Buffer{}, nil),
	} {
		var nc *core.NeedsClusterError
		if !errorsAs(err, &nc) {
			t.Errorf("%s offline: %v", name, err)
		}
	}
	// A kubeVersion the chart excludes is typed.
	cfg.Dir = writeKubeVersionChart(t)
	_, err = (&core.Workspace{Config: cfg}).Desired(ctx, core.RenderOptions{KubeVersion: "1.30.0"}, nil)
	var kv *core.KubeVersionError
	if !errorsAs(err, &kv) || kv.Requires != ">=1.40.0-0" {
		t.Errorf("kubeVersion: %v", err)
	}
}

func writeKubeVersionChart(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: future\nversion: 1.0.0\nkubeVersion: \">=1.40.0-0\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }
