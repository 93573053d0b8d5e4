package output

import (
	"fmt"
	"strings"
)

// Format is the name of an output format, as -o takes it.
type Format string

// The formats cozyhr prints; each command accepts some of them.
const (
	Dyff    Format = "dyff"
	Brief   Format = "brief"
	Unified Format = "unified"
	JSON    Format = "json"
	YAML    Format = "yaml"
	Table   Format = "table"
	Wide    Format = "wide"
	Name    Format = "name"
	Text    Format = "text"
	// Markdown is a review comment for a pull or merge request.
	Markdown Format = "markdown"
)

// Parse checks value against the formats a command accepts, the first
// being its default (also for ""); "human" is dyff's other name. The error
// lists what is accepted, so that it can be reported before the command
// does anything.
func Parse(value string, accepted ...Format) (Format, error) {
	if value == "" && len(accepted) > 0 {
		return accepted[0], nil
	}
	f := Format(value)
	if f == "human" {
		f = Dyff
	}
	for _, a := range accepted {
		if f == a {
			return f, nil
		}
	}
	names := make([]string, len(accepted))
	for i, a := range accepted {
		names[i] = string(a)
	}
	list := names[0]
	if len(names) > 1 {
		list = strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	}
	return "", fmt.Errorf("unknown output format %q: use %s", value, list)
}
