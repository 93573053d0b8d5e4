package output

import (
	"regexp"
	"strings"
)

// multiErrorHead is how go-multierror (used by Helm) opens its message.
var multiErrorHead = regexp.MustCompile(`(\d+) errors? occurred:\n`)

// CleanError tidies Helm's multi-errors ("1 error occurred:\n\t* x\n\n")
// into one line, or a short list, and drops trailing blank lines.
func CleanError(msg string) string {
	for {
		loc := multiErrorHead.FindStringSubmatchIndex(msg)
		if loc == nil {
			break
		}
		rest := msg[loc[1]:]
		var items []string
		for strings.HasPrefix(rest, "\t* ") {
			line, tail, _ := strings.Cut(rest[3:], "\n")
			items = append(items, line)
			rest = tail
		}
		rest = strings.TrimLeft(rest, "\n")
		joined := strings.Join(items, "; ")
		if len(items) > 1 {
			joined = "\n  - " + strings.Join(items, "\n  - ")
		}
		if rest != "" {
			joined += "\n" + rest
		}
		msg = msg[:loc[0]] + joined
	}
	return strings.TrimRight(msg, "\n\t ")
}
