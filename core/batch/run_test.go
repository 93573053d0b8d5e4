package batch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

// recorder is a Progress that keeps what it heard, in order.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Started(i int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("start %d", i))
}

func (r *recorder) Finished(i int, o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	what := "ok"
	switch {
	case !o.Ran():
		what = "skipped: " + o.Skipped
	case o.Err != nil:
		what = "error"
	}
	r.events = append(r.events, fmt.Sprintf("end %d %s", i, what))
}

func TestCanariesRunFirstAloneAndTheRestAfter(t *testing.T) {
	var mu sync.Mutex
	var order []int
	step := func(_ context.Context, i int) error {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, i)
		return nil
	}
	rec := &recorder{}
	outcomes, err := RunJobs(context.Background(), Named([]string{"a", "b", "c", "d", "e"}), Options{Concurrency: 3, Canary: 2}, rec, step)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(order[:2], []int{0, 1}) {
		t.Errorf("order %v: the two canaries first, one after the other", order)
	}
	for i, o := range outcomes {
		if !o.Ran() || o.Err != nil {
			t.Errorf("job %d: %+v", i, o)
		}
	}
	// Each canary ends before the next starts; progress hears every job
	// under its own position.
	if !slices.Equal(rec.events[:4], []string{"start 0", "end 0 ok", "start 1", "end 1 ok"}) {
		t.Errorf("canary events %v", rec.events[:4])
	}
	if len(rec.events) != 10 {
		t.Errorf("events %v", rec.events)
	}
}

func TestAFailedCanaryStopsTheRest(t *testing.T) {
	ran := make([]bool, 4)
	rec := &recorder{}
	outcomes, err := RunJobs(context.Background(), Named([]string{"a", "b", "c", "d"}), Options{Concurrency: 2, Canary: 2}, rec, func(_ context.Context, i int) error {
		ran[i] = true
		if i == 0 {
			return errors.New("not ready")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ran, []bool{true, false, false, false}) {
		t.Errorf("ran %v: the failed canary stops the second canary and the rest", ran)
	}
	// The second canary names the first; no --fail-fast was asked for.
	if outcomes[1].Skipped != "not started: canary a failed" || outcomes[1].StoppedBy != "" ||
		outcomes[2].Skipped != "not started: a canary failed" || outcomes[3].Skipped != "not started: a canary failed" {
		t.Errorf("outcomes %+v", outcomes)
	}
	if !slices.Contains(rec.events, "end 1 skipped: not started: canary a failed") {
		t.Errorf("progress heard the canary otherwise: %v", rec.events)
	}
	if got := rec.events[len(rec.events)-1]; got != "end 3 skipped: not started: a canary failed" {
		t.Errorf("the skipped ones are reported under their own positions: %v", rec.events)
	}
}

func TestCanariesCannotFollowDependencies(t *testing.T) {
	if _, err := Plan(jobs("a", "b<a"), Options{Ordered: true, Canary: 1}); err == nil {
		t.Error("canaries with an ordered run were accepted")
	}
	// More canaries than jobs: every job is a canary.
	outcomes, err := RunJobs(context.Background(), Named([]string{"a", "b"}), Options{Canary: 5}, nil, func(context.Context, int) error { return nil })
	if err != nil || len(outcomes) != 2 || !outcomes[0].Ran() || !outcomes[1].Ran() {
		t.Errorf("outcomes %+v, %v", outcomes, err)
	}
}

func TestTallyAddsUpTheOutcomes(t *testing.T) {
	changes := errors.New("changes")
	b, err := Plan(jobs("a", "b", "c", "d", "e"), Options{Benign: func(err error) bool { return errors.Is(err, changes) }})
	if err != nil {
		t.Fatal(err)
	}
	outcomes := b.Run(context.Background(), nil, func(_ context.Context, i int) error {
		switch i {
		case 1:
			return changes
		case 2, 4:
			return errors.New("failed")
		}
		return nil
	})
	tally := b.Tally(outcomes)
	if tally.Jobs != 5 || tally.Ran() != 5 || tally.Changed != 1 || tally.Skipped != 0 || !slices.Equal(tally.Failed, []int{2, 4}) {
		t.Errorf("tally %+v", tally)
	}
	if got := b.FailedNames(tally); !slices.Equal(got, []string{"c", "e"}) {
		t.Errorf("failed names %v", got)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	stopped := b.Run(ctx, nil, func(context.Context, int) error { return nil })
	if tally := b.Tally(stopped); tally.Skipped != 5 || tally.Ran() != 0 || len(tally.Failed) != 0 {
		t.Errorf("an interrupted run's tally %+v", tally)
	}
	for _, o := range stopped {
		if o.Skipped != "not started: interrupted" {
			t.Errorf("outcome %+v", o)
		}
	}
}

func TestNamedJobsHaveNamesAlone(t *testing.T) {
	js := Named([]string{"x", "y"})
	if len(js) != 2 || js[0].Name != "x" || js[1].Name != "y" || js[0].Key != "" || js[0].DependsOn != nil || js[1].Weight != 0 {
		t.Errorf("jobs %+v", js)
	}
	if got := Named(nil); len(got) != 0 {
		t.Errorf("no names: %+v", got)
	}
}

// Ctrl-C during the canaries: the rest are not started, and say so.
func TestInterruptedCanariesSayInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	outcomes, err := RunJobs(ctx, Named([]string{"a", "b", "c"}), Options{Canary: 1}, nil, func(ctx context.Context, i int) error {
		cancel()
		return ctx.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range outcomes[1:] {
		if o.Skipped != "not started: interrupted" {
			t.Errorf("after Ctrl-C: %+v", o)
		}
	}
}
