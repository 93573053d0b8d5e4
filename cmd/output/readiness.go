package output

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/cozyhr/cozyhr/core/readiness"
)

// Readiness shows the objects Helm waits for: on a terminal one block of
// ◎ lines redrawn in place, else a timestamped line per change.
type Readiness struct {
	W   io.Writer
	TTY bool
	// drawn is how many lines the last block took, to erase it.
	drawn int
}

// Live implements readiness.Display.
func (r *Readiness) Live() bool { return r.TTY }

// Redraw implements readiness.Display.
func (r *Readiness) Redraw(notCurrent []readiness.ObjectStatus) {
	var b bytes.Buffer
	if r.drawn > 0 {
		fmt.Fprintf(&b, "\033[%dA\033[J", r.drawn)
	}
	r.drawn = 0
	for _, s := range notCurrent {
		fmt.Fprintf(&b, "◎ %s\n", s.Line())
		r.drawn++
	}
	_, _ = r.W.Write(b.Bytes())
}

// Changed implements readiness.Display.
func (r *Readiness) Changed(at time.Time, s readiness.ObjectStatus) {
	fmt.Fprintf(r.W, "%s %s\n", at.UTC().Format("15:04:05"), s.Line())
}

// NotReady explains what was not ready when a wait ended: each object with
// kstatus's reason, its latest Warning events, and a failed Job's log tail.
func NotReady(w io.Writer, pending []readiness.NotReady) {
	if len(pending) == 0 {
		return
	}
	fmt.Fprintln(w, "Not ready:")
	for _, n := range pending {
		fmt.Fprintf(w, "  ✗ %s\n", n.Line())
		for _, e := range n.Events {
			fmt.Fprintf(w, "      %s\n", e)
		}
		for _, l := range n.LogTail {
			fmt.Fprintf(w, "      | %s\n", l)
		}
	}
}
