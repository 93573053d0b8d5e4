package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/cozyhr/cozyhr/core/pluginlist"
)

// Plugins prints plugin entries as a table or JSON.
func Plugins(w io.Writer, entries []pluginlist.Entry, format Format) error {
	switch format {
	case JSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	case Table, "":
	default:
		return fmt.Errorf("plugins are not printed as %s", format)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKINDS\tPROTOCOL\tVERSION\tPATH\tUSED AS\tSTATUS")
	for _, e := range entries {
		protocol, path, status := strconv.Itoa(e.Protocol), e.Path, "ok"
		if e.Builtin {
			protocol, path = "built-in", "-"
		} else if e.Protocol == 0 {
			protocol = "-"
		}
		if e.Error != "" {
			line, _, _ := strings.Cut(e.Error, "\n")
			status = "error: " + line
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Name, dash(strings.Join(e.Kinds, ",")), protocol,
			dash(e.Version), path, dash(strings.Join(e.ConfiguredAs, ",")), status)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
