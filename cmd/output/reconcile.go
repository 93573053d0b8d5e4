package output

import (
	"fmt"
	"io"
)

// Reconcile shows a Flux reconcile request as the flux CLI does: ► for a
// step, ◎ while waiting, ✔ done, ✗ failed.
type Reconcile struct{ W io.Writer }

func (r Reconcile) Step(msg string)    { fmt.Fprintf(r.W, "► %s\n", msg) }
func (r Reconcile) Waiting(msg string) { fmt.Fprintf(r.W, "◎ %s\n", msg) }
func (r Reconcile) Done(msg string)    { fmt.Fprintf(r.W, "✔ %s\n", msg) }
func (r Reconcile) Failed(err error)   { fmt.Fprintf(r.W, "✗ %v\n", err) }
