package cmd

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/lock"
	"github.com/cozyhr/cozyhr/core/upstream"
	"github.com/cozyhr/cozyhr/core/values"
)

// A typed error is said with the flag or command that fixes it wherever
// the engine wrapped it: the wrappers' words stay around it, as they were.
func TestUserMessageSaysTypedErrorsInTheirContext(t *testing.T) {
	key := types.NamespacedName{Namespace: "ns", Name: "app"}
	cases := []struct {
		err  error
		want string
	}{
		{&core.NeedsClusterError{What: "diff"}, "diff needs a cluster; drop --offline"},
		{fmt.Errorf("render app: %w", fmt.Errorf("lookup: %w", &core.NeedsClusterError{What: "this"})), "render app: lookup: this needs a cluster; drop --offline"},
		{fmt.Errorf("chart x: %w", &core.KubeVersionError{Chart: "x", Requires: ">=2", Kubernetes: "1.37"}), "chart x: chart x requires kubeVersion >=2, which is incompatible with Kubernetes 1.37 (set --kube-version when offline)"},
		{fmt.Errorf("apply: %w", &lock.HeldError{Lease: client.ObjectKey{Namespace: "ns", Name: "l"}, Holder: "me@host", Since: time.Unix(0, 0)}),
			"apply: release is locked by me@host since 1970-01-01T00:00:00Z; wait for it with --wait-for-lock, or, if that run is gone, break the lock with: cozyhr unlock -n ns (Lease ns/l)"},
		{fmt.Errorf("values: %w", &values.OverrideError{Kind: values.KindValue, Value: "=x", Err: values.ErrNoKey}), `values: --set "=x": no key before =; write --set key=value`},
		{&values.OverrideError{Kind: values.KindFile, Value: "v.yaml", Err: errors.New("no such file")}, "-f: no such file"},
		{&core.HelmReleaseNotFoundError{Key: key, Release: "app", Namespace: "ns"}, "HelmRelease ns/app not found: create it, or add --plain to work on release app in namespace ns as plain Helm"},
		{fmt.Errorf("install: %w", &core.NamespaceMissingError{Namespace: "x"}), `install: namespace "x" does not exist and --create-namespace=false: create it (kubectl create namespace x), or leave --create-namespace at its default`},
		{fmt.Errorf("upstream.tarball.url uses {{ .Version }}: %w", &upstream.NoVersionError{}), "upstream.tarball.url uses {{ .Version }}: set upstream.tarball.version or pass --version"},
		{&core.NoRevisionError{Release: "app", Revision: 2, Earlier: true}, "release app has no earlier revision than 2 to roll back to; see cozyhr history"},
		{&core.SuspendedError{Key: key}, "HelmRelease ns/app is suspended, so Flux would ignore the request; resume it first with: cozyhr resume"},
		{&kube.KubeconfigError{Missing: true}, "no kubeconfig found (looked at --kubeconfig, KUBECONFIG and ~/.kube/config): point to one with --kubeconfig (show and diff render without a cluster with --offline)"},
		{fmt.Errorf("connect: %w", &kube.UnreachableError{Err: errors.New("tls: bad certificate")}), "connect: cannot reach the cluster: tls: bad certificate (check --kubeconfig/--context; show and diff render without a cluster with --offline)"},
		{&kube.TimeoutError{Server: "https://x", Timeout: time.Second}, "the API server https://x did not answer within 1s: check that it is up and reachable (kubectl get --raw /readyz), or give a slow server longer with --request-timeout"},
		// An error inside one that adds advice is said too; the advice is
		// the command line's.
		{&core.StillSuspendedError{Key: key, Err: fmt.Errorf("render: %w", &core.KubeVersionError{Chart: "c", Requires: ">=2", Kubernetes: "1.37"})},
			"render: chart c requires kubeVersion >=2, which is incompatible with Kubernetes 1.37 (set --kube-version when offline)\nHelmRelease ns/app is still suspended, so Flux will not touch the release: fix the problem and run cozyhr apply again, or hand it back to Flux with: cozyhr resume"},
		{&core.DependenciesError{Chart: "c", Err: errors.New("found in Chart.yaml, but missing in charts/ directory: sub")},
			"chart c: found in Chart.yaml, but missing in charts/ directory: sub (run helm dependency build, or cozyhr update)"},
		// Nothing typed: the message as it is, tidied.
		{errors.New("plain failure\n\n"), "plain failure"},
	}
	for _, c := range cases {
		if got := userMessage(c.err); got != c.want {
			t.Errorf("userMessage(%q)\n got: %q\nwant: %q", c.err.Error(), got, c.want)
		}
	}
}

func TestARefusedConnectionIsExplainedOnceAtTheEnd(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	err := fmt.Errorf("get HelmRelease: %w", refused)
	got := userMessage(err)
	if !strings.HasPrefix(got, err.Error()+": nothing listens there;") || strings.Count(got, "nothing listens") != 1 {
		t.Errorf("refused: %q", got)
	}
	// Said already by the typed error it is in: no second hint.
	wrapped := &kube.UnreachableError{Err: refused}
	if got := userMessage(wrapped); strings.Contains(got, "nothing listens") || !strings.HasSuffix(got, "(check --kubeconfig/--context; show and diff render without a cluster with --offline)") {
		t.Errorf("refused inside a typed error: %q", got)
	}
}

// A wrapper whose words do not end with the error it wraps keeps them:
// its text is never searched for the inner one.
func TestAWrapperThatRewordsKeepsItsWords(t *testing.T) {
	err := reworded{&core.NeedsClusterError{What: "diff"}}
	if got := userMessage(err); got != "in other words" {
		t.Errorf("got %q", got)
	}
}

type reworded struct{ err error }

func (r reworded) Error() string { return "in other words" }
func (r reworded) Unwrap() error { return r.err }
