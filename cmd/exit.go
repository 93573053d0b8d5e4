package cmd

import (
	"errors"

	"github.com/cozyhr/cozyhr/core/hooks"
)

// Exit codes shared by every command.
const (
	ExitOK                = 0
	ExitFailure           = 1
	ExitChanges           = 2 // diff --exit-code found changes
	ExitChangesAndFailure = 3 // over many charts, both: so CI tells the three apart
	ExitFindings          = 4 // diff --fail-on: a finding at or above the severity
)

// ErrChangesFound says a diff found changes: not a failure. Runs return
// it wrapped once, in errChanges.
var ErrChangesFound = errors.New("changes found")

// errChanges is the error of a diff --exit-code that found changes: exit
// code 2, nothing printed.
func errChanges() error { return &ExitError{Code: ExitChanges, Err: ErrChangesFound, Silent: true} }

// ExitError carries the process exit code for an error.
type ExitError struct {
	Code int
	Err  error
	// Silent errors print nothing: the command already reported the outcome.
	Silent bool
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode maps an error to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	// A failing hook's exit code is cozyhr's, as make would pass it on.
	var he *hooks.Error
	if errors.As(err, &he) {
		return he.Code
	}
	return ExitFailure
}

// ExitInterrupted is 128+SIGINT, as shells report a Ctrl-C.
const ExitInterrupted = 130

// InterruptedError is a run ended by Ctrl-C; State says, in one line, what
// it left behind.
type InterruptedError struct {
	State string
	Err   error
}

func (e *InterruptedError) Error() string { return e.Err.Error() }
func (e *InterruptedError) Unwrap() error { return e.Err }
