package lock_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/core/lock"
	"github.com/cozyhr/cozyhr/test/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

func lease(t *testing.T, ns, release string) *coordinationv1.Lease {
	t.Helper()
	l := &coordinationv1.Lease{}
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: lock.LockName(release)}, l)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestASecondRunIsRefusedAndTheLockIsGivenUp(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	ns := "lock-held"
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	first, err := lock.Acquire(ctx, env.Client, ns, "app", lock.Options{Command: "apply"})
	if err != nil || first == nil {
		t.Fatalf("first: %v, %v", first, err)
	}
	l := lease(t, ns, "app")
	if l == nil || ptr.Deref(l.Spec.HolderIdentity, "") != first.Holder || !strings.HasSuffix(first.Holder, ": cozyhr apply") || l.Labels["app.kubernetes.io/managed-by"] != "cozyhr" {
		t.Fatalf("lease %+v, holder %q", l, first.Holder)
	}
	_, err = lock.Acquire(ctx, env.Client, ns, "app", lock.Options{Command: "delete"})
	var held *lock.HeldError
	if !errors.As(err, &held) || !errors.Is(err, lock.ErrLocked) || held.Holder != first.Holder || held.Lease.Name != "cozyhr-lock-app" {
		t.Fatalf("second: %v", err)
	}
	if !strings.Contains(err.Error(), "release app is locked by "+first.Holder) {
		t.Errorf("message %q", err.Error())
	}
	// Another release of the namespace has a lock of its own.
	other, err := lock.Acquire(ctx, env.Client, ns, "other", lock.Options{Command: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	other.Release()
	first.Release()
	if lease(t, ns, "app") != nil {
		t.Error("the Lease outlived Release")
	}
	again, err := lock.Acquire(ctx, env.Client, ns, "app", lock.Options{Command: "apply"})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again.Release()
	var none *lock.ReleaseLock
	none.Release() // a nil lock (nothing to guard) is given up as well
	none.ReleaseAndUndo()
}

func TestAWaitingRunTakesTheLockWhenItIsFree(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	ns := "lock-wait"
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	first, err := lock.Acquire(ctx, env.Client, ns, "app", lock.Options{Command: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	logged := make(chan string, 10)
	got := make(chan error, 1)
	go func() {
		l, err := lock.Acquire(ctx, env.Client, ns, "app", lock.Options{Command: "apply", Wait: true, Log: func(s string) { logged <- s }})
		if err == nil {
			l.Release()
		}
		got <- err
	}()
	// The waiter says it waits; then the first gives the lock up.
	if msg := <-logged; !strings.Contains(msg, "waiting for the lock on release app") {
		t.Errorf("log %q", msg)
	}
	first.Release()
	if err := <-got; err != nil {
		t.Errorf("the waiter: %v", err)
	}

	// A waiter whose run ends stops waiting.
	holder, err := lock.Acquire(ctx, env.Client, ns, "app", lock.Options{Command: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Release()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = lock.Acquire(cctx, env.Client, ns, "app", lock.Options{Wait: true})
	if err == nil || !errors.Is(err, context.Canceled) && !strings.Contains(err.Error(), "canceled") {
		t.Errorf("an interrupted wait: %v", err)
	}
}

// A lock whose holder stopped renewing it is taken over, saying from whom.
func TestAnExpiredLockIsTakenOver(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	ns := "lock-expired"
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	old := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	stale := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: lock.LockName("app")},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("someone@elsewhere pid 1: cozyhr apply"), LeaseDurationSeconds: ptr.To(int32(30)), RenewTime: &old, AcquireTime: &old}}
	if err := env.Client.Create(ctx, stale); err != nil {
		t.Fatal(err)
	}
	var log []string
	l, err := lock.Acquire(ctx, env.Client, ns, "app", lock.Options{Command: "apply", Log: func(s string) { log = append(log, s) }})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if len(log) != 1 || !strings.Contains(log[0], "taking over the lock on release app from someone@elsewhere pid 1: cozyhr apply, which stopped renewing it") {
		t.Errorf("log %q", log)
	}
	if got := lease(t, ns, "app"); ptr.Deref(got.Spec.HolderIdentity, "") != l.Holder {
		t.Errorf("holder %q", ptr.Deref(got.Spec.HolderIdentity, ""))
	}
}

// No namespace: nothing of the release exists to guard, unless apply may
// create it; then the lock makes it, and a run that wrote nothing takes it
// away again.
func TestAMissingNamespace(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	l, err := lock.Acquire(ctx, env.Client, "lock-nowhere", "app", lock.Options{})
	if err != nil || l != nil {
		t.Errorf("nothing to guard: %v, %v", l, err)
	}
	l, err = lock.Acquire(ctx, env.Client, "lock-created", "app", lock.Options{CreateNamespace: true})
	if err != nil || l == nil {
		t.Fatalf("a first install: %v, %v", l, err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "lock-created"}, &corev1.Namespace{}); err != nil {
		t.Fatalf("the namespace was not made: %v", err)
	}
	l.ReleaseAndUndo()
	ns := &corev1.Namespace{}
	err = env.Client.Get(ctx, client.ObjectKey{Name: "lock-created"}, ns)
	if err == nil && ns.DeletionTimestamp == nil {
		t.Error("the namespace a failed first install made is still there")
	}
}

func TestBreakSaysWhoHeldTheLock(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	ns := "lock-break"
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	if holder, err := lock.Break(ctx, env.Client, ns, "app"); err != nil || holder != "" {
		t.Errorf("no lock: %q, %v", holder, err)
	}
	l, err := lock.Acquire(ctx, env.Client, ns, "app", lock.Options{Command: "rollback"})
	if err != nil {
		t.Fatal(err)
	}
	holder, err := lock.Break(ctx, env.Client, ns, "app")
	if err != nil || holder != l.Holder {
		t.Errorf("broke %q, %v; want %q", holder, err, l.Holder)
	}
	// The run whose lock was broken gives up nothing of another's.
	next, err := lock.Acquire(ctx, env.Client, ns, "app", lock.Options{Command: "apply"})
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
	if got := lease(t, ns, "app"); got == nil || ptr.Deref(got.Spec.HolderIdentity, "") != next.Holder {
		t.Error("releasing a broken lock deleted the next run's")
	}
	next.Release()
}
