package cmd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cozyhr/cozyhr/core/batch"
)

// manyPrinter prints a run over many charts: each chart's output whole,
// in the run's order, as soon as it and every chart before it ended; a
// progress view while they run (a redrawn block on a terminal, a line per
// start and end otherwise); then the summary.
type manyPrinter struct {
	g     *globalOptions
	ctx   context.Context
	runs  []*chartRun
	order []int
	// machine: stdout carries YAML or JSON, so headers are comments or
	// nothing, and the summary goes to stderr.
	machine, yamlOut bool
	tty              bool
	// column names the runs in the summary: CHART, or HELMRELEASE for a
	// run over a chart's instances.
	column string

	mu      sync.Mutex
	next    int // position in order of the next chart to print
	ended   []bool
	running map[int]time.Time
	drawn   int // lines of the progress block on screen
	stopped chan struct{}
	wg      sync.WaitGroup
}

func newManyPrinter(g *globalOptions, cmd *cobra.Command, runs []*chartRun, order []int) *manyPrinter {
	p := &manyPrinter{g: g, ctx: cmd.Context(), runs: runs, order: order, ended: make([]bool, len(runs)),
		running: map[int]time.Time{}, tty: isTerminal(g.streams.ErrOut), stopped: make(chan struct{})}
	output := ""
	if f := cmd.Flags().Lookup("output"); f != nil {
		output = f.Value.String()
	}
	p.machine = cmd.Name() == "show" || output == "json" || output == "yaml"
	p.yamlOut = p.machine && output != "json"
	return p
}

func (p *manyPrinter) start() {
	if !p.tty {
		return
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-p.stopped:
				return
			case <-tick.C:
				p.mu.Lock()
				p.redraw()
				p.mu.Unlock()
			}
		}
	}()
}

func (p *manyPrinter) stop() {
	close(p.stopped)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	// Charts that never ran print nothing; those after them still print.
	for ; p.next < len(p.order); p.next++ {
		if i := p.order[p.next]; p.ended[i] {
			p.print(i)
		}
	}
}

// Started implements batch.Progress.
func (p *manyPrinter) Started(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[i] = time.Now()
	if !p.tty {
		fmt.Fprintf(p.g.streams.ErrOut, "%s %s: started\n", time.Now().Format(time.TimeOnly), p.runs[i].dir)
	}
}

// Finished implements batch.Progress.
func (p *manyPrinter) Finished(i int, o batch.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, i)
	p.ended[i] = true
	if !p.tty && o.Ran() {
		fmt.Fprintf(p.g.streams.ErrOut, "%s %s: %s (%s)\n", time.Now().Format(time.TimeOnly), p.runs[i].dir, p.result(i, o), seconds(o.Took))
	}
	p.clear()
	for p.next < len(p.order) && p.ended[p.order[p.next]] {
		p.print(p.order[p.next])
		p.next++
	}
	p.redraw()
}

// print writes one chart's output, whole.
func (p *manyPrinter) print(i int) {
	r := p.runs[i]
	out, errOut := r.out.Bytes(), r.errOut.Bytes()
	if len(out) == 0 && len(errOut) == 0 {
		return
	}
	header := fmt.Sprintf("==> %s <==\n", r.dir)
	// A chart's messages first, as they came before its output; the
	// header goes where it will be seen.
	if !p.machine {
		fmt.Fprint(p.g.streams.Out, header)
	} else if len(errOut) > 0 {
		fmt.Fprint(p.g.streams.ErrOut, header)
	}
	_, _ = p.g.streams.ErrOut.Write(errOut)
	if p.yamlOut && len(out) > 0 {
		fmt.Fprint(p.g.streams.Out, "# "+header)
	}
	_, _ = p.g.streams.Out.Write(out)
	if !p.machine && len(out) > 0 && out[len(out)-1] == '\n' {
		fmt.Fprintln(p.g.streams.Out)
	}
}

// clear erases the progress block.
func (p *manyPrinter) clear() {
	for ; p.drawn > 0; p.drawn-- {
		fmt.Fprint(p.g.streams.ErrOut, "\x1b[1A\x1b[2K")
	}
}

// redraw shows each running chart and what it is doing now.
func (p *manyPrinter) redraw() {
	if !p.tty {
		return
	}
	p.clear()
	width := 100
	if f, ok := p.g.streams.ErrOut.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			width = w
		}
	}
	for _, i := range p.order {
		since, ok := p.running[i]
		if !ok {
			continue
		}
		line := fmt.Sprintf("  … %s %s %s", p.runs[i].dir, seconds(time.Since(since)), p.runs[i].errOut.lastLine())
		if len([]rune(line)) > width-1 {
			line = string([]rune(line)[:width-2]) + "…"
		}
		fmt.Fprintln(p.g.streams.ErrOut, line)
		p.drawn++
	}
}

// result is a chart's outcome in a few words.
func (p *manyPrinter) result(i int, o batch.Outcome) string {
	r := p.runs[i]
	switch {
	case o.StoppedBy != "":
		return "skipped: not started: --fail-fast after " + o.StoppedBy + " failed"
	case !o.Ran():
		return "skipped: " + o.Skipped
	case o.Err != nil && !isChanges(o.Err):
		if errors.Is(o.Err, context.Canceled) || ExitCode(o.Err) == ExitInterrupted {
			return "interrupted"
		}
		msg, _, _ := strings.Cut(userMessage(explainTimeout(p.g.timeouts, o.Err)), "\n")
		if len([]rune(msg)) > 70 {
			msg = string([]rune(msg)[:69]) + "…"
		}
		return "failed: " + msg
	case r.outcome.result != "":
		return r.outcome.result
	}
	return "ok"
}

// summary prints the table and turns the outcomes into the run's error.
func (p *manyPrinter) summary(outcomes []batch.Outcome) error {
	w := p.g.streams.Out
	if p.machine {
		w = p.g.streams.ErrOut
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tRELEASE\tRESULT\tTIME\n", cmp.Or(p.column, "CHART"))
	var failed []string
	changes, skipped := false, 0
	for _, i := range p.order {
		o, r := outcomes[i], p.runs[i]
		took := "-"
		if o.Ran() {
			took = seconds(o.Took)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.dir, orDash(r.outcome.release), p.result(i, o), took)
		switch {
		case !o.Ran():
			skipped++
		case isChanges(o.Err):
			changes = true
		case o.Err != nil:
			failed = append(failed, r.dir)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if p.ctx.Err() != nil {
		return &InterruptedError{State: fmt.Sprintf("%d of %d charts started; the summary above says how each ended", len(outcomes)-skipped, len(outcomes)), Err: p.ctx.Err()}
	}
	if len(failed) > 0 {
		msg := fmt.Sprintf("%d of %d charts failed: %s", len(failed), len(outcomes), strings.Join(failed, ", "))
		if skipped > 0 {
			msg += fmt.Sprintf("; %d not run", skipped)
		}
		return errors.New(msg)
	}
	if skipped > 0 {
		return fmt.Errorf("%d of %d charts were not run", skipped, len(outcomes))
	}
	if changes {
		return &ExitError{Code: ExitChanges, Err: ErrChangesFound, Silent: true}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
