// Package core is cozyhr's engine: it renders a chart, post-processes the
// manifests, diffs them against the live cluster and applies them, as a
// library that knows nothing of the command line. Errors are typed where a
// caller may act on them; exit codes and flag names are the caller's.
package core

import (
	"fmt"

	"k8s.io/apimachinery/pkg/types"
)

// NeedsClusterError is a command run offline that reads or writes the
// cluster.
type NeedsClusterError struct {
	What string
}

func (e *NeedsClusterError) Error() string { return e.What + " needs a cluster" }

// NamespaceMissingError is an install into a namespace that does not
// exist, by a caller that said not to create it.
type NamespaceMissingError struct {
	Namespace string
}

func (e *NamespaceMissingError) Error() string {
	return fmt.Sprintf("namespace %q does not exist", e.Namespace)
}

// KubeVersionError is a chart whose kubeVersion range excludes the
// Kubernetes version it is rendered for.
type KubeVersionError struct {
	Chart, Requires, Kubernetes string
}

func (e *KubeVersionError) Error() string {
	return fmt.Sprintf("chart %s requires kubeVersion %s, which is incompatible with Kubernetes %s", e.Chart, e.Requires, e.Kubernetes)
}

// HelmReleaseNotFoundError is a HelmRelease named on purpose (in
// .cozyhr.yaml or by NAME) that does not exist: cozyhr never falls back to
// another release quietly.
type HelmReleaseNotFoundError struct {
	Key                types.NamespacedName
	Release, Namespace string
}

func (e *HelmReleaseNotFoundError) Error() string {
	return fmt.Sprintf("HelmRelease %s not found: create it, or work on release %s in namespace %s as plain Helm", e.Key, e.Release, e.Namespace)
}

// NoRevisionError is a rollback to a revision the release does not have:
// none before Revision when Earlier, else Revision itself.
type NoRevisionError struct {
	Release  string
	Revision int
	Earlier  bool
}

func (e *NoRevisionError) Error() string {
	if e.Earlier {
		return fmt.Sprintf("release %s has no earlier revision than %d to roll back to", e.Release, e.Revision)
	}
	return fmt.Sprintf("release %s has no revision %d", e.Release, e.Revision)
}

// SuspendedError is a reconciliation asked of a suspended HelmRelease,
// which Flux would ignore.
type SuspendedError struct {
	Key types.NamespacedName
}

func (e *SuspendedError) Error() string {
	return fmt.Sprintf("HelmRelease %s is suspended, so Flux would ignore the request; resume it first", e.Key)
}

// StillSuspendedError is an apply that failed while it held the
// HelmRelease suspended: Flux will not touch the release.
type StillSuspendedError struct {
	Err error
	Key types.NamespacedName
}

func (e *StillSuspendedError) Error() string {
	return fmt.Sprintf("%v\nHelmRelease %s is still suspended, so Flux will not touch the release: %s", e.Err, e.Key,
		"fix the problem and apply again, or resume the HelmRelease to hand it back to Flux")
}

func (e *StillSuspendedError) Unwrap() error { return e.Err }

// DependenciesError is a chart whose declared dependencies are not all in
// its charts/ directory.
type DependenciesError struct {
	Chart string
	Err   error
}

func (e *DependenciesError) Error() string {
	return fmt.Sprintf("chart %s: %v (%s)", e.Chart, e.Err, "run helm dependency build")
}

func (e *DependenciesError) Unwrap() error { return e.Err }
