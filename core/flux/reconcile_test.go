package flux_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/test/testenv"
)

// steps is a Reporter that keeps its lines.
type steps struct {
	mu    sync.Mutex
	lines []string
}

func (s *steps) add(l string)     { s.mu.Lock(); s.lines = append(s.lines, l); s.mu.Unlock() }
func (s *steps) Step(m string)    { s.add("► " + m) }
func (s *steps) Waiting(m string) { s.add("◎ " + m) }
func (s *steps) Done(m string)    { s.add("✔ " + m) }
func (s *steps) Failed(err error) { s.add("✗ " + err.Error()) }

// The request is the annotation the flux CLI sets; the wait ends when the
// controller (here, the test acting as one) says it handled that request.
func TestReconcileAndWaitAsTheFluxCLIDoes(t *testing.T) {
	ns := namespace(t, "flux-reconcile")
	ctx := context.Background()
	hr := helmRelease(ns, "app", "")
	if err := env.Client.Create(ctx, hr); err != nil {
		t.Fatal(err)
	}
	// The controller: once the request is there, handle it and be ready.
	go func() {
		_ = testenv.WaitFor(ctx, time.Minute, func(ctx context.Context) (bool, error) {
			got := &helmv2.HelmRelease{}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(hr), got); err != nil {
				return false, nil
			}
			token := got.Annotations["reconcile.fluxcd.io/requestedAt"]
			if token == "" || got.Annotations["reconcile.fluxcd.io/forceAt"] != token {
				return false, nil
			}
			got.Status.LastHandledReconcileAt = token
			got.Status.ObservedGeneration = got.Generation
			apimeta.SetStatusCondition(&got.Status.Conditions, metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "UpgradeSucceeded", Message: "done", ObservedGeneration: got.Generation})
			return env.Client.Status().Update(ctx, got) == nil, nil
		})
	}()
	r := &steps{}
	if err := flux.ReconcileAndWait(ctx, env.Client, hr, true, time.Minute, r); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(r.lines, "\n"))
	}
	want := []string{"► annotating HelmRelease flux-reconcile/app", "◎ waiting for HelmRelease reconciliation", "✔ HelmRelease flux-reconcile/app reconciliation completed"}
	if strings.Join(r.lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(r.lines, "\n"), strings.Join(want, "\n"))
	}

	// Nobody handles the next request: the wait ends at its timeout, said
	// once through the reporter.
	r = &steps{}
	err := flux.ReconcileAndWait(ctx, env.Client, hr, false, time.Second, r)
	var reported *flux.ReportedError
	if !errors.As(err, &reported) || !strings.HasPrefix(r.lines[len(r.lines)-1], "✗ ") {
		t.Errorf("an unanswered request: %v\n%s", err, strings.Join(r.lines, "\n"))
	}
	if flux.KindOf(hr) != "HelmRelease" {
		t.Errorf("kind %q", flux.KindOf(hr))
	}
}
