package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cozyhr/cozyhr/test/testenv"
	"github.com/cozyhr/cozyhr/test/testgit"
)

// slowTemplate keeps Helm's engine busy for many seconds, so that a signal
// lands in the middle of a run.
const slowTemplate = `{{- $n := 0 }}
{{- range until 20000 }}{{ range until 1000 }}{{ $n = add1 $n }}{{ end }}{{ end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: slow
data:
  n: "{{ $n }}"
`

// stopBound is how long a stopped run may take to end. The goal is a
// second; the bound leaves room for a loaded machine, and the time taken
// is logged.
const stopBound = 10 * time.Second

// signalRun starts cmd, waits until reached says it is in the middle,
// signals it, and returns its exit code and how long it took to end.
func signalRun(t *testing.T, run *exec.Cmd, sig syscall.Signal, reached func() bool) (int, time.Duration, string) {
	t.Helper()
	stderr := &lockedBuffer{}
	var stdout bytes.Buffer
	run.Stdout, run.Stderr = &stdout, stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = run.Process.Kill() }()
	if err := testenv.WaitFor(context.Background(), 120*time.Second, func(context.Context) (bool, error) {
		return reached(), nil
	}); err != nil {
		t.Fatalf("the run never reached the middle:\n%s", stderr.String())
	}
	start := time.Now()
	if err := run.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	err := run.Wait()
	took := time.Since(start)
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the run ended with %v after %s:\n%s", err, sig, stderr.String())
	}
	if stdout.Len() > 0 {
		t.Errorf("a stopped run printed a report:\n%s", stdout.String())
	}
	t.Logf("%s: exit %d after %s", sig, exit.ExitCode(), took)
	return exit.ExitCode(), took, stderr.String()
}

// A review of thousands of objects stops at SIGINT or SIGTERM, with the
// shell's code for the signal, and leaves no revision tree behind.
func TestSignalsStopALargeReview(t *testing.T) {
	bin := cozyhrBinary(t)
	repo := testgit.New(t)
	repo.Write(map[string]string{
		"big/Chart.yaml":   "apiVersion: v2\nname: big\nversion: 0.1.0\n",
		"big/values.yaml":  "count: 3000\ntag: old\n",
		"big/.cozyhr.yaml": "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: big, namespace: big}\n",
		"big/templates/cm.yaml": `{{- range $i, $e := until (int .Values.count) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm-{{ $i }}
data:
  text: {{ printf "%s-%d-%s" (repeat 60 "abcdefghijklmnopqrstuvwxyz0123456789 ") $i $.Values.tag | quote }}
{{- end }}
`,
		"big/templates/slow.yaml": slowTemplate,
	})
	repo.Commit("base")
	repo.Write(map[string]string{"big/values.yaml": "count: 3000\ntag: new\n"})
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			trees := t.TempDir()
			run := exec.Command(bin, "diff", "--base", "HEAD", "-R", "big", "-o", "markdown")
			run.Dir, run.Env = repo.Dir, append(os.Environ(), "TMPDIR="+trees)
			// The base revision's tree is written before either side renders.
			code, took, stderr := signalRun(t, run, c.sig, func() bool { return len(revisionTrees(trees)) > 0 })
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, stderr)
			}
			if took > stopBound {
				t.Errorf("took %s to stop", took)
			}
			if left := revisionTrees(trees); len(left) > 0 {
				t.Errorf("revision trees left behind: %v", left)
			}
			if !strings.Contains(stderr, "interrupted") {
				t.Errorf("the run did not say it was interrupted:\n%s", stderr)
			}
		})
	}
}

// revisionTrees are the review trees under dir.
func revisionTrees(dir string) []string {
	trees, _ := filepath.Glob(filepath.Join(dir, "cozyhr-rev-*"))
	return trees
}

// A diff against the cluster stops at SIGINT or SIGTERM the same way.
func TestSignalsStopALiveDiff(t *testing.T) {
	bin := cozyhrBinary(t)
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(c.sig.String(), func(t *testing.T) {
			ns := "signal-diff-" + map[syscall.Signal]string{syscall.SIGINT: "int", syscall.SIGTERM: "term"}[c.sig]
			dir := chartCopy(t, ns)
			cozyhr(t, "-C", dir, "apply").expect(t, 0)
			marker := filepath.Join(t.TempDir(), "started")
			writeFile(t, filepath.Join(dir, "templates", "slow.yaml"), slowTemplate)
			writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), fmt.Sprintf(`apiVersion: cozyhr.io/v1alpha1
kind: Chart
release: {name: hello, namespace: %s}
hooks:
  diff:
    pre:
      - {name: started, command: touch, args: [%q]}
`, ns, marker))
			run := exec.Command(bin, "--kubeconfig", env.Kubeconfig, "-C", dir, "diff")
			code, took, stderr := signalRun(t, run, c.sig, func() bool { _, err := os.Stat(marker); return err == nil })
			if code != c.code {
				t.Errorf("exit %d, want %d:\n%s", code, c.code, stderr)
			}
			if took > stopBound {
				t.Errorf("took %s to stop", took)
			}
			if !strings.Contains(stderr, "interrupted: nothing was written") {
				t.Errorf("the run did not say nothing was written:\n%s", stderr)
			}
		})
	}
}
