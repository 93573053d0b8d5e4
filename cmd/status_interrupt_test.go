package cmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apimeta "k8s.io/apimachinery/pkg/api/meta"

	"github.com/cozyhr/cozyhr/test/testenv"
)

// Ctrl-C at every point of an install and of an upgrade in Flux mode:
// before Helm writes (a pre-apply hook), while Helm's revision is pending
// (its wait for the objects), and after Helm wrote it (a post-apply hook).
// Whatever the point, the HelmRelease status says what the release is:
// its newest revision with that revision's status, Ready exactly when it
// is deployed, or nothing at all when no revision was stored.
func TestStatusFollowsTheReleaseAfterEveryInterruption(t *testing.T) {
	points := []struct {
		name string
		// config is the .cozyhr.yaml tail; %s is a file the run touches
		// when it gets there.
		config string
		args   []string
		// reached reports the run is there.
		reached func(ns, marker string) bool
	}{
		{
			name:    "before Helm writes",
			config:  "hooks:\n  apply:\n    pre:\n      - {name: slow, command: sh, args: [\"-c\", \"touch %s; sleep 600\"]}\n",
			reached: func(_, marker string) bool { _, err := os.Stat(marker); return err == nil },
		},
		{
			name:    "while the revision is pending",
			args:    []string{"--wait", "--timeout", "5m"},
			reached: func(ns, _ string) bool { return strings.HasPrefix(latestStored(t, ns, "hello").status, "pending-") },
		},
		{
			name:    "after Helm wrote",
			config:  "hooks:\n  apply:\n    post:\n      - {name: slow, command: sh, args: [\"-c\", \"touch %s; sleep 600\"]}\n",
			reached: func(_, marker string) bool { _, err := os.Stat(marker); return err == nil },
		},
	}
	for i, p := range points {
		for _, upgrade := range []bool{false, true} {
			op := map[bool]string{false: "install", true: "upgrade"}[upgrade]
			t.Run(op+" "+p.name, func(t *testing.T) {
				ns := fmt.Sprintf("status-%s-%d", op, i)
				dir := chartCopy(t, ns)
				createHelmRelease(t, ns, "hello", `{}`)
				if upgrade {
					cozyhr(t, "-C", dir, "apply").expect(t, 0)
				}
				before := latestStored(t, ns, "hello")
				marker := filepath.Join(t.TempDir(), "reached")
				if p.config != "" {
					withPlugins(t, dir, ns, fmt.Sprintf(p.config, marker))
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				done := make(chan result, 1)
				go func() {
					var out, errOut bytes.Buffer
					err := Execute(ctx, append([]string{"--kubeconfig", env.Kubeconfig, "-C", dir, "apply", "--set", "message=changed"}, p.args...),
						IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
					done <- result{out: out.String(), err: errOut.String(), code: ExitCode(err)}
				}()
				if err := testenv.WaitFor(context.Background(), 2*time.Minute, func(context.Context) (bool, error) {
					return p.reached(ns, marker), nil
				}); err != nil {
					t.Fatalf("the apply never got %s", p.name)
				}
				cancel()
				r := <-done
				if r.code != ExitInterrupted {
					t.Errorf("exit %d after Ctrl-C:\n%s", r.code, r.err)
				}
				stored := latestStored(t, ns, "hello")
				if stored.version == 0 {
					// An install stopped before Helm wrote: nothing to record.
					hr := getHelmRelease(t, ns, "hello")
					if hr.Status.History.Latest() != nil || apimeta.IsStatusConditionTrue(hr.Status.Conditions, "Ready") {
						t.Errorf("no release, but the HelmRelease records %+v, conditions %+v", hr.Status.History, hr.Status.Conditions)
					}
					return
				}
				expectStatusMatchesRelease(t, ns)
				said := fmt.Sprintf("release hello is at revision %d, %s", stored.version, stored.status)
				if stored == before {
					said = "nothing was written"
				}
				if !strings.Contains(r.err, "cozyhr: interrupted: "+said) {
					t.Errorf("the run does not say what it left (%s):\n%s", said, r.err)
				}
			})
		}
	}
}

// A release whose last upgrade failed, uninstalled with delete
// --keep-helmrelease, is installed again by the next apply, and the
// HelmRelease records that install: the failed revision no longer stands
// in its way.
func TestApplyAfterDeletingAFailedReleaseIsRecorded(t *testing.T) {
	const ns = "status-after-failed-delete"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{}`)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	// The API server refuses a negative replica count: revision 2 fails.
	cozyhr(t, "-C", dir, "apply", "--set", "replicas=-1").expect(t, 1)
	if s := latestStored(t, ns, "hello"); s.version != 2 || s.status != "failed" {
		t.Fatalf("the failing upgrade left %+v", s)
	}
	expectStatusMatchesRelease(t, ns)
	cozyhr(t, "-C", dir, "delete", "--keep-helmrelease").expect(t, 0)
	r := cozyhr(t, "-C", dir, "apply").expect(t, 0)
	if strings.Contains(r.err, "not recorded") {
		t.Errorf("the install after the delete is not recorded:\n%s", r.err)
	}
	expectStatusMatchesRelease(t, ns)
	cozyhr(t, "-C", dir, "apply", "--set", "message=again").expect(t, 0)
	expectStatusMatchesRelease(t, ns)
}
