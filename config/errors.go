package config

import (
	"fmt"
	"strings"
)

// FieldError is one problem in a configuration, located as precisely as the
// source allows: a file line for file content, or the environment variable
// or flag a value came from.
type FieldError struct {
	Line    int    // 1-based; 0 when the value did not come from the file
	Column  int    // 1-based; 0 when unknown
	Field   string // dotted path such as release.namespace or images[0].name
	Source  string // "" for the file, else e.g. "environment COZYHR_APPLY_WAIT"
	Message string
	Hint    string // what to do about it
}

// Error reports every problem found in one configuration file.
type Error struct {
	File   string
	Errors []FieldError
}

func (e *Error) Error() string {
	var b strings.Builder
	if len(e.Errors) == 1 {
		b.WriteString(e.format(e.Errors[0]))
		return b.String()
	}
	fmt.Fprintf(&b, "%s has %d problems:", e.File, len(e.Errors))
	for _, fe := range e.Errors {
		b.WriteString("\n  ")
		b.WriteString(e.format(fe))
	}
	return b.String()
}

func (e *Error) format(fe FieldError) string {
	var b strings.Builder
	switch {
	case fe.Source != "":
		fmt.Fprintf(&b, "%s (from %s)", e.File, fe.Source)
	case fe.Line > 0 && fe.Column > 0:
		fmt.Fprintf(&b, "%s:%d:%d", e.File, fe.Line, fe.Column)
	case fe.Line > 0:
		fmt.Fprintf(&b, "%s:%d", e.File, fe.Line)
	default:
		b.WriteString(e.File)
	}
	b.WriteString(": ")
	if fe.Field != "" {
		b.WriteString(fe.Field)
		b.WriteString(": ")
	}
	b.WriteString(fe.Message)
	if fe.Hint != "" {
		b.WriteString("; ")
		b.WriteString(fe.Hint)
	}
	return b.String()
}
