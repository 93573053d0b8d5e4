package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
)

// Bad or conflicting input gets a clear error, before anything changes.
func TestConflictingAndOversizedInputIsRefused(t *testing.T) {
	dir := chartCopy(t, "bad-input")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"--brief with --unified", []string{"diff", "--brief", "--unified"}, "--brief and --unified are two output formats"},
		{"--brief with -o json", []string{"diff", "--brief", "-o", "json"}, "two output formats"},
		{"--kube-version against a cluster", []string{"show", "--kube-version", "1.30.0"}, "only with --offline"},
		{"--set with no key", []string{"show", "--offline", "--set", "=x"}, "no key before ="},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := cozyhr(t, append([]string{"-C", dir}, c.args...)...).expect(t, 1)
			if !strings.Contains(r.err, c.want) {
				t.Errorf("error lacks %q:\n%s", c.want, r.err)
			}
		})
	}
	t.Run("a huge .cozyhr.yaml", func(t *testing.T) {
		big := "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nvalues:\n  blob: \"" + strings.Repeat("x", 2<<20) + "\"\n"
		if err := os.WriteFile(filepath.Join(dir, ".cozyhr.yaml"), []byte(big), 0o644); err != nil {
			t.Fatal(err)
		}
		r := cozyhr(t, "-C", dir, "show", "--offline").expect(t, 1)
		if !strings.Contains(r.err, "cozyhr reads at most 1024 KiB") {
			t.Errorf("oversized config:\n%s", r.err)
		}
	})
}

// diff -o yaml is the JSON report as YAML.
func TestDiffYAMLReport(t *testing.T) {
	dir := chartCopy(t, "diff-yaml")
	r := cozyhr(t, "-C", dir, "diff", "-o", "yaml").expect(t, 0)
	if !strings.Contains(r.out, "kind: DiffReport") || !strings.Contains(r.out, "action: add") {
		t.Errorf("diff -o yaml:\n%s", r.out)
	}
}

// delete --keep-helmrelease leaves a HelmRelease whose status says the
// release was uninstalled, not that it is installed.
func TestKeptHelmReleaseSaysUninstalled(t *testing.T) {
	const ns = "keep-status"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{}`)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	cozyhr(t, "-C", dir, "apply", "--set", "replicas=2").expect(t, 0) // revision 2
	cozyhr(t, "-C", dir, "delete", "--keep-helmrelease").expect(t, 0)
	hr := getHelmRelease(t, ns, "hello")
	for _, c := range []string{"Ready", helmv2.ReleasedCondition} {
		cond := apimeta.FindStatusCondition(hr.Status.Conditions, c)
		if cond == nil || cond.Status != "False" || cond.Reason != helmv2.UninstallSucceededReason {
			t.Errorf("%s after delete --keep-helmrelease: %+v", c, cond)
		}
	}
	if hr.Status.Inventory != nil {
		t.Errorf("inventory kept: %+v", hr.Status.Inventory)
	}

	// Applying again installs revision 1 anew: the status records it, though
	// the uninstalled revision in history had a higher number.
	again := cozyhr(t, "-C", dir, "apply").expect(t, 0)
	if strings.Contains(again.err, "not recorded") {
		t.Errorf("the new install was taken for a stale record:\n%s", again.err)
	}
	hr = getHelmRelease(t, ns, "hello")
	if !apimeta.IsStatusConditionTrue(hr.Status.Conditions, "Ready") || hr.Status.History.Latest().Version != 1 {
		t.Errorf("status after installing again: %+v, history %+v", hr.Status.Conditions, hr.Status.History)
	}
}

// The vague messages users met, each now saying what, where and what to do.
func TestClearMessagesForCommonMistakes(t *testing.T) {
	dir := chartCopy(t, "clear-messages")
	list := filepath.Join(t.TempDir(), "list.yaml")
	writeFile(t, list, "- a\n- b\n")
	garbage := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, garbage, "garbage\n")
	run := func(kubeconfig string, args ...string) result {
		var out, errOut bytes.Buffer
		if kubeconfig != "" {
			args = append([]string{"--kubeconfig", kubeconfig}, args...)
		}
		err := Execute(context.Background(), args, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		return result{out: out.String(), err: errOut.String(), code: ExitCode(err)}
	}
	cases := []struct {
		name       string
		kubeconfig string
		args       []string
		want       string
	}{
		{"a list as values file", env.Kubeconfig, []string{"-C", dir, "show", "--offline", "-f", list}, "holds a list at its top; a values file is a mapping"},
		{"-C pointing at Chart.yaml", env.Kubeconfig, []string{"-C", filepath.Join(dir, "Chart.yaml"), "show", "--offline"}, "-C takes the chart directory, not a file: try -C"},
		{"a garbage kubeconfig", garbage, []string{"-C", dir, "show"}, "is not readable as a kubeconfig file"},
		{"no kubeconfig at all", "", []string{"-C", dir, "show"}, "no kubeconfig found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.kubeconfig == "" {
				t.Setenv("KUBECONFIG", "")
				t.Setenv("HOME", t.TempDir())
			}
			r := run(c.kubeconfig, c.args...)
			if r.code != 1 || !strings.Contains(r.err, c.want) {
				t.Errorf("exit %d, stderr lacks %q:\n%s", r.code, c.want, r.err)
			}
			if strings.Contains(r.err, "memcache.go") || strings.Contains(r.err, "localhost:8080") {
				t.Errorf("klog noise or a default server in the message:\n%s", r.err)
			}
		})
	}
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nplugins:\n  postProcessors:\n    - name: x\n      sha256: \"xyz\"\nupstream:\n  helm: {repo: a, chart: b}\n  oci: {url: oci://x}\n")
	r := cozyhr(t, "-C", dir, "show", "--offline").expect(t, 1)
	golden(t, "config-clear-messages", r.err)
}

// A plugin path that is not executable is named with the fix, not
// "fork/exec …: permission denied".
func TestNonExecutablePluginIsNamed(t *testing.T) {
	dir := chartCopy(t, "plugin-noexec")
	if err := os.MkdirAll(filepath.Join(dir, "tools"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "tools", "my-plugin"), "not a binary\n")
	withPlugins(t, dir, "plugin-noexec", "plugins:\n  postProcessors:\n    - path: tools/my-plugin\n")
	r := cozyhr(t, "-C", dir, "show", "--offline").expect(t, 1)
	if !strings.Contains(r.err, "is not an executable file") || !strings.Contains(r.err, "chmod +x") {
		t.Errorf("stderr:\n%s", r.err)
	}
}

// A server that accepts connections and never answers, as a SIGSTOPped
// kube-apiserver does, gives one clear error once --request-timeout has
// passed, for reads and writes alike, and not a minute of retries.
func TestFrozenAPIServerIsOneClearError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	writeFile(t, kubeconfig, fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: frozen, cluster: {server: "https://%s", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: frozen, context: {cluster: frozen, user: u}}]
current-context: frozen
`, ln.Addr()))
	dir := chartCopy(t, "frozen")
	for _, command := range [][]string{{"diff"}, {"show"}, {"apply"}, {"get"}, {"suspend", "hello"}} {
		t.Run(command[0], func(t *testing.T) {
			var out, errOut bytes.Buffer
			args := append([]string{"--kubeconfig", kubeconfig, "--request-timeout", "1s", "-C", dir}, command...)
			err := Execute(context.Background(), args, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
			want := "Error: the API server https://" + ln.Addr().String() + " did not answer within 1s"
			if ExitCode(err) != 1 || !strings.HasPrefix(errOut.String(), want) || strings.Count(errOut.String(), "\n") != 1 {
				t.Errorf("exit %d, stderr is not the one line %q…:\n%s", ExitCode(err), want, errOut.String())
			}
		})
	}
}

// Ctrl-C during a long render ends show at once, with nothing printed:
// Helm's engine takes no context, so cozyhr stops waiting for it.
func TestCtrlCEndsALongRender(t *testing.T) {
	dir := chartCopy(t, "slow-render")
	writeFile(t, filepath.Join(dir, "templates", "slow.yaml"), slowTemplate)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	var out, errOut bytes.Buffer
	err := Execute(ctx, []string{"-C", dir, "show", "--offline"}, IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	if !errors.Is(err, context.Canceled) || out.Len() > 0 {
		t.Errorf("show went on after Ctrl-C: err %v, %d bytes printed\n%s", err, out.Len(), errOut.String())
	}
}
