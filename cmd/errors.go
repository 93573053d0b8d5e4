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

// userMessage is an error as the command line says it: core's typed errors
// name no flags, so each is told to say itself with the flag that would fix
// it (its Say method), keeping the context it was wrapped in.
func userMessage(err error) string {
	said := false
	for _, say := range []func(error) bool{
		sayOverride, sayHeld, sayNeedsCluster, sayKubeconfig, sayUnreachable, sayTimeout,
		sayKubeVersion, sayHelmReleaseNotFound, sayNamespaceMissing, sayNoVersion,
	} {
		said = say(err) || said
	}
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

func sayOverride(err error) bool {
	var oe *values.OverrideError
	if !errors.As(err, &oe) {
		return false
	}
	flag := overrideFlag(oe.Kind)
	switch {
	case oe.Kind == values.KindFile:
		oe.Say(fmt.Sprintf("%s: %v", flag, oe.Err))
	case errors.Is(oe.Err, values.ErrNoKey):
		oe.Say(fmt.Sprintf("%s %q: no key before =; write %s key=value", flag, oe.Value, flag))
	default:
		oe.Say(fmt.Sprintf("%s %q: %v", flag, oe.Value, oe.Err))
	}
	return true
}

// isChanges reports an error that only says diff found changes.
func isChanges(err error) bool { return err != nil && ExitCode(err) == ExitChanges }

func sayHeld(err error) bool {
	var he *lock.HeldError
	if !errors.As(err, &he) {
		return false
	}
	he.Say(fmt.Sprintf("release is locked by %s since %s; wait for it with --wait-for-lock, or, if that run is gone, break the lock with: cozyhr unlock -n %s (Lease %s)",
		he.Holder, he.Since.UTC().Format(time.RFC3339), he.Lease.Namespace, he.Lease))
	return true
}

func sayNeedsCluster(err error) bool {
	var ne *core.NeedsClusterError
	if !errors.As(err, &ne) {
		return false
	}
	ne.Say(ne.What + " needs a cluster; drop --offline")
	return true
}

func sayKubeconfig(err error) bool {
	var ke *kube.KubeconfigError
	if !errors.As(err, &ke) {
		return false
	}
	if ke.Missing {
		ke.Say("no kubeconfig found (looked at --kubeconfig, KUBECONFIG and ~/.kube/config): point to one with --kubeconfig, or render without a cluster with --offline")
	} else {
		ke.Say(fmt.Sprintf("kubeconfig is not readable as a kubeconfig file (%v): check the file --kubeconfig or KUBECONFIG names, or render with --offline", ke.Err))
	}
	return true
}

func sayUnreachable(err error) bool {
	var ue *kube.UnreachableError
	if !errors.As(err, &ue) {
		return false
	}
	ue.Say(fmt.Sprintf("cannot reach the cluster: %v (check --kubeconfig/--context, or render with --offline)", ue.Err))
	return true
}

func sayTimeout(err error) bool {
	var te *kube.TimeoutError
	if !errors.As(err, &te) {
		return false
	}
	te.Say(fmt.Sprintf("the API server %s did not answer within %s: check that it is up and reachable (kubectl get --raw /readyz), or give a slow server longer with --request-timeout", te.Server, te.Timeout))
	return true
}

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

func sayKubeVersion(err error) bool {
	var ke *core.KubeVersionError
	if !errors.As(err, &ke) {
		return false
	}
	ke.Say(fmt.Sprintf("chart %s requires kubeVersion %s, which is incompatible with Kubernetes %s (set --kube-version when offline)", ke.Chart, ke.Requires, ke.Kubernetes))
	return true
}

func sayNamespaceMissing(err error) bool {
	var ne *core.NamespaceMissingError
	if !errors.As(err, &ne) {
		return false
	}
	ne.Say(fmt.Sprintf("namespace %q does not exist and --create-namespace=false: create it (kubectl create namespace %s), or leave --create-namespace at its default", ne.Namespace, ne.Namespace))
	return true
}

func sayHelmReleaseNotFound(err error) bool {
	var ne *core.HelmReleaseNotFoundError
	if !errors.As(err, &ne) {
		return false
	}
	ne.Say(fmt.Sprintf("HelmRelease %s not found: create it, or add --plain to work on release %s in namespace %s as plain Helm", ne.Key, ne.Release, ne.Namespace))
	return true
}

func sayNoVersion(err error) bool {
	var ne *upstream.NoVersionError
	if !errors.As(err, &ne) {
		return false
	}
	ne.Say("set upstream.tarball.version or pass --version")
	return true
}
