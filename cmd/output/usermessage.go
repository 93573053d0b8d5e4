package output

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/lock"
	"github.com/cozyhr/cozyhr/core/upstream"
	"github.com/cozyhr/cozyhr/core/values"
)

// UserMessage is an error as the command line says it. The engine's typed
// errors name no flags or commands; the message is rebuilt from the error
// chain, level by level: each wrapper keeps its own words (the context it
// added before the error it wraps), and a typed error is said by cmd with
// the flag or command that fixes it (phrase). A wrapper whose words do not
// end with the error it wraps keeps its words whole.
func UserMessage(err error) string {
	msg, said := rebuild(err)
	if !said && errors.Is(err, syscall.ECONNREFUSED) {
		msg += ": nothing listens there; check that the API server is up and that --kubeconfig/--context point to it (kubectl cluster-info); show and diff render without a cluster with --offline"
	}
	return CleanError(msg)
}

// rebuild is err's message with every typed error in its chain said as
// phrase says it, and whether any was.
func rebuild(err error) (string, bool) {
	if text, ok, said := phrase(err); ok {
		return text, said
	}
	inner := errors.Unwrap(err)
	if inner == nil {
		return err.Error(), false
	}
	own, ok := strings.CutSuffix(err.Error(), inner.Error())
	if !ok {
		return err.Error(), false
	}
	text, said := rebuild(inner)
	return own + text, said
}

// phrase says one typed error of the engine, itself (not what wraps it),
// in the command line's words; said is false where only advice was added
// around an error said as it was.
func phrase(err error) (text string, ok, said bool) {
	switch e := err.(type) {
	case *values.OverrideError:
		return sayOverride(e), true, true
	case *lock.HeldError:
		unlock, what := "cozyhr unlock -n "+e.Lease.Namespace, "release is"
		if strings.HasPrefix(e.What, fleet.LockWhat) {
			unlock, what = "cozyhr unlock --instances", e.What+" are"
		}
		return fmt.Sprintf("%s locked by %s since %s; wait for it with --wait-for-lock, or, if that run is gone, break the lock with: %s (Lease %s)",
			what, e.Holder, e.Since.UTC().Format(time.RFC3339), unlock, e.Lease), true, true
	case *core.NeedsClusterError:
		return e.Error() + "; drop --offline", true, true
	case *kube.KubeconfigError:
		if e.Missing {
			return "no kubeconfig found (looked at --kubeconfig, KUBECONFIG and ~/.kube/config): point to one with --kubeconfig (show and diff render without a cluster with --offline)", true, true
		}
		return e.Error() + ": check the file --kubeconfig or KUBECONFIG names (show and diff render without a cluster with --offline)", true, true
	case *kube.UnreachableError:
		return e.Error() + " (check --kubeconfig/--context; show and diff render without a cluster with --offline)", true, true
	case *kube.TimeoutError:
		return e.Error() + ": check that it is up and reachable (kubectl get --raw /readyz), or give a slow server longer with --request-timeout", true, true
	case *core.KubeVersionError:
		return e.Error() + " (set --kube-version when offline)", true, true
	case *core.HelmReleaseNotFoundError:
		return fmt.Sprintf("HelmRelease %s not found: create it, or add --plain to work on release %s in namespace %s as plain Helm", e.Key, e.Release, e.Namespace), true, true
	case *core.NamespaceMissingError:
		return fmt.Sprintf("%v and --create-namespace=false: create it (kubectl create namespace %s), or leave --create-namespace at its default", e, e.Namespace), true, true
	case *upstream.NoVersionError:
		return e.Error() + " or pass --version", true, true
	case *core.NoRevisionError:
		return e.Error() + "; see cozyhr history", true, true
	case *core.SuspendedError:
		return e.Error() + " with: cozyhr resume", true, true
	case *core.StillSuspendedError:
		// What failed is said as it would be alone; only the advice is ours.
		inner, said := rebuild(e.Err)
		return fmt.Sprintf("%s\nHelmRelease %s is still suspended, so Flux will not touch the release: fix the problem and run cozyhr apply again, or hand it back to Flux with: cozyhr resume", inner, e.Key), true, said
	case *core.DependenciesError:
		inner, said := rebuild(e.Err)
		return fmt.Sprintf("chart %s: %s (run helm dependency build, or cozyhr update)", e.Chart, inner), true, said
	}
	return "", false, false
}

// overrideFlag names each kind of values override by its flag.
func overrideFlag(kind string) string {
	switch kind {
	case values.KindFile:
		return "-f"
	case values.KindJSON:
		return "--set-json"
	case values.KindString:
		return "--set-string"
	case values.KindFileRef:
		return "--set-file"
	case values.KindLiteral:
		return "--set-literal"
	}
	return "--set"
}

// sayOverride says a bad -f or --set value by its flag.
func sayOverride(e *values.OverrideError) string {
	flag := overrideFlag(e.Kind)
	switch {
	case e.Kind == values.KindFile:
		return fmt.Sprintf("%s: %v", flag, e.Err)
	case errors.Is(e.Err, values.ErrNoKey):
		return fmt.Sprintf("%s %q: no key before =; write %s key=value", flag, e.Value, flag)
	}
	return fmt.Sprintf("%s %q: %v", flag, e.Value, e.Err)
}
