package batch

import (
	"context"
	"slices"
)

// Run runs every job with run (see Options for the order, the concurrency,
// the canaries and failing fast) and says how each ended; progress may be
// nil.
func (b *Batch) Run(ctx context.Context, progress Progress, run func(ctx context.Context, i int) error) []Outcome {
	c := b.opts.Canary
	if c == 0 {
		return b.runAll(ctx, progress, run)
	}
	outcomes := make([]Outcome, len(b.jobs))
	canaries := &Batch{jobs: b.jobs[:c], opts: Options{Concurrency: 1, FailFast: true, Benign: b.opts.Benign}, deps: make([][]int, c), Order: b.Order[:c]}
	stopped := false
	for i, o := range canaries.runAll(ctx, offset{progress, 0, canaryWords}, run) {
		outcomes[i] = canaryWords(o)
		stopped = stopped || !o.Ran() || o.Err != nil
	}
	rest := &Batch{jobs: b.jobs[c:], opts: b.opts, deps: make([][]int, len(b.jobs)-c)}
	for i := range rest.jobs {
		rest.Order = append(rest.Order, i)
	}
	rest.opts.Canary = 0
	shifted := offset{p: progress, n: c}
	if stopped {
		why := "not started: a canary failed"
		if ctx.Err() != nil {
			why = "not started: interrupted"
		}
		for i := c; i < len(b.jobs); i++ {
			outcomes[i] = Outcome{Skipped: why}
			shifted.Finished(i-c, outcomes[i])
		}
		return outcomes
	}
	for i, o := range rest.runAll(ctx, shifted, func(ctx context.Context, i int) error { return run(ctx, i+c) }) {
		outcomes[i+c] = o
	}
	return outcomes
}

// canaryWords says why a canary did not start: the canaries run one at a
// time and stop at the first that fails, which no flag asked for.
func canaryWords(o Outcome) Outcome {
	if o.StoppedBy != "" {
		return Outcome{Skipped: "not started: canary " + o.StoppedBy + " failed"}
	}
	return o
}

// offset reports a batch over a tail of the jobs under their own
// positions, its outcomes said as words says them (nil: as they are).
type offset struct {
	p     Progress
	n     int
	words func(Outcome) Outcome
}

func (o offset) Started(i int) {
	if o.p != nil {
		o.p.Started(i + o.n)
	}
}

func (o offset) Finished(i int, out Outcome) {
	if o.words != nil {
		out = o.words(out)
	}
	if o.p != nil {
		o.p.Finished(i+o.n, out)
	}
}

// RunJobs plans and runs the jobs in one call, for a caller that needs no
// order before they start.
func RunJobs(ctx context.Context, jobs []Job, opts Options, progress Progress, run func(ctx context.Context, i int) error) ([]Outcome, error) {
	b, err := Plan(jobs, opts)
	if err != nil {
		return nil, err
	}
	return b.Run(ctx, progress, run), nil
}

// Named are jobs with these names and nothing else: no keys, dependencies
// or weights.
func Named(names []string) []Job {
	jobs := make([]Job, len(names))
	for i, n := range names {
		jobs[i].Name = n
	}
	return jobs
}

// Tally is what a run's outcomes add up to.
type Tally struct {
	// Jobs is how many there were; Skipped how many never ran; Changed
	// how many ended with a benign error (a diff that found changes).
	Jobs, Skipped, Changed int
	// Failed are the jobs that failed, in the run's order.
	Failed []int
}

// Tally adds up the outcomes of a run of b.
func (b *Batch) Tally(outcomes []Outcome) Tally {
	t := Tally{Jobs: len(outcomes)}
	for _, i := range b.Order {
		o := outcomes[i]
		switch {
		case !o.Ran():
			t.Skipped++
		case o.Err == nil:
		case b.opts.Benign != nil && b.opts.Benign(o.Err):
			t.Changed++
		default:
			t.Failed = append(t.Failed, i)
		}
	}
	return t
}

// Ran is how many jobs ran.
func (t Tally) Ran() int { return t.Jobs - t.Skipped }

// FailedNames names the failed jobs.
func (b *Batch) FailedNames(t Tally) []string {
	out := make([]string, 0, len(t.Failed))
	for _, i := range t.Failed {
		out = append(out, b.jobs[i].Name)
	}
	return slices.Clip(out)
}
