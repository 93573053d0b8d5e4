package cmd

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/cozyhr/cozyhr/test/testenv"
)

// Two apply --instances over one fleet never interleave: the second is
// refused while the first holds the fleet's lock, or waits for it with
// --wait-for-lock, and every instance ends with the values of the run
// that went last.
func TestApplyInstancesHoldsTheFleetLock(t *testing.T) {
	namespaces := []string{"fleet-lock-a", "fleet-lock-b", "fleet-lock-c"}
	for _, ns := range namespaces {
		createHelmRelease(t, ns, "hello", `{}`)
	}
	dir := chartCopy(t, "fleet-lock-a")
	gate, started := filepath.Join(t.TempDir(), "gate"), filepath.Join(t.TempDir(), "started")
	// Each instance's pre-apply hook says it started and waits for the
	// gate: the first run holds the fleet's lock until the test opens it.
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), fmt.Sprintf(`apiVersion: cozyhr.io/v1alpha1
kind: Chart
release: {name: hello, namespace: fleet-lock-a}
hooks:
  apply:
    pre:
      - name: gate
        command: sh
        args: ["-c", "touch %s; while [ ! -e %s ]; do sleep 0.05; done"]
`, started, gate))
	first, firstErr := watchedCozyhr(t, "-C", dir, "apply", "--instances", "--yes", "--set", "message=first")
	waitUntil(t, "the first run to reach its hook", func() bool { _, err := os.Stat(started); return err == nil }, firstErr)

	refused := cozyhr(t, "-C", dir, "apply", "--instances", "--yes", "--set", "message=refused").expect(t, 1)
	for _, want := range []string{"the instances of chart hello are locked by", "cozyhr apply --instances", "--wait-for-lock", "cozyhr unlock --instances", "default/cozyhr-fleet-lock-hello"} {
		if !strings.Contains(refused.err, want) {
			t.Errorf("the refusal lacks %q:\n%s", want, refused.err)
		}
	}
	second, secondErr := watchedCozyhr(t, "-C", dir, "--wait-for-lock", "apply", "--instances", "--yes", "--set", "message=second")
	waitUntil(t, "the second run to wait", func() bool {
		return strings.Contains(secondErr.String(), "waiting for the lock on the instances of chart hello")
	}, secondErr)
	writeFile(t, gate, "")
	(<-first).expect(t, 0)
	(<-second).expect(t, 0)
	for _, ns := range namespaces {
		cm := &corev1.ConfigMap{}
		if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "hello-content"}, cm); err != nil {
			t.Fatal(err)
		}
		if got := cm.Data["index.html"]; !strings.Contains(got, "second") {
			t.Errorf("%s ends with %q, not the second run's values", ns, got)
		}
	}
	if r := cozyhr(t, "-C", dir, "unlock", "--instances").expect(t, 0); !strings.Contains(r.err, "The chart's instances are not locked.") {
		t.Errorf("the fleet lock was left behind:\n%s", r.err)
	}
}

// waitUntil waits for what a background run is expected to reach.
func waitUntil(t *testing.T, what string, reached func() bool, stderr *lockedBuffer) {
	t.Helper()
	if err := testenv.WaitFor(context.Background(), 2*time.Minute, func(context.Context) (bool, error) { return reached(), nil }); err != nil {
		t.Fatalf("waiting for %s: %v\n%s", what, err, stderr.String())
	}
}
