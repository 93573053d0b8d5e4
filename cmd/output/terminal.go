package output

import (
	"io"
	"os"

	"github.com/gonvenience/bunt"
	"golang.org/x/term"
)

// IsTerminal reports whether w is a terminal.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Colors decides whether to colour what goes to out: only on a terminal,
// never with NO_COLOR or when noColor. dyff styles through bunt, whose
// setting is global to the process; it is set here, so call it once per
// process run.
func Colors(out io.Writer, noColor bool) bool {
	on := IsTerminal(out) && os.Getenv("NO_COLOR") == "" && !noColor
	if on {
		bunt.SetColorSettings(bunt.ON, bunt.ON)
	} else {
		bunt.SetColorSettings(bunt.OFF, bunt.OFF)
	}
	return on
}
