package fleet

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/core/kube"
	"github.com/cozyhr/cozyhr/core/lock"
)

// A chart's instances are applied as one: a run over them holds a lock on
// the whole fleet before it takes any instance's own, so that two runs
// never interleave and leave some instances with one run's values and the
// rest with the other's. The lock is per chart, whatever the selection:
// two selections of one chart may overlap. Its Lease lives in namespace
// default, the one namespace every cluster has, whichever namespaces the
// instances are in.
const (
	lockNamespace = "default"
	// LockWhat begins what a fleet lock's messages say it guards.
	LockWhat = "the instances of chart "
)

// LockKey is the Lease that locks the instances of chart.
func LockKey(chart string) client.ObjectKey {
	return client.ObjectKey{Namespace: lockNamespace, Name: "cozyhr-fleet-lock-" + chart}
}

// Lock takes the lock on the instances of chart for command; see
// lock.Acquire for waiting and taking over a dead holder's lock.
func Lock(ctx context.Context, c *kube.Cluster, chart string, o lock.Options) (*lock.ReleaseLock, error) {
	cl, err := c.Client()
	if err != nil {
		return nil, err
	}
	o.Lease, o.What = LockKey(chart).Name, LockWhat+chart
	return lock.Acquire(ctx, cl, lockNamespace, chart, o)
}

// Unlock breaks the lock on the instances of chart, whoever holds it, and
// says who did; "" when there was none.
func Unlock(ctx context.Context, c *kube.Cluster, chart string) (string, error) {
	cl, err := c.Client()
	if err != nil {
		return "", err
	}
	return lock.BreakLease(ctx, cl, LockKey(chart))
}
