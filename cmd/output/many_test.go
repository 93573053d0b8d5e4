package output

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cozyhr/cozyhr/core/batch"
)

// The printer holds each chart's output until every chart before it has
// ended, so output never interleaves and keeps the run's order; on a
// terminal the progress block is erased before output and drawn again.
func TestManyPrinterKeepsOrderAndErasesProgress(t *testing.T) {
	var out, errOut bytes.Buffer
	jobs := []*Job{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	for _, j := range jobs {
		j.Out.WriteString("output of " + j.Name + "\n")
		_, _ = j.ErrOut.Write([]byte("working on " + j.Name + "\n"))
	}
	p := &Many{Out: &out, ErrOut: &errOut, Jobs: jobs, Order: []int{0, 1, 2}, Failure: func(err error) string { return "failed: " + err.Error() }}
	p.init()
	p.tty = true
	p.Started(0)
	p.Started(1)
	p.redraw()
	if got := strings.Count(errOut.String(), "  … "); got != 2 {
		t.Errorf("progress block shows %d charts, want 2:\n%q", got, errOut.String())
	}
	// b ends first: nothing is printed until a has ended.
	p.Finished(1, batch.Outcome{Took: time.Second})
	if out.Len() != 0 {
		t.Fatalf("b printed before a ended:\n%s", out.String())
	}
	p.Started(2)
	p.Finished(0, batch.Outcome{Err: errors.New("boom"), Took: time.Second})
	p.Finished(2, batch.Outcome{Took: time.Second})
	close(p.stopped)
	if want := "==> a <==\noutput of a\n\n==> b <==\noutput of b\n\n==> c <==\noutput of c\n\n"; out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	// Each redraw first erases the lines it drew: never more than drawn.
	if erased, drawn := strings.Count(errOut.String(), "\x1b[1A\x1b[2K"), strings.Count(errOut.String(), "  … "); erased != drawn || p.drawn != 0 {
		t.Errorf("erased %d progress lines of %d drawn, %d left on screen", erased, drawn, p.drawn)
	}
}
