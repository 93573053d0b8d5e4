// Package lock keeps two runs from writing one release at once: a Lease
// beside the release's storage, renewed while the run lasts.
package lock

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"regexp"
	"strconv"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Lock timing: a holder renews its Lease well within its duration, so a
// lock whose holder died (SIGKILL, a lost laptop) frees itself in seconds.
const (
	lockDuration = 30 * time.Second
	lockRenew    = 10 * time.Second
)

// ErrLocked is returned when another run holds the release's lock.
var ErrLocked = errors.New("locked")

// ReleaseLock is a held lock on one release: a Lease beside the release's
// storage, renewed while the run lasts.
type ReleaseLock struct {
	cl     client.Client
	key    client.ObjectKey
	stop   chan struct{}
	done   chan struct{}
	Holder string
	// log tells the user what the lock does on their behalf.
	log func(string)
	// createNamespace lets apply create a missing storage namespace;
	// noNamespace says it was missing, so there is no Lease to hold.
	createNamespace, noNamespace bool
	// createdNamespace says this lock made the namespace: a run that
	// then writes nothing takes it away again (ReleaseAndUndo).
	createdNamespace bool
	release          string
	// what the lock guards, for its messages: "release NAME".
	what string
}

// LockName is the Lease that locks a release.
func LockName(release string) string { return "cozyhr-lock-" + release }

// holderPID finds this machine's process in a holder identity.
var holderPID = regexp.MustCompile(`^[^@]*@(\S+) pid (\d+):`)

// holderGone reports a holder that ran on this machine and has ended, by
// SIGKILL or a crash, without giving its lock up: its lock is taken over
// at once instead of after it expires.
func holderGone(holder string) bool {
	m := holderPID.FindStringSubmatch(holder)
	if m == nil {
		return false
	}
	host, _ := os.Hostname()
	pid, err := strconv.Atoi(m[2])
	return err == nil && m[1] == host && pid != os.Getpid() && ProcessGone(pid)
}

func lockHolder(command string) string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%s pid %d: cozyhr %s", name, host, os.Getpid(), command)
}

// Options tune Acquire.
type Options struct {
	// Command is what the holder runs (apply, delete, rollback), for the
	// message another run gets.
	Command string
	// Wait waits for a live holder until ctx ends, instead of refusing.
	Wait bool
	// CreateNamespace creates a missing storage namespace to hold the
	// lock in, as an install that creates its namespace would. Without it
	// a missing namespace means nothing of the release exists to guard.
	CreateNamespace bool
	// Log tells the user what the lock does on their behalf.
	Log func(string)
	// Lease and What name a lock on something other than one release
	// (the instances of a chart): its Lease, and what it guards, for the
	// messages ("the instances of chart app").
	Lease, What string
}

// Acquire takes the lock on release name, stored in namespace, so that two
// runs never write the same release at once. A lock held by a live run is
// refused at once with a *HeldError; with Wait it is waited for. An
// expired lock (its holder stopped renewing it) is taken over. It returns
// nil, and no error, when the namespace does not exist and may not be
// created: there is nothing to guard.
func Acquire(ctx context.Context, cl client.Client, namespace, name string, o Options) (*ReleaseLock, error) {
	l := &ReleaseLock{cl: cl, key: client.ObjectKey{Namespace: namespace, Name: cmp.Or(o.Lease, LockName(name))}, Holder: lockHolder(o.Command),
		createNamespace: o.CreateNamespace, log: o.Log, release: name, what: cmp.Or(o.What, "release "+name)}
	said := false
	for {
		err := l.acquire(ctx)
		if err == nil {
			break
		}
		if !errors.Is(err, ErrLocked) || !o.Wait {
			return nil, err
		}
		if !said && o.Log != nil {
			o.Log(fmt.Sprintf("waiting for the lock on %s: %v", l.what, err))
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the lock on %s: %w", l.what, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	if l.noNamespace {
		return nil, nil
	}
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	go l.renew()
	return l, nil
}

// HeldError says who holds the lock, since when, and which Lease it is.
type HeldError struct {
	Lease  client.ObjectKey
	Holder string
	Since  time.Time
	// What is what the lock guards: "release NAME".
	What string
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("%s is locked by %s since %s (Lease %s)", cmp.Or(e.What, "release"), e.Holder, e.Since.UTC().Format(time.RFC3339), e.Lease)
}

func (e *HeldError) Unwrap() error { return ErrLocked }

func (l *ReleaseLock) acquire(ctx context.Context) error {
	now := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{}
	err := l.cl.Get(ctx, l.key, lease)
	if apierrors.IsNotFound(err) {
		lease = &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Name: l.key.Name, Namespace: l.key.Namespace, Labels: map[string]string{"app.kubernetes.io/managed-by": "cozyhr"}},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &l.Holder, LeaseDurationSeconds: ptr.To(int32(lockDuration / time.Second)),
				AcquireTime: &now, RenewTime: &now},
		}
		err = l.cl.Create(ctx, lease)
		if apierrors.IsAlreadyExists(err) {
			return l.acquire(ctx)
		}
		if apierrors.IsNotFound(err) && l.createNamespace {
			// A first install: the release's namespace is made as apply
			// would make it, to hold the lock from the start.
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: l.key.Namespace}}
			if cerr := l.cl.Create(ctx, ns); cerr != nil && !apierrors.IsAlreadyExists(cerr) {
				return fmt.Errorf("lock release: create namespace %s: %w", l.key.Namespace, cerr)
			}
			l.createNamespace, l.createdNamespace = false, true
			return l.acquire(ctx)
		}
		if apierrors.IsNotFound(err) {
			l.noNamespace = true // nothing of the release exists to guard
			return nil
		}
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			if l.createNamespace {
				return fmt.Errorf("lock release: namespace %s is being deleted: wait until it is gone, then run again", l.key.Namespace)
			}
			l.noNamespace = true // going, with all it holds: nothing to guard
			return nil
		}
		if err != nil {
			return fmt.Errorf("lock release: create Lease %s: %w", l.key, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("lock release: read Lease %s: %w", l.key, err)
	}
	s := lease.Spec
	holder := ptr.Deref(s.HolderIdentity, "")
	gone := holderGone(holder)
	live := s.RenewTime != nil && s.LeaseDurationSeconds != nil &&
		time.Since(s.RenewTime.Time) < time.Duration(*s.LeaseDurationSeconds)*time.Second
	if live && !gone {
		since := s.RenewTime.Time
		if s.AcquireTime != nil {
			since = s.AcquireTime.Time
		}
		return &HeldError{Lease: l.key, Holder: cmp.Or(holder, "another run"), Since: since, What: l.what}
	}
	// Expired, or its holder was killed on this machine. The update fails
	// on a conflict if another run takes it over first.
	if holder != "" && l.log != nil {
		why := "which stopped renewing it"
		if gone {
			why = "which is no longer running"
		}
		l.log(fmt.Sprintf("taking over the lock on %s from %s, %s", l.what, holder, why))
	}
	lease.Spec.HolderIdentity, lease.Spec.AcquireTime, lease.Spec.RenewTime = &l.Holder, &now, &now
	lease.Spec.LeaseDurationSeconds = ptr.To(int32(lockDuration / time.Second))
	if err := l.cl.Update(ctx, lease); err != nil {
		if apierrors.IsConflict(err) {
			return l.acquire(ctx)
		}
		return fmt.Errorf("lock release: take over Lease %s: %w", l.key, err)
	}
	return nil
}

func (l *ReleaseLock) renew() {
	defer close(l.done)
	t := time.NewTicker(lockRenew)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			lease := &coordinationv1.Lease{}
			if err := l.cl.Get(ctx, l.key, lease); err == nil && ptr.Deref(lease.Spec.HolderIdentity, "") == l.Holder {
				now := metav1.NewMicroTime(time.Now())
				lease.Spec.RenewTime = &now
				_ = l.cl.Update(ctx, lease)
			}
			cancel()
		}
	}
}

// Release gives the lock up; it works after Ctrl-C too.
func (l *ReleaseLock) Release() {
	if l == nil {
		return
	}
	close(l.stop)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lease := &coordinationv1.Lease{}
	if err := l.cl.Get(ctx, l.key, lease); err == nil && ptr.Deref(lease.Spec.HolderIdentity, "") == l.Holder {
		_ = l.cl.Delete(ctx, lease, client.Preconditions{ResourceVersion: &lease.ResourceVersion})
	}
}

// ReleaseAndUndo gives the lock up and, when the lock made the namespace
// and no revision of the release was stored there (the run failed before
// Helm wrote anything), deletes the namespace again: a failed first apply
// leaves nothing behind.
func (l *ReleaseLock) ReleaseAndUndo() {
	if l == nil {
		return
	}
	l.Release()
	if !l.createdNamespace {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var stored corev1.SecretList
	if err := l.cl.List(ctx, &stored, client.InNamespace(l.key.Namespace), client.MatchingLabels{"owner": "helm", "name": l.release}); err != nil || len(stored.Items) > 0 {
		return
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: l.key.Namespace}}
	_ = client.IgnoreNotFound(l.cl.Delete(ctx, ns))
}

// Break deletes the lock on release name in namespace, whoever holds it,
// and says who did; "" when there was none.
func Break(ctx context.Context, cl client.Client, namespace, name string) (string, error) {
	return BreakLease(ctx, cl, client.ObjectKey{Namespace: namespace, Name: LockName(name)})
}

// BreakLease deletes the lock held in Lease key, whoever holds it, and
// says who did; "" when there was none.
func BreakLease(ctx context.Context, cl client.Client, key client.ObjectKey) (string, error) {
	lease := &coordinationv1.Lease{}
	if err := cl.Get(ctx, key, lease); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", err
	}
	if err := client.IgnoreNotFound(cl.Delete(ctx, lease)); err != nil {
		return "", fmt.Errorf("delete Lease %s: %w", key, err)
	}
	return ptr.Deref(lease.Spec.HolderIdentity, "unknown"), nil
}
