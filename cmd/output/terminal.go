package output

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

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

// Confirm asks on a terminal before touching several releases; elsewhere
// it says to add --yes.
func Confirm(in io.Reader, errOut io.Writer, what string) error {
	f, ok := in.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return fmt.Errorf("%s: add --yes to go on without a terminal to confirm on", what)
	}
	fmt.Fprintf(errOut, "%s. Go on? [y/N] ", what)
	answer, _ := bufio.NewReader(f).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return fmt.Errorf("not confirmed: nothing was done")
	}
	return nil
}
