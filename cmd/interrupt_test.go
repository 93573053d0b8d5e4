package cmd

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/core/lock"
	"github.com/cozyhr/cozyhr/test/testenv"
)

// cozyhrBin is the real binary, built once per test binary, for the tests
// that signal or race whole processes.
var cozyhrBin struct {
	once sync.Once
	path string
	err  error
}

func cozyhrBinary(t *testing.T) string {
	t.Helper()
	cozyhrBin.once.Do(func() {
		cozyhrBin.path = filepath.Join(testPlugins.parent, "cozyhr")
		cozyhrBin.err = goBuild(cozyhrBin.path, "./cmd/cozyhr", "")
	})
	if cozyhrBin.err != nil {
		t.Fatal(cozyhrBin.err)
	}
	return cozyhrBin.path
}

// lockedBuffer is a stderr that the test reads while the process writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// storedRelease is the release's latest revision as Helm stored it.
type storedRelease struct {
	version int
	status  string
}

func latestStored(t *testing.T, ns, name string) storedRelease {
	t.Helper()
	var secrets corev1.SecretList
	if err := env.Client.List(context.Background(), &secrets, client.InNamespace(ns), client.MatchingLabels{"owner": "helm", "name": name}); err != nil {
		t.Fatal(err)
	}
	var latest storedRelease
	for _, s := range secrets.Items {
		v, _ := strconv.Atoi(s.Labels["version"])
		if v > latest.version {
			latest = storedRelease{version: v, status: s.Labels["status"]}
		}
	}
	return latest
}

// processesWith lists running processes whose command line has all of args.
func processesWith(args ...string) []string {
	var found []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && strings.Contains(string(b), strings.Join(args, "\x00")) {
			found = append(found, e.Name()+" "+strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
	return found
}

func leaseExists(t *testing.T, ns, release string) bool {
	t.Helper()
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: lock.LockName(release)}, &coordinationv1.Lease{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// expectStatusMatchesRelease checks the HelmRelease records the release as
// it is: its latest revision, with that revision's status, and Ready True
// exactly when that revision is deployed.
func expectStatusMatchesRelease(t *testing.T, ns string) {
	t.Helper()
	stored := latestStored(t, ns, "hello")
	hr := getHelmRelease(t, ns, "hello")
	latest := hr.Status.History.Latest()
	if latest == nil || latest.Version != stored.version || latest.Status != stored.status {
		t.Errorf("the HelmRelease records %+v, the release is revision %d %s", latest, stored.version, stored.status)
	}
	ready := apimeta.IsStatusConditionTrue(hr.Status.Conditions, "Ready")
	if ready != (stored.status == "deployed") {
		t.Errorf("Ready is %v for a release %s: %+v", ready, stored.status, apimeta.FindStatusCondition(hr.Status.Conditions, "Ready"))
	}
}

// TestInterruptedApply presses Ctrl-C and sends SIGKILL to the real binary
// at each phase of a Flux-mode upgrade: in a .cozyhr.yaml pre-apply hook, in
// a post-processor plugin, and while Helm waits for the upgraded objects.
// Whatever the phase, the HelmRelease records the release as it is (or is
// untouched), no child process survives, and the next apply repairs
// everything without help.
func TestInterruptedApply(t *testing.T) {
	bin := cozyhrBinary(t)
	plugins := pluginDir(t)
	phases := []struct {
		name string
		// config is the .cozyhr.yaml tail for the phase.
		config string
		args   []string
		// reached reports the run is in the phase.
		reached func(ns, stderr string) bool
		// stores says Helm has stored the new revision by then.
		stores bool
		// left is what Ctrl-C says is left.
		left string
		// locked says the run holds the release's lock by then: it is
		// taken after the pre-apply hooks, when the release is written.
		locked bool
	}{
		{
			name:    "pre-apply hook",
			config:  "hooks:\n  apply:\n    pre:\n      - {name: slow, command: sleep, args: [\"731\"]}\n",
			reached: func(string, string) bool { return len(processesWith("sleep", "731")) > 0 },
			left:    "nothing was written",
		},
		{
			name:    "post-processor plugin",
			config:  "plugins:\n  postProcessors:\n    - {name: faulty, timeout: 5m, config: {mode: hang}}\n",
			reached: func(string, string) bool { return len(pluginProcesses(plugins)) > 0 },
			locked:  true,
			// The first apply suspended the HelmRelease; this one took the
			// lock and was rendering.
			left: "release hello is at revision 1, deployed; HelmRelease %NS%/hello is suspended (cozyhr resume hands it back to Flux)",
		},
		{
			name:    "Helm waiting for the objects",
			args:    []string{"--wait", "--timeout", "5m"},
			reached: func(ns, _ string) bool { return strings.HasPrefix(latestStored(t, ns, "hello").status, "pending-") },
			stores:  true,
			locked:  true,
			left:    "release hello is at revision 2, failed; HelmRelease %NS%/hello is suspended (cozyhr resume hands it back to Flux); the next cozyhr apply repairs a pending or failed release",
		},
	}
	for i, phase := range phases {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
			t.Run(phase.name+"/"+sig.String(), func(t *testing.T) {
				ns := "interrupt-" + string(rune('a'+i)) + "-" + map[syscall.Signal]string{syscall.SIGINT: "int", syscall.SIGKILL: "kill"}[sig]
				phase.left = strings.ReplaceAll(phase.left, "%NS%", ns)
				dir := chartCopy(t, ns)
				createHelmRelease(t, ns, "hello", `{}`)
				cozyhr(t, "-C", dir, "apply").expect(t, 0)
				expectStatusMatchesRelease(t, ns)
				withPlugins(t, dir, ns, phase.config)

				stderr := &lockedBuffer{}
				run := exec.Command(bin, append([]string{"--kubeconfig", env.Kubeconfig, "-C", dir, "apply", "--set", "message=changed"}, phase.args...)...)
				run.Stdout, run.Stderr = &bytes.Buffer{}, stderr
				run.Env = append(os.Environ(), "COZYHR_PLUGINS_PATH="+plugins)
				if err := run.Start(); err != nil {
					t.Fatal(err)
				}
				defer func() { _ = run.Process.Kill() }()
				if err := testenv.WaitFor(context.Background(), 60*time.Second, func(context.Context) (bool, error) {
					return phase.reached(ns, stderr.String()), nil
				}); err != nil {
					t.Fatalf("the apply never reached the phase:\n%s", stderr.String())
				}
				if err := run.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				err := run.Wait()
				code := run.ProcessState.ExitCode()

				// No child outlives the run, whichever signal ended it.
				if err := testenv.WaitFor(context.Background(), 10*time.Second, func(context.Context) (bool, error) {
					return len(processesWith("sleep", "731")) == 0 && len(pluginProcesses(plugins)) == 0, nil
				}); err != nil {
					t.Errorf("child processes outlived cozyhr: %v %v", processesWith("sleep", "731"), pluginProcesses(plugins))
				}

				stored := latestStored(t, ns, "hello")
				switch {
				case sig == syscall.SIGINT:
					if code != 130 || !strings.Contains(stderr.String(), "cozyhr: interrupted: "+phase.left) {
						t.Errorf("Ctrl-C: exit %d (%v), want 130 and the one line on what is left (%q):\n%s", code, err, phase.left, stderr.String())
					}
					if leaseExists(t, ns, "hello") {
						t.Errorf("Ctrl-C left the release's lock held")
					}
					expectStatusMatchesRelease(t, ns)
					if phase.stores && (stored.version != 2 || stored.status != "failed") {
						t.Errorf("after Ctrl-C in Helm's wait the release is %+v, want revision 2 failed", stored)
					}
				case phase.stores:
					// Killed: the revision is left pending and the HelmRelease
					// suspended; the next command says so first.
					if !strings.HasPrefix(stored.status, "pending-") {
						t.Errorf("after SIGKILL in Helm's wait the release is %+v", stored)
					}
					r := cozyhr(t, "-C", dir, "diff").expect(t, 0)
					for _, want := range []string{"revision 2 is pending-upgrade", "cozyhr apply repairs it", "is suspended", "cozyhr resume"} {
						if !strings.Contains(r.err, want) {
							t.Errorf("diff after SIGKILL does not say %q:\n%s", want, r.err)
						}
					}
				}
				if !phase.stores && (stored.version != 1 || stored.status != "deployed") {
					t.Errorf("interrupted before Helm ran, the release changed: %+v", stored)
				}
				if !phase.stores {
					expectStatusMatchesRelease(t, ns)
				}

				// The next apply repairs it: a lock left by SIGKILL is taken
				// over at once, since its holder is gone.
				withPlugins(t, dir, ns, "")
				r := cozyhr(t, "-C", dir, "apply", "--set", "message=changed").expect(t, 0)
				if sig == syscall.SIGKILL && !strings.Contains(r.err, "which is no longer running") && phase.locked {
					t.Errorf("the next apply does not say it took over the dead run's lock:\n%s", r.err)
				}
				if after := latestStored(t, ns, "hello"); after.status != "deployed" || after.version <= stored.version {
					t.Errorf("the next apply left the release %+v", after)
				}
				expectStatusMatchesRelease(t, ns)
				if leaseExists(t, ns, "hello") {
					t.Errorf("the repairing apply left its lock")
				}
				if hr := getHelmRelease(t, ns, "hello"); !hr.Spec.Suspend {
					t.Errorf("the HelmRelease is not suspended after apply")
				}
			})
		}
	}
}

// TestALoserNeverOverwritesANewerSuccess: a run whose lock was broken
// under it (cozyhr unlock while it still ran) fails after another run
// upgraded the release; the HelmRelease keeps the newer success.
func TestALoserNeverOverwritesANewerSuccess(t *testing.T) {
	bin := cozyhrBinary(t)
	const ns = "loser"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{}`)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)

	stderr := &lockedBuffer{}
	slow := exec.Command(bin, "--kubeconfig", env.Kubeconfig, "-C", dir, "apply", "--set", "message=slow", "--wait", "--timeout", "5m")
	slow.Stdout, slow.Stderr = &bytes.Buffer{}, stderr
	if err := slow.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = slow.Process.Kill() }()
	// In Helm's wait: the revision is pending and the readiness view has
	// drawn its first line (before that, on a loaded machine, the slow run
	// may still write its pending revision over the repair below).
	waiting := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d `)
	if err := testenv.WaitFor(context.Background(), 60*time.Second, func(context.Context) (bool, error) {
		return latestStored(t, ns, "hello").status == "pending-upgrade" && waiting.MatchString(stderr.String()), nil
	}); err != nil {
		t.Fatalf("the slow apply never reached Helm's wait:\n%s", stderr.String())
	}
	cozyhr(t, "-C", dir, "unlock").expect(t, 0)
	cozyhr(t, "-C", dir, "apply", "--set", "message=fast").expect(t, 0)
	if got := latestStored(t, ns, "hello"); got.version != 3 || got.status != "deployed" {
		t.Fatalf("the second apply left %+v", got)
	}

	if err := slow.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	_ = slow.Wait()
	if !strings.Contains(stderr.String(), "already records the newer revision 3") {
		t.Errorf("the loser does not say why it recorded nothing:\n%s", stderr.String())
	}
	hr := getHelmRelease(t, ns, "hello")
	latest := hr.Status.History.Latest()
	if latest == nil || latest.Version != 3 || latest.Status != "deployed" || !apimeta.IsStatusConditionTrue(hr.Status.Conditions, "Ready") {
		t.Errorf("the loser overwrote the newer success: %+v %+v", latest, hr.Status.Conditions)
	}
	if hr.Status.LastAttemptedReleaseAction != helmv2.ReleaseActionUpgrade || hr.Status.Failures != 0 {
		t.Errorf("the loser counted its failure: %+v", hr.Status)
	}
}
