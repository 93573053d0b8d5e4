package cmd

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/lock"
	"github.com/cozyhr/cozyhr/core/upstream"
	"github.com/cozyhr/cozyhr/core/values"
)

// userMessage is an error as the command line says it: core's typed errors
// name no flags, so the flag that would fix each is named here, in place of
// the library's own wording and keeping the context it was wrapped in.
func userMessage(err error) string {
	msg := err.Error()
	// Each recognises one typed error in the chain and says it with the
	// command line's flags.
	phrasings := []func(error) (error, string, bool){
		phraseOverride,
		phraseHeld,
		phraseNeedsCluster,
		phraseKubeconfig,
		phraseUnreachable,
		phraseTimeout,
		phraseKubeVersion,
		phraseHelmReleaseNotFound,
		phraseNamespaceMissing,
		phraseNoVersion,
		phraseRefused,
	}
	for _, p := range phrasings {
		if inner, text, ok := p(err); ok {
			msg = strings.Replace(msg, inner.Error(), text, 1)
		}
	}
	return cleanError(msg)
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

func phraseOverride(err error) (error, string, bool) {
	var oe *values.OverrideError
	if !errors.As(err, &oe) {
		return nil, "", false
	}
	flag := overrideFlag(oe.Kind)
	switch {
	case oe.Kind == values.KindFile:
		return oe, fmt.Sprintf("%s: %v", flag, oe.Err), true
	case errors.Is(oe.Err, values.ErrNoKey):
		return oe, fmt.Sprintf("%s %q: no key before =; write %s key=value", flag, oe.Value, flag), true
	}
	return oe, fmt.Sprintf("%s %q: %v", flag, oe.Value, oe.Err), true
}

// multiErrorHead is how go-multierror (used by Helm) opens its message.
var multiErrorHead = regexp.MustCompile(`(\d+) errors? occurred:\n`)

// cleanError tidies Helm's multi-errors ("1 error occurred:\n\t* x\n\n")
// into one line, or a short list, and drops trailing blank lines.
func cleanError(msg string) string {
	for {
		loc := multiErrorHead.FindStringSubmatchIndex(msg)
		if loc == nil {
			break
		}
		rest := msg[loc[1]:]
		var items []string
		for strings.HasPrefix(rest, "\t* ") {
			line, tail, _ := strings.Cut(rest[3:], "\n")
			items = append(items, line)
			rest = tail
		}
		rest = strings.TrimLeft(rest, "\n")
		joined := strings.Join(items, "; ")
		if len(items) > 1 {
			joined = "\n  - " + strings.Join(items, "\n  - ")
		}
		if rest != "" {
			joined += "\n" + rest
		}
		msg = msg[:loc[0]] + joined
	}
	return strings.TrimRight(msg, "\n\t ")
}

// isChanges reports an error that only says diff found changes.
func isChanges(err error) bool { return err != nil && ExitCode(err) == ExitChanges }

func phraseHeld(err error) (error, string, bool) {
	var he *lock.HeldError
	if !errors.As(err, &he) {
		return nil, "", false
	}
	return he, fmt.Sprintf("release is locked by %s since %s; wait for it with --wait-for-lock, or, if that run is gone, break the lock with: cozyhr unlock -n %s (Lease %s)",
		he.Holder, he.Since.UTC().Format(time.RFC3339), he.Lease.Namespace, he.Lease), true
}

func phraseNeedsCluster(err error) (error, string, bool) {
	var ne *core.NeedsClusterError
	if !errors.As(err, &ne) {
		return nil, "", false
	}
	return ne, ne.Error() + "; drop --offline", true
}

func phraseKubeconfig(err error) (error, string, bool) {
	var ke *kube.KubeconfigError
	if !errors.As(err, &ke) {
		return nil, "", false
	}
	if ke.Missing {
		return ke, "no kubeconfig found (looked at --kubeconfig, KUBECONFIG and ~/.kube/config): point to one with --kubeconfig, or render without a cluster with --offline", true
	}
	return ke, ke.Error() + ": check the file --kubeconfig or KUBECONFIG names, or render with --offline", true
}

func phraseUnreachable(err error) (error, string, bool) {
	var ue *kube.UnreachableError
	if !errors.As(err, &ue) {
		return nil, "", false
	}
	return ue, ue.Error() + " (check --kubeconfig/--context, or render with --offline)", true
}

func phraseTimeout(err error) (error, string, bool) {
	var te *kube.TimeoutError
	if !errors.As(err, &te) {
		return nil, "", false
	}
	return te, te.Error() + ": check that it is up and reachable (kubectl get --raw /readyz), or give a slow server longer with --request-timeout", true
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

func phraseKubeVersion(err error) (error, string, bool) {
	var ke *core.KubeVersionError
	if !errors.As(err, &ke) {
		return nil, "", false
	}
	return ke, ke.Error() + " (set --kube-version when offline)", true
}

func phraseNamespaceMissing(err error) (error, string, bool) {
	var ne *core.NamespaceMissingError
	if !errors.As(err, &ne) {
		return nil, "", false
	}
	return ne, fmt.Sprintf("%v and --create-namespace=false: create it (kubectl create namespace %s), or leave --create-namespace at its default", ne, ne.Namespace), true
}

func phraseHelmReleaseNotFound(err error) (error, string, bool) {
	var ne *core.HelmReleaseNotFoundError
	if !errors.As(err, &ne) {
		return nil, "", false
	}
	return ne, fmt.Sprintf("HelmRelease %s not found: create it, or add --plain to work on release %s in namespace %s as plain Helm", ne.Key, ne.Release, ne.Namespace), true
}

func phraseNoVersion(err error) (error, string, bool) {
	if !errors.Is(err, upstream.ErrNoVersion) {
		return nil, "", false
	}
	return upstream.ErrNoVersion, upstream.ErrNoVersion.Error() + " or pass --version", true
}

func phraseRefused(err error) (error, string, bool) {
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return nil, "", false
	}
	// The whole message stays; the hint is added at its end.
	return err, err.Error() + ": nothing listens there; check that the API server is up and that --kubeconfig/--context point to it (kubectl cluster-info), or render with --offline", true
}
