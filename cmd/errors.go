package cmd

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/cozyhr/cozyhr/cmd/output"
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/lock"
	"github.com/cozyhr/cozyhr/core/upstream"
	"github.com/cozyhr/cozyhr/core/values"
)

// sayer is a typed error of the engine that the command line may say in
// its own words (Say), wherever it was wrapped.
type sayer interface {
	error
	Say(text string)
}

// say tells the error of type T in err's chain, if there is one, to read
// as text says it.
func say[T sayer](err error, text func(T) string) bool {
	var t T
	if !errors.As(err, &t) {
		return false
	}
	t.Say(text(t))
	return true
}

// userMessage is an error as the command line says it: core's typed errors
// name no flags or commands, so each is told to say itself with the flag
// or command that would fix it, keeping the context it was wrapped in.
func userMessage(err error) string {
	said := false
	for _, s := range []bool{
		say(err, sayOverride),
		say(err, func(e *lock.HeldError) string {
			return fmt.Sprintf("release is locked by %s since %s; wait for it with --wait-for-lock, or, if that run is gone, break the lock with: cozyhr unlock -n %s (Lease %s)",
				e.Holder, e.Since.UTC().Format(time.RFC3339), e.Lease.Namespace, e.Lease)
		}),
		say(err, func(e *core.NeedsClusterError) string { return e.What + " needs a cluster; drop --offline" }),
		say(err, func(e *kube.KubeconfigError) string {
			if e.Missing {
				return "no kubeconfig found (looked at --kubeconfig, KUBECONFIG and ~/.kube/config): point to one with --kubeconfig, or render without a cluster with --offline"
			}
			return fmt.Sprintf("kubeconfig is not readable as a kubeconfig file (%v): check the file --kubeconfig or KUBECONFIG names, or render with --offline", e.Err)
		}),
		say(err, func(e *kube.UnreachableError) string {
			return fmt.Sprintf("cannot reach the cluster: %v (check --kubeconfig/--context, or render with --offline)", e.Err)
		}),
		say(err, func(e *kube.TimeoutError) string {
			return fmt.Sprintf("the API server %s did not answer within %s: check that it is up and reachable (kubectl get --raw /readyz), or give a slow server longer with --request-timeout", e.Server, e.Timeout)
		}),
		say(err, func(e *core.KubeVersionError) string {
			return fmt.Sprintf("chart %s requires kubeVersion %s, which is incompatible with Kubernetes %s (set --kube-version when offline)", e.Chart, e.Requires, e.Kubernetes)
		}),
		say(err, func(e *core.HelmReleaseNotFoundError) string {
			return fmt.Sprintf("HelmRelease %s not found: create it, or add --plain to work on release %s in namespace %s as plain Helm", e.Key, e.Release, e.Namespace)
		}),
		say(err, func(e *core.NamespaceMissingError) string {
			return fmt.Sprintf("namespace %q does not exist and --create-namespace=false: create it (kubectl create namespace %s), or leave --create-namespace at its default", e.Namespace, e.Namespace)
		}),
		say(err, func(*upstream.NoVersionError) string { return "set upstream.tarball.version or pass --version" }),
	} {
		said = said || s
	}
	// The engine's advice names the cozyhr command that goes on; it
	// changes advice only, never what failed.
	say(err, func(e *core.NoRevisionError) string {
		if e.Earlier {
			return fmt.Sprintf("release %s has no earlier revision than %d to roll back to; see cozyhr history", e.Release, e.Revision)
		}
		return fmt.Sprintf("release %s has no revision %d; see cozyhr history", e.Release, e.Revision)
	})
	say(err, func(e *core.SuspendedError) string {
		return fmt.Sprintf("HelmRelease %s is suspended, so Flux would ignore the request; resume it first with: cozyhr resume", e.Key)
	})
	say(err, func(*core.StillSuspendedError) string {
		return "fix the problem and run cozyhr apply again, or hand it back to Flux with: cozyhr resume"
	})
	say(err, func(*core.DependenciesError) string { return "run helm dependency build, or cozyhr update" })
	msg := err.Error()
	if !said && errors.Is(err, syscall.ECONNREFUSED) {
		msg += ": nothing listens there; check that the API server is up and that --kubeconfig/--context point to it (kubectl cluster-info), or render with --offline"
	}
	return output.CleanError(msg)
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

// isChanges reports an error that only says diff found changes.
func isChanges(err error) bool { return err != nil && ExitCode(err) == ExitChanges }

// explainTimeout replaces an error caused by a server that did not answer
// with the timeout itself, whatever the library in between made of it.
func explainTimeout(t *kube.RequestTimeouts, err error) error {
	if err == nil {
		return nil
	}
	if te := t.TimedOut(); te != nil {
		var ee *ExitError
		if errors.As(err, &ee) && ee.Silent {
			return err
		}
		return te
	}
	return err
}
