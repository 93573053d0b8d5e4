package batch

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func jobs(spec ...string) []Job {
	var out []Job
	for _, s := range spec {
		name, deps, _ := strings.Cut(s, "<")
		j := Job{Name: name, Key: "ns/" + name}
		for _, d := range strings.Split(deps, ",") {
			if d != "" {
				j.DependsOn = append(j.DependsOn, "ns/"+d)
			}
		}
		out = append(out, j)
	}
	return out
}

func names(js []Job, idx []int) []string {
	var out []string
	for _, i := range idx {
		out = append(out, js[i].Name)
	}
	return out
}

func TestBatchOrder(t *testing.T) {
	js := jobs("web<api", "api<db", "db", "lonely", "child<outside")
	b, err := Plan(js, Options{Ordered: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(js, b.Order), []string{"db", "api", "web", "lonely", "child"}; !slices.Equal(got, want) {
		t.Errorf("order %v, want %v", got, want)
	}
	b, _ = Plan(js, Options{Ordered: true, Reverse: true})
	if got := names(js, b.Order); slices.Index(got, "web") > slices.Index(got, "api") || slices.Index(got, "api") > slices.Index(got, "db") {
		t.Errorf("reverse order %v puts a dependency before its dependant", got)
	}
	b, _ = Plan(js, Options{})
	if got := names(js, b.Order); !slices.Equal(got, []string{"web", "api", "db", "lonely", "child"}) {
		t.Errorf("unordered %v is not the given order", got)
	}
	_, err = Plan(jobs("a<c", "b<a", "c<b", "d"), Options{Ordered: true})
	if err == nil || !strings.Contains(err.Error(), "cycle") || strings.Contains(err.Error(), "d (") {
		t.Errorf("cycle: %v", err)
	}
}

func TestRunBatchSkipsDependantsOfFailures(t *testing.T) {
	js := jobs("db", "api<db", "web<api", "broken", "child<broken", "grandchild<child", "lonely")
	var mu sync.Mutex
	var ran []string
	outcomes, err := runBatch(t, context.Background(), js, Options{Ordered: true, Concurrency: 3}, func(_ context.Context, i int) error {
		mu.Lock()
		ran = append(ran, js[i].Name)
		mu.Unlock()
		if js[i].Name == "broken" {
			return errors.New("boom")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ran, "child") || slices.Contains(ran, "grandchild") {
		t.Errorf("dependants of a failure ran: %v", ran)
	}
	if got := outcomes[4].Skipped; got != "needs broken, which failed" {
		t.Errorf("child: %q", got)
	}
	if got := outcomes[5].Skipped; got != "needs child, which was skipped" {
		t.Errorf("grandchild: %q", got)
	}
	if slices.Index(ran, "db") > slices.Index(ran, "api") || slices.Index(ran, "api") > slices.Index(ran, "web") {
		t.Errorf("ran out of order: %v", ran)
	}
	for _, i := range []int{0, 1, 2, 6} {
		if !outcomes[i].Ran() || outcomes[i].Err != nil {
			t.Errorf("%s: %+v", js[i].Name, outcomes[i])
		}
	}
}

func TestRunBatchBoundsConcurrency(t *testing.T) {
	js := jobs("a", "b", "c", "d", "e", "f", "g", "h")
	var now, peak atomic.Int32
	release := make(chan struct{})
	go func() {
		for range js {
			release <- struct{}{}
		}
	}()
	_, err := runBatch(t, context.Background(), js, Options{Concurrency: 3}, func(context.Context, int) error {
		n := now.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		<-release
		now.Add(-1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if peak.Load() > 3 {
		t.Errorf("%d jobs ran at once with Concurrency 3", peak.Load())
	}
}

func TestRunBatchFailFastAndCancel(t *testing.T) {
	js := jobs("a", "b", "c", "d")
	outcomes, _ := runBatch(t, context.Background(), js, Options{Concurrency: 1, FailFast: true}, func(_ context.Context, i int) error {
		if i == 1 {
			return errors.New("boom")
		}
		return nil
	})
	if outcomes[2].Skipped != "not started: failing fast after b failed" || outcomes[2].StoppedBy != "b" || !outcomes[0].Ran() {
		t.Errorf("fail-fast: %+v", outcomes)
	}
	ctx, cancel := context.WithCancel(context.Background())
	outcomes, _ = runBatch(t, ctx, js, Options{Concurrency: 1}, func(ctx context.Context, i int) error {
		if i == 0 {
			cancel()
			return ctx.Err()
		}
		return nil
	})
	for _, o := range outcomes[1:] {
		if o.Skipped != "not started: interrupted" {
			t.Errorf("after cancel: %+v", outcomes)
		}
	}
}

// A diff that found changes is not a failure: its dependants still run.
func TestRunBatchChangesAreNotFailures(t *testing.T) {
	js := jobs("a", "b<a")
	errChanges := errors.New("changes found")
	benign := func(err error) bool { return errors.Is(err, errChanges) }
	outcomes, _ := runBatch(t, context.Background(), js, Options{Ordered: true, FailFast: true, Benign: benign}, func(_ context.Context, i int) error {
		if i == 0 {
			return errChanges
		}
		return nil
	})
	if !outcomes[1].Ran() {
		t.Errorf("b was skipped after a found changes: %+v", outcomes[1])
	}
}

func runBatch(t *testing.T, ctx context.Context, js []Job, opts Options, run func(context.Context, int) error) ([]Outcome, error) {
	t.Helper()
	b, err := Plan(js, opts)
	if err != nil {
		return nil, err
	}
	return b.Run(ctx, nil, run), nil
}
