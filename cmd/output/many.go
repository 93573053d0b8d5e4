package output

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/cozyhr/cozyhr/core/batch"
)

// Job is one chart's, or one instance's, part of a run over many: what
// it printed, kept until its turn, and what the summary says of it.
type Job struct {
	Name   string
	Out    bytes.Buffer
	ErrOut LastLineBuffer
	// Release and Result are the summary's columns; Result "" says ok.
	Release, Result string
}

// LastLineBuffer keeps a job's stderr, and its last line for the progress
// view, while the job runs.
type LastLineBuffer struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	tail []byte
}

func (b *LastLineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	b.tail = append(b.tail, p...)
	if len(b.tail) > 512 {
		b.tail = slices.Clone(b.tail[len(b.tail)-512:])
	}
	return len(p), nil
}

func (b *LastLineBuffer) lastLine() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	text := strings.TrimRight(string(b.tail), "\n")
	return text[strings.LastIndexByte(text, '\n')+1:]
}

// Bytes is everything written.
func (b *LastLineBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Bytes()
}

// Many prints a run over many charts or instances: each job's output
// whole, in the run's order, as soon as it and every job before it ended;
// a progress view while they run (a redrawn block on a terminal, a line
// per start and end otherwise); then the summary. It is the run's
// batch.Progress.
type Many struct {
	Out, ErrOut io.Writer
	Jobs        []*Job
	Order       []int
	// Machine: stdout carries YAML or JSON, so headers are comments or
	// nothing, and the summary goes to stderr; YAMLOut, YAML.
	Machine, YAMLOut bool
	// Column names the jobs in the summary: CHART, or HELMRELEASE.
	Column string
	// Failure is how a job that failed ended, in a few words.
	Failure func(error) string
	// Benign reports an error that is no failure (a diff's changes).
	Benign func(error) bool
	// List, when set, gathers the jobs' JSON or YAML reports into one
	// document, written with the summary, instead of printing each: a run
	// over many charts is one document a program reads.
	List *RunList
	// ErrorText says a failed job's error whole, for List.
	ErrorText func(error) string

	tty     bool
	mu      sync.Mutex
	next    int // position in Order of the next job to print
	ended   []bool
	running map[int]time.Time
	drawn   int // lines of the progress block on screen
	stopped chan struct{}
	wg      sync.WaitGroup
}

// Start begins the progress view.
func (p *Many) Start() {
	p.init()
	if p.tty = IsTerminal(p.ErrOut); !p.tty {
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

func (p *Many) init() {
	p.ended, p.running, p.stopped = make([]bool, len(p.Jobs)), map[int]time.Time{}, make(chan struct{})
}

// Stop ends the progress view and prints what is left to print.
func (p *Many) Stop() {
	close(p.stopped)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	// Jobs that never ran print nothing; those after them still print.
	for ; p.next < len(p.Order); p.next++ {
		if i := p.Order[p.next]; p.ended[i] {
			p.print(i)
		}
	}
}

// Started implements batch.Progress.
func (p *Many) Started(i int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[i] = time.Now()
	if !p.tty {
		fmt.Fprintf(p.ErrOut, "%s %s: started\n", time.Now().Format(time.TimeOnly), p.Jobs[i].Name)
	}
}

// Finished implements batch.Progress. A job's messages (its stderr) are
// printed as it ends, indented under the line that says how it ended, so
// that stderr reads as the run's log, in the order things happened; its
// output (stdout) waits for its turn in the run's order.
func (p *Many) Finished(i int, o batch.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, i)
	p.ended[i] = true
	p.clear()
	if o.Ran() {
		stamp := ""
		if !p.tty {
			stamp = time.Now().Format(time.TimeOnly) + " "
		}
		fmt.Fprintf(p.ErrOut, "%s%s: %s (%s)\n", stamp, p.Jobs[i].Name, p.result(i, o), seconds(o.Took))
		if msgs := strings.TrimRight(string(p.Jobs[i].ErrOut.Bytes()), "\n"); msgs != "" {
			fmt.Fprintln(p.ErrOut, "    "+strings.ReplaceAll(msgs, "\n", "\n    "))
		}
	}
	for p.next < len(p.Order) && p.ended[p.Order[p.next]] {
		p.print(p.Order[p.next])
		p.next++
	}
	p.redraw()
}

// print writes one job's output, whole, under its name.
func (p *Many) print(i int) {
	j := p.Jobs[i]
	out := j.Out.Bytes()
	if len(out) == 0 || p.List != nil {
		return
	}
	header := fmt.Sprintf("==> %s <==\n", j.Name)
	switch {
	case !p.Machine:
		fmt.Fprint(p.Out, header)
	case p.YAMLOut:
		fmt.Fprint(p.Out, "# "+header)
	}
	_, _ = p.Out.Write(out)
	if !p.Machine && out[len(out)-1] == '\n' {
		fmt.Fprintln(p.Out)
	}
}

// clear erases the progress block.
func (p *Many) clear() {
	for ; p.drawn > 0; p.drawn-- {
		fmt.Fprint(p.ErrOut, "\x1b[1A\x1b[2K")
	}
}

// redraw shows each running job and what it is doing now.
func (p *Many) redraw() {
	if !p.tty {
		return
	}
	p.clear()
	width := 100
	if f, ok := p.ErrOut.(*os.File); ok {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			width = w
		}
	}
	for _, i := range p.Order {
		since, ok := p.running[i]
		if !ok {
			continue
		}
		line := fmt.Sprintf("  … %s %s %s", p.Jobs[i].Name, seconds(time.Since(since)), p.Jobs[i].ErrOut.lastLine())
		if len([]rune(line)) > width-1 {
			line = string([]rune(line)[:width-2]) + "…"
		}
		fmt.Fprintln(p.ErrOut, line)
		p.drawn++
	}
}

// result is a job's outcome in a few words.
func (p *Many) result(i int, o batch.Outcome) string {
	switch {
	case o.StoppedBy != "":
		return "skipped: not started: --fail-fast after " + o.StoppedBy + " failed"
	case !o.Ran():
		return "skipped: " + o.Skipped
	case o.Err != nil && (p.Benign == nil || !p.Benign(o.Err)):
		return p.Failure(o.Err)
	}
	return cmp.Or(p.Jobs[i].Result, "ok")
}

// Summary prints the table of how each job ended, and List's document.
func (p *Many) Summary(outcomes []batch.Outcome) error {
	if p.List != nil {
		if err := p.writeList(outcomes); err != nil {
			return err
		}
	}
	w := p.Out
	if p.Machine {
		w = p.ErrOut
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tRELEASE\tRESULT\tTIME\n", cmp.Or(p.Column, "CHART"))
	for _, i := range p.Order {
		o, j := outcomes[i], p.Jobs[i]
		took := "-"
		if o.Ran() {
			took = seconds(o.Took)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", j.Name, orDash(j.Release), p.result(i, o), took)
	}
	return tw.Flush()
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }
