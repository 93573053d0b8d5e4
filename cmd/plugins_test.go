package cmd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cozyhr/cozyhr/test/testenv"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// testPlugins are the example plugins and the faulty test plugin, built
// once per test binary into one directory.
var testPlugins struct {
	once   sync.Once
	parent string
	dir    string
	err    error
}

// pluginDir builds the plugins (once) and puts their directory first on the
// plugin search path, with an empty user config dir.
func pluginDir(t *testing.T) string {
	t.Helper()
	testPlugins.once.Do(func() {
		dir, err := os.MkdirTemp(testPlugins.parent, "plugins-")
		if err != nil {
			testPlugins.err = err
			return
		}
		testPlugins.dir = dir
		builds := []struct{ name, pkg, ldflags string }{
			{"add-labels", "./plugins/examples/add-labels", ""},
			{"layer-builder", "./plugins/examples/layer-builder", ""},
			{"faulty", "./test/plugins/faulty", ""},
			{"faulty-v2", "./test/plugins/faulty", "-X main.protocol=2"},
			{"faulty-noisy", "./test/plugins/faulty", "-X main.noise=hello-from-stdout"},
		}
		for _, b := range builds {
			if testPlugins.err = goBuild(filepath.Join(dir, "cozyhr-plugin-"+b.name), b.pkg, b.ldflags); testPlugins.err != nil {
				return
			}
		}
	})
	if testPlugins.err != nil {
		t.Fatalf("build plugins: %v", testPlugins.err)
	}
	t.Setenv("COZYHR_PLUGINS_PATH", testPlugins.dir)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	return testPlugins.dir
}

// goBuild builds a package of this module.
func goBuild(out, pkg, ldflags string) error {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	args := []string{"build", "-o", out}
	if ldflags != "" {
		args = append(args, "-ldflags", ldflags)
	}
	cmd := exec.Command(goBin, append(args, pkg)...)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s: %v\n%s", pkg, err, b)
	}
	return nil
}

// pluginProcesses lists running processes whose binary is in dir.
func pluginProcesses(dir string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.HasPrefix(exe, dir+string(filepath.Separator)) {
			found = append(found, e.Name()+" "+exe)
		}
	}
	return found
}

// expectNoPluginProcesses fails if a plugin process outlived the command.
func expectNoPluginProcesses(t *testing.T, dir string) {
	t.Helper()
	if procs := pluginProcesses(dir); len(procs) > 0 {
		t.Fatalf("plugin processes left running: %v", procs)
	}
}

// withPlugins writes a .cozyhr.yaml for the hello chart with the given
// plugins block.
func withPlugins(t *testing.T, dir, ns, plugins string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), fmt.Sprintf(`apiVersion: cozyhr.io/v1alpha1
kind: Chart
release:
  name: hello
  namespace: %s
%s`, ns, plugins))
}

func TestPluginPostProcessorsRunInOrderThroughShowDiffApply(t *testing.T) {
	plugins := pluginDir(t)
	ns := "plugins-order"
	dir := chartCopy(t, ns)
	// add-labels, then the kustomize built-in, then add-labels again by
	// path: the second label set wins, and both see the patch.
	withPlugins(t, dir, ns, `plugins:
  postProcessors:
    - name: add-labels
      config:
        labels: {team: one, tier: web}
        annotations: {example.com/note: first}
    - name: kustomize
      config:
        patches:
          - target: {kind: ConfigMap}
            patch: |
              - op: add
                path: /data/patched
                value: "yes"
    - path: `+filepath.Join(plugins, "cozyhr-plugin-add-labels")+`
      config:
        labels: {team: two}
        kinds: [ConfigMap]
    - name: faulty
      config: {mode: ok}
`)
	show := cozyhr(t, "-C", dir, "show", "--offline", "-s", "templates/configmap.yaml").expect(t, 0)
	golden(t, "plugins/order-show", show.out)
	if !strings.Contains(show.err, "Warning: faulty: faulty: passed through") {
		t.Errorf("the plugin's warning is not shown:\n%s", show.err)
	}
	expectNoPluginProcesses(t, plugins)

	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	expectNoPluginProcesses(t, plugins)
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hello-content"}, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Labels["team"] != "two" || cm.Labels["tier"] != "web" || cm.Data["patched"] != "yes" || cm.Annotations["example.com/note"] != "first" {
		t.Errorf("applied ConfigMap lacks the post-processed fields: labels %v annotations %v data %v", cm.Labels, cm.Annotations, cm.Data)
	}
	var svc corev1.Service
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hello"}, &svc); err != nil {
		t.Fatal(err)
	}
	if svc.Labels["team"] != "one" {
		t.Errorf("Service team label = %q, want one (the second add-labels is for ConfigMaps only)", svc.Labels["team"])
	}
	diff := cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 0)
	if !strings.Contains(diff.out, "No changes") {
		t.Errorf("diff after apply through plugins is not clean:\n%s", diff.out)
	}
	cozyhr(t, "-C", dir, "delete").expect(t, 0)
	expectNoPluginProcesses(t, plugins)
}

func TestPluginFailuresNameThePluginAndStage(t *testing.T) {
	plugins := pluginDir(t)
	dir := chartCopy(t, "default")
	bin := filepath.Join(plugins, "cozyhr-plugin-faulty")
	sum := fileSum(t, bin)
	cases := []struct {
		name, plugins string
		want          []string
	}{
		{"checksum mismatch", `plugins:
  postProcessors:
    - name: faulty
      sha256: ` + strings.Repeat("a", 64) + "\n",
			[]string{"plugin faulty (post-process):", "has sha256 " + sum, "pins " + strings.Repeat("a", 64), "refusing to start it"}},
		{"checksum match", `plugins:
  postProcessors:
    - name: faulty
      sha256: ` + sum + "\n      config: {mode: error}\n",
			[]string{"plugin faulty (post-process): policy check failed: 2 objects have no resource limits"}},
		{"protocol mismatch", `plugins:
  postProcessors:
    - name: faulty-v2
`, []string{"plugin faulty-v2 (post-process): protocol mismatch:", "Plugin version: 2, Client versions: [1]", "This cozyhr speaks plugin protocol 1"}},
		{"crash", `plugins:
  postProcessors:
    - name: faulty
      config: {mode: crash}
`, []string{"plugin faulty (post-process): crashed", "plugin stderr:", "panic: faulty: crashing on purpose"}},
		{"hang", `plugins:
  postProcessors:
    - name: faulty
      timeout: 1s
      config: {mode: hang}
`, []string{"plugin faulty (post-process): no answer within 1s: killed it", "plugins.postProcessors[0].timeout", "faulty: hanging"}},
		{"stdout noise", `plugins:
  postProcessors:
    - name: faulty-noisy
`, []string{"plugin faulty-noisy (post-process): it printed \"hello-from-stdout\" to stdout before the handshake", "must not write to stdout"}},
		{"invalid output", `plugins:
  postProcessors:
    - name: faulty
      config: {mode: invalid}
`, []string{"plugin faulty (post-process): returned manifests that are not valid Kubernetes YAML", "manifest document 1"}},
		{"not found", `plugins:
  postProcessors:
    - name: nowhere
`, []string{"plugins.postProcessors[0]: no built-in named \"nowhere\" and no cozyhr-plugin-nowhere in " + plugins}},
		{"bad config for a built-in", `plugins:
  postProcessors:
    - name: kustomize
      config: {patchez: []}
`, []string{"plugins.postProcessors[0].config:", "unknown field \"patchez\""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			withPlugins(t, dir, "default", tc.plugins)
			started := time.Now()
			r := cozyhr(t, "-C", dir, "show", "--offline").expect(t, 1)
			for _, w := range tc.want {
				if !strings.Contains(r.err, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.err)
				}
			}
			if strings.Contains(r.err, "goroutine ") && !strings.Contains(r.err, "plugin stderr:") {
				t.Errorf("cozyhr itself panicked:\n%s", r.err)
			}
			if d := time.Since(started); d > 20*time.Second {
				t.Errorf("took %s: a failing plugin must not hang cozyhr", d)
			}
			expectNoPluginProcesses(t, plugins)
		})
	}
}

func fileSum(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func TestPluginsList(t *testing.T) {
	plugins := pluginDir(t)
	// Only the test's plugins: nothing from the machine's PATH.
	t.Setenv("PATH", "/usr/bin:/bin")
	dir := chartCopy(t, "default")
	withPlugins(t, dir, "default", `plugins:
  postProcessors:
    - name: kustomize
      config: {}
    - name: add-labels
`)
	table := cozyhr(t, "-C", dir, "plugins", "list").expect(t, 0)
	for _, want := range []string{"NAME", "PROTOCOL", "kustomize", "built-in", "plugins.postProcessors[0]", "add-labels", "plugins.postProcessors[1]", "error: protocol mismatch"} {
		if !strings.Contains(table.out, want) {
			t.Errorf("table lacks %q:\n%s", want, table.out)
		}
	}
	js := cozyhr(t, "-C", dir, "plugins", "list", "-o", "json").expect(t, 0)
	golden(t, "plugins/list", strings.ReplaceAll(js.out, plugins, "$PLUGINS"))
	expectNoPluginProcesses(t, plugins)
}

// hangingPluginRun starts the real binary on a chart whose plugin hangs,
// and returns once the plugin is running.
func hangingPluginRun(t *testing.T) (*exec.Cmd, *bytes.Buffer, string) {
	t.Helper()
	plugins := pluginDir(t)
	bin := cozyhrBinary(t)
	dir := chartCopy(t, "default")
	calls := filepath.Join(t.TempDir(), "calls")
	withPlugins(t, dir, "default", `plugins:
  postProcessors:
    - name: faulty
      timeout: 5m
      config: {mode: hang, record: `+calls+`}
`)
	cmd := exec.Command(bin, "-C", dir, "show", "--offline")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &bytes.Buffer{}, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The plugin records the call before it hangs.
	if err := testenv.WaitFor(context.Background(), time.Minute, func(context.Context) (bool, error) {
		_, err := os.Stat(calls)
		return err == nil, nil
	}); err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("the call never reached the plugin:\n%s", stderr.String())
	}
	return cmd, &stderr, plugins
}

// TestPluginKilledOnInterrupt runs the real binary, as a user would, and
// presses Ctrl-C while a plugin hangs.
func TestPluginKilledOnInterrupt(t *testing.T) {
	cmd, stderrBuf, plugins := hangingPluginRun(t)
	stderr := stderrBuf
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("cozyhr exited 0 after Ctrl-C")
		}
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("cozyhr did not stop after Ctrl-C:\n%s", stderr.String())
	}
	// One line says what is left: show writes nothing.
	if got := stderr.String(); got != "cozyhr: interrupted: nothing was written\n" {
		t.Errorf("stderr after Ctrl-C is not the one line on what is left:\n%s", got)
	}
	expectNoPluginProcesses(t, plugins)
}

// apply diffs what it applies: Helm's post-render reuses the post-processed
// render when Helm renders the same stream, so a plugin runs once per apply.
func TestApplyRunsEachPluginOnce(t *testing.T) {
	pluginDir(t)
	ns := "plugins-once"
	dir := chartCopy(t, ns)
	calls := filepath.Join(t.TempDir(), "calls")
	withPlugins(t, dir, ns, `plugins:
  postProcessors:
    - name: faulty
      config: {record: `+calls+`}
    - name: add-labels
      config: {labels: {team: once}}
`)
	r := cozyhr(t, "-C", dir, "apply").expect(t, 0)
	if got := readFile(t, calls); got != "post-process hello\n" {
		t.Errorf("the plugin was called %d times in one apply:\n%s", strings.Count(got, "\n"), got)
	}
	if strings.Count(r.err, "Warning: faulty: faulty: passed through") != 1 {
		t.Errorf("the plugin's warning is not shown once:\n%s", r.err)
	}
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "hello-content"}, &cm); err != nil {
		t.Fatal(err)
	}
	if cm.Labels["team"] != "once" {
		t.Errorf("applied labels %v lack the plugin's", cm.Labels)
	}
	cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 0)
	cozyhr(t, "-C", dir, "delete").expect(t, 0)
}

// TestPluginDiesWithCozyhrOnSIGKILL: no Close can run when cozyhr is
// killed outright; the kernel ends the plugin with it.
func TestPluginDiesWithCozyhrOnSIGKILL(t *testing.T) {
	cmd, _, plugins := hangingPluginRun(t)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if err := testenv.WaitFor(context.Background(), time.Minute, func(context.Context) (bool, error) {
		return len(pluginProcesses(plugins)) == 0, nil
	}); err != nil {
		t.Fatalf("plugin processes outlived a SIGKILLed cozyhr: %v", pluginProcesses(plugins))
	}
}

// TestTwoAppliesAtOnce: a second apply of a release another process is
// applying refuses at once, naming the holder; with --wait-for-lock it runs
// once the first lets go.
func TestTwoAppliesAtOnce(t *testing.T) {
	plugins := pluginDir(t)
	bin := cozyhrBinary(t)
	const ns = "two-applies"
	slow := chartCopy(t, ns)
	withPlugins(t, slow, ns, `plugins:
  postProcessors:
    - name: faulty
      timeout: 5m
      config: {mode: hang}
`)
	first := exec.Command(bin, "--kubeconfig", env.Kubeconfig, "-C", slow, "apply")
	var firstErr bytes.Buffer
	first.Stdout, first.Stderr = &bytes.Buffer{}, &firstErr
	first.Env = append(os.Environ(), "COZYHR_PLUGINS_PATH="+plugins)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = first.Process.Kill() }()
	// The first holds the lock while its plugin hangs.
	if err := testenv.WaitFor(context.Background(), time.Minute, func(context.Context) (bool, error) {
		return len(pluginProcesses(plugins)) > 0, nil
	}); err != nil {
		t.Fatalf("the first apply never reached its plugin:\n%s", firstErr.String())
	}

	other := chartCopy(t, ns)
	r := cozyhr(t, "-C", other, "apply").expect(t, 1)
	for _, want := range []string{"release is locked by", "cozyhr apply", "--wait-for-lock", "cozyhr unlock"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, r.err)
		}
	}
	waited, waitedErr := watchedCozyhr(t, "-C", other, "--wait-for-lock", "apply")
	waitForOutput(t, waitedErr, "waiting for the lock")
	if err := first.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	select {
	case r := <-waited:
		r.expect(t, 0)
		if !strings.Contains(r.err, "waiting for the lock") || !strings.Contains(r.err, "revision 1, deployed") {
			t.Errorf("--wait-for-lock:\n%s", r.err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("--wait-for-lock never got the lock")
	}
	expectNoPluginProcesses(t, plugins)
}
