package core

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// BatchJob is one chart in a run over many.
type BatchJob struct {
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

// BatchOptions tune RunBatch.
type BatchOptions struct {
	// Concurrency bounds the jobs running at once; at least 1.
	Concurrency int
	// FailFast starts nothing more once a job failed; running jobs finish.
	FailFast bool
	// Ordered honours DependsOn; Reverse runs dependants first (delete).
	Ordered, Reverse bool
	// Started and Finished report progress; calls never overlap.
	Started  func(i int)
	Finished func(i int, o BatchOutcome)
}

// BatchOutcome is how one job ended.
type BatchOutcome struct {
	Err error
	// Skipped says why the job never ran; Err is nil then.
	Skipped string
	Took    time.Duration
}

// Ran reports whether the job ran.
func (o BatchOutcome) Ran() bool { return o.Skipped == "" }

// BatchOrder is the order jobs start in and are reported in: dependencies
// first (dependants first with Reverse), the given order otherwise. A
// cycle is an error that names it.
func BatchOrder(jobs []BatchJob, opts BatchOptions) ([]int, error) {
	deps, _ := batchGraph(jobs, opts)
	n := len(jobs)
	remaining := make([]int, n)
	dependants := make([][]int, n)
	for i, ds := range deps {
		remaining[i] = len(ds)
		for _, d := range ds {
			dependants[d] = append(dependants[d], i)
		}
	}
	var order, ready []int
	for i := range n {
		if remaining[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		order = append(order, i)
		for _, d := range dependants[i] {
			if remaining[d]--; remaining[d] == 0 {
				ready = append(ready, d)
				slices.Sort(ready)
			}
		}
	}
	if len(order) < n {
		var cycle []string
		for i := range n {
			if remaining[i] > 0 {
				cycle = append(cycle, jobs[i].Name+" ("+jobs[i].Key+")")
			}
		}
		return nil, fmt.Errorf("these charts depend on each other in a cycle, so none can be applied first: %s; break it in spec.dependsOn or .cozyhr.yaml dependsOn", strings.Join(cycle, ", "))
	}
	return order, nil
}

// batchGraph lists, per job, the jobs it waits for.
func batchGraph(jobs []BatchJob, opts BatchOptions) (deps [][]int, byKey map[string]int) {
	n := len(jobs)
	deps = make([][]int, n)
	if !opts.Ordered {
		return deps, nil
	}
	byKey = make(map[string]int, n)
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
			if opts.Reverse {
				if !slices.Contains(deps[d], i) {
					deps[d] = append(deps[d], i)
				}
			} else if !slices.Contains(deps[i], d) {
				deps[i] = append(deps[i], d)
			}
		}
	}
	return deps, byKey
}

// RunBatch runs every job with run, at most Concurrency at once, each only
// after the jobs it depends on succeeded. A job whose dependency failed or
// was skipped is skipped, saying which; so are jobs not started when ctx
// ends or, with FailFast, once one failed.
func RunBatch(ctx context.Context, jobs []BatchJob, opts BatchOptions, run func(ctx context.Context, i int) error) ([]BatchOutcome, error) {
	order, err := BatchOrder(jobs, opts)
	if err != nil {
		return nil, err
	}
	deps, _ := batchGraph(jobs, opts)
	n := len(jobs)
	outcomes := make([]BatchOutcome, n)
	state := make([]int, n) // 0 waiting, 1 running, 2 ended
	var mu sync.Mutex       // serialises Started and Finished
	report := func(f func()) {
		mu.Lock()
		defer mu.Unlock()
		f()
	}
	type result struct {
		i   int
		err error
		d   time.Duration
	}
	results := make(chan result)
	running, ended := 0, 0
	concurrency := max(opts.Concurrency, 1)
	stopReason := ""

	// Heaviest first among the jobs that may start; otherwise in order.
	byWeight := slices.Clone(order)
	slices.SortStableFunc(byWeight, func(a, b int) int { return cmp.Compare(jobs[b].Weight, jobs[a].Weight) })

	// startable is the next waiting job whose dependencies all succeeded;
	// skipping dependants of failures on the way.
	startable := func() (int, bool) {
		for _, i := range byWeight {
			if state[i] != 0 {
				continue
			}
			ok := true
			for _, d := range deps[i] {
				if state[d] != 2 {
					ok = false
					break
				}
				if o := outcomes[d]; (o.Err != nil && !IsChanges(o.Err)) || !o.Ran() {
					why := "failed"
					if !o.Ran() {
						why = "was skipped"
					}
					verb := "needs"
					if opts.Reverse {
						verb = "is needed by"
					}
					state[i], ended = 2, ended+1
					outcomes[i] = BatchOutcome{Skipped: fmt.Sprintf("%s %s, which %s", verb, jobs[d].Name, why)}
					report(func() {
						if opts.Finished != nil {
							opts.Finished(i, outcomes[i])
						}
					})
					return -1, true // state changed: look again from the start
				}
			}
			if ok {
				return i, true
			}
		}
		return 0, false
	}

	for ended < n {
		for stopReason == "" && running < concurrency {
			if ctx.Err() != nil {
				stopReason = "not started: interrupted"
				break
			}
			i, found := startable()
			if !found {
				break
			}
			if i < 0 {
				continue
			}
			state[i], running = 1, running+1
			report(func() {
				if opts.Started != nil {
					opts.Started(i)
				}
			})
			go func(i int) {
				start := time.Now()
				err := run(ctx, i)
				results <- result{i: i, err: err, d: time.Since(start)}
			}(i)
		}
		if running == 0 {
			// Nothing runs and nothing can start: the rest never will.
			if stopReason == "" {
				stopReason = "not started"
			}
			for _, i := range order {
				if state[i] == 0 {
					state[i], ended = 2, ended+1
					outcomes[i] = BatchOutcome{Skipped: stopReason}
					report(func() {
						if opts.Finished != nil {
							opts.Finished(i, outcomes[i])
						}
					})
				}
			}
			break
		}
		r := <-results
		running--
		state[r.i], ended = 2, ended+1
		outcomes[r.i] = BatchOutcome{Err: r.err, Took: r.d}
		if r.err != nil && opts.FailFast && stopReason == "" && !IsChanges(r.err) {
			stopReason = "not started: --fail-fast after " + jobs[r.i].Name + " failed"
		}
		report(func() {
			if opts.Finished != nil {
				opts.Finished(r.i, outcomes[r.i])
			}
		})
	}
	return outcomes, nil
}

// IsChanges reports an error that only says diff found changes.
func IsChanges(err error) bool { return err != nil && ExitCode(err) == ExitChanges }

// BatchJob describes the workspace's chart for a run over many: its key is
// its HelmRelease (its release in plain mode), and it depends on the
// HelmRelease's spec.dependsOn and .cozyhr.yaml's dependsOn. A chart whose
// target cannot be resolved gets no key: its own run reports why.
func (w *Workspace) BatchJob(ctx context.Context, name string) BatchJob {
	j := BatchJob{Name: name}
	t, err := w.ResolveTarget(ctx)
	if err != nil {
		return j
	}
	ns := t.Namespace
	j.Key = t.Namespace + "/" + t.ReleaseName
	if t.FluxMode() {
		ns = t.HelmReleaseKey.Namespace
		j.Key = t.HelmReleaseKey.String()
		for _, d := range t.HelmRelease.Spec.DependsOn {
			j.DependsOn = append(j.DependsOn, cmp.Or(d.Namespace, ns)+"/"+d.Name)
		}
	}
	for _, d := range w.Config.DependsOn {
		if !strings.Contains(d, "/") {
			d = ns + "/" + d
		}
		j.DependsOn = append(j.DependsOn, d)
	}
	return j
}
