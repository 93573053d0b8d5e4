// Package batch schedules a run over many charts: dependency order, bounded
// concurrency, the heaviest ready job first, and skips that say why.
package batch

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Job is one chart in a run over many.
type Job struct {
	// Name is how the job is shown: its chart directory.
	Name string
	// Key is what other jobs' DependsOn name it by: the HelmRelease's
	// namespace/name (the release's in plain mode).
	Key string
	// DependsOn are keys of jobs that must succeed first; keys of charts
	// outside the run are ignored, as they are not this run's to apply.
	DependsOn []string
	// Weight estimates the job's cost (its chart's size): of the jobs that
	// may start, the heaviest starts first, so that the longest job does
	// not start last and leave the other CPUs idle at the end.
	Weight int64
}

// Options tune RunBatch.
type Options struct {
	// Concurrency bounds the jobs running at once; at least 1.
	Concurrency int
	// FailFast starts nothing more once a job failed; running jobs finish.
	FailFast bool
	// Ordered honours DependsOn; Reverse runs dependants first (delete).
	Ordered, Reverse bool
	// Benign reports an error that is not a failure (a diff that found
	// changes): it neither skips dependants nor stops a fail-fast run.
	Benign func(error) bool
	// Canary runs the first Canary jobs first, one at a time, stopping at
	// the first that fails; the others start only when every canary
	// succeeded. Not with Ordered: canaries are chosen by position.
	Canary int
}

// Progress hears of each job as it starts and ends; calls never
// overlap.
type Progress interface {
	Started(i int)
	Finished(i int, o Outcome)
}

// Outcome is how one job ended.
type Outcome struct {
	Err error
	// Skipped says why the job never ran; Err is nil then.
	Skipped string
	// StoppedBy names the failed job that stopped a fail-fast run before
	// this one started.
	StoppedBy string
	Took      time.Duration
}

// Ran reports whether the job ran.
func (o Outcome) Ran() bool { return o.Skipped == "" }

// Batch is a planned run over many charts: the jobs, what each waits for,
// and the order they are reported in.
type Batch struct {
	jobs []Job
	opts Options
	// deps lists, per job, the jobs it waits for.
	deps [][]int
	// Order is the order jobs are reported in: dependencies first
	// (dependants first with Reverse), the given order otherwise.
	Order []int
}

// Plan orders the jobs; a dependency cycle is an error that names it.
func Plan(jobs []Job, opts Options) (*Batch, error) {
	if opts.Canary > 0 && opts.Ordered {
		return nil, fmt.Errorf("canaries are chosen by position, so they cannot follow dependencies")
	}
	opts.Canary = min(opts.Canary, len(jobs))
	b := &Batch{jobs: jobs, opts: opts, deps: dependencies(jobs, opts)}
	n := len(jobs)
	remaining := make([]int, n)
	dependants := make([][]int, n)
	var ready []int
	for i, ds := range b.deps {
		remaining[i] = len(ds)
		for _, d := range ds {
			dependants[d] = append(dependants[d], i)
		}
		if len(ds) == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		b.Order = append(b.Order, i)
		for _, d := range dependants[i] {
			if remaining[d]--; remaining[d] == 0 {
				ready = append(ready, d)
				slices.Sort(ready)
			}
		}
	}
	if len(b.Order) < n {
		var cycle []string
		for i := range n {
			if remaining[i] > 0 {
				cycle = append(cycle, jobs[i].Name+" ("+jobs[i].Key+")")
			}
		}
		return nil, fmt.Errorf("these charts depend on each other in a cycle, so none can be applied first: %s; break it in spec.dependsOn or .cozyhr.yaml dependsOn", strings.Join(cycle, ", "))
	}
	return b, nil
}

// dependencies lists, per job, the jobs it waits for.
func dependencies(jobs []Job, opts Options) [][]int {
	deps := make([][]int, len(jobs))
	if !opts.Ordered {
		return deps
	}
	byKey := make(map[string]int, len(jobs))
	for i, j := range jobs {
		if j.Key != "" {
			byKey[j.Key] = i
		}
	}
	for i, j := range jobs {
		for _, k := range j.DependsOn {
			d, ok := byKey[k]
			if !ok || d == i {
				continue
			}
			waiter, first := i, d
			if opts.Reverse {
				waiter, first = d, i
			}
			if !slices.Contains(deps[waiter], first) {
				deps[waiter] = append(deps[waiter], first)
			}
		}
	}
	return deps
}

// runAll runs every job with run, at most Concurrency at once, each only
// after the jobs it depends on succeeded. A job whose dependency failed or was
// skipped is skipped, saying which; so are jobs not started when ctx ends
// or, with FailFast, once one failed.
func (b *Batch) runAll(ctx context.Context, progress Progress, run func(ctx context.Context, i int) error) []Outcome {
	jobs, opts := b.jobs, b.opts
	n := len(jobs)
	outcomes := make([]Outcome, n)
	const (
		waiting = iota
		running
		ended
	)
	state := make([]int, n)
	var mu sync.Mutex // serialises the progress calls
	end := func(i int, o Outcome) {
		state[i], outcomes[i] = ended, o
		mu.Lock()
		defer mu.Unlock()
		if progress != nil {
			progress.Finished(i, o)
		}
	}
	benign := func(err error) bool { return opts.Benign != nil && opts.Benign(err) }
	failed := func(i int) bool { o := outcomes[i]; return !o.Ran() || o.Err != nil && !benign(o.Err) }

	// skipBlocked skips every waiting job whose dependency failed or was
	// skipped, in order, so that a chain of dependants is skipped at once.
	skipBlocked := func() {
		for _, i := range b.Order {
			if state[i] != waiting {
				continue
			}
			for _, d := range b.deps[i] {
				if state[d] == ended && failed(d) {
					why, verb := "failed", "needs"
					if !outcomes[d].Ran() {
						why = "was skipped"
					}
					if opts.Reverse {
						verb = "is needed by"
					}
					end(i, Outcome{Skipped: fmt.Sprintf("%s %s, which %s", verb, jobs[d].Name, why)})
					break
				}
			}
		}
	}
	// Heaviest first among the jobs that may start; otherwise in order.
	byWeight := slices.Clone(b.Order)
	slices.SortStableFunc(byWeight, func(x, y int) int { return cmp.Compare(jobs[y].Weight, jobs[x].Weight) })
	startable := func() (int, bool) {
		for _, i := range byWeight {
			if state[i] == waiting && !slices.ContainsFunc(b.deps[i], func(d int) bool { return state[d] != ended }) {
				return i, true
			}
		}
		return 0, false
	}

	type result struct {
		i   int
		err error
		d   time.Duration
	}
	results := make(chan result)
	active := 0
	stopReason, stoppedBy := "", ""
	for {
		skipBlocked()
		for stopReason == "" && active < max(opts.Concurrency, 1) {
			if ctx.Err() != nil {
				stopReason = "not started: interrupted"
				break
			}
			i, ok := startable()
			if !ok {
				break
			}
			state[i], active = running, active+1
			if progress != nil {
				mu.Lock()
				progress.Started(i)
				mu.Unlock()
			}
			go func() {
				start := time.Now()
				err := run(ctx, i)
				results <- result{i: i, err: err, d: time.Since(start)}
			}()
		}
		if active == 0 {
			break // nothing runs and nothing more can start
		}
		r := <-results
		active--
		if r.err != nil && opts.FailFast && stopReason == "" && !benign(r.err) {
			stopReason = "not started: failing fast after " + jobs[r.i].Name + " failed"
			stoppedBy = jobs[r.i].Name
		}
		end(r.i, Outcome{Err: r.err, Took: r.d})
	}
	for _, i := range b.Order {
		if state[i] == waiting {
			end(i, Outcome{Skipped: cmp.Or(stopReason, "not started"), StoppedBy: stoppedBy})
		}
	}
	return outcomes
}
