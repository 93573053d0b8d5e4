package output

import (
	"bytes"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gonvenience/text"
	"github.com/homeport/dyff/pkg/dyff"
	"github.com/sergi/go-diff/diffmatchpatch"
	yaml "go.yaml.in/yaml/v3"
)

// Text changes are printed here rather than by dyff, in dyff's layout:
// dyff measures a one-line change by its Levenshtein distance, which costs
// the product of the two lengths (15 ms for two 2.5 kB strings, minutes
// for thousands of objects), and styles and re-measures every line it
// prints through regular expressions. Here a multi-line change is a line
// diff and a long one-line change is cut to the part that differs, both in
// time linear in the text.
const (
	// longText is the length above which a one-line value is cut.
	longText = 512
	// textContext is how much unchanged text is kept on each side of the
	// part of a one-line value that differs.
	textContext = 60
	// textMiddle caps the part that differs, on each side of a cut.
	textMiddle = 300
	// textLines caps the lines one inserted or deleted block prints.
	textLines = 400
	// diffBudget bounds the line diff of one value: past it the diff is
	// coarser, never wrong.
	diffBudget = 200 * time.Millisecond
)

// textChange reports the two strings of a string change this file prints.
func textChange(det dyff.Detail) (string, string, bool) {
	if det.Kind != dyff.MODIFICATION || det.From == nil || det.To == nil ||
		det.From.Kind != yaml.ScalarNode || det.To.Kind != yaml.ScalarNode ||
		det.From.Tag != "!!str" || det.To.Tag != "!!str" {
		return "", "", false
	}
	from, to := det.From.Value, det.To.Value
	if strings.Trim(from, " \n") == strings.Trim(to, " \n") {
		return "", "", false // dyff shows the whitespace
	}
	multi := strings.Contains(from, "\n") || strings.Contains(to, "\n")
	if !multi && len(from) <= longText && len(to) <= longText {
		return "", "", false // dyff highlights a short change in place
	}
	return from, to, true
}

// writeTextChange prints a string change as dyff would, indented for a
// detail under its path.
func writeTextChange(b *bytes.Buffer, from, to string, context int, color bool) {
	const indent = "  " // dyff's block indent
	line := func(style, prefix, s string) {
		b.WriteString(indent + paint(color, style, indent+prefix+s) + "\n")
	}
	if !strings.Contains(from, "\n") && !strings.Contains(to, "\n") {
		f, t := cutToDifference(from, to)
		b.WriteString(indent + paint(color, ansiYellow, "± value change") + "\n")
		line(ansiRed, "- ", f)
		line(ansiGreen, "+ ", t)
		return
	}
	dmp := diffmatchpatch.New()
	dmp.DiffTimeout = diffBudget
	a, c, lines := dmp.DiffLinesToChars(from, to)
	diffs := dmp.DiffCharsToLines(dmp.DiffMain(a, c, false), lines)
	var body bytes.Buffer
	ins, del := 0, 0
	block := func(style, prefix, s string) {
		all := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
		shown := all
		if len(all) > textLines {
			shown = all[:textLines]
		}
		for _, l := range shown {
			body.WriteString(indent + paint(color, style, indent+prefix+l) + "\n")
		}
		if left := len(all) - len(shown); left > 0 {
			body.WriteString(indent + paint(color, ansiDim, fmt.Sprintf("%s[%s of this block left out]", indent+indent, text.Plural(left, "line"))) + "\n")
		}
	}
	for _, d := range diffs {
		switch d.Type {
		case diffmatchpatch.DiffInsert:
			block(ansiGreen, "+ ", d.Text)
			ins++
		case diffmatchpatch.DiffDelete:
			block(ansiRed, "- ", d.Text)
			del++
		case diffmatchpatch.DiffEqual:
			if context <= 0 || d.Text == "" {
				continue
			}
			all := strings.Split(d.Text, "\n")
			lower, upper := min(len(all), context), len(all)-context
			if strings.HasSuffix(d.Text, "\n") {
				upper--
			}
			if upper <= lower {
				writeLines(&body, color, strings.Join(all, "\n"))
				continue
			}
			writeLines(&body, color, fmt.Sprintf("%s\n\n[%s unchanged]\n\n%s",
				strings.Join(all[:lower], "\n"), text.Plural(upper-lower, "line"), strings.Join(all[upper:], "\n")))
		}
	}
	b.WriteString(indent + paint(color, ansiYellow, fmt.Sprintf("± value change in multiline text (%s, %s)",
		text.Plural(ins, "insert"), text.Plural(del, "deletion"))) + "\n")
	b.Write(body.Bytes())
}

// writeLines prints unchanged lines, dimmed, as context.
func writeLines(b *bytes.Buffer, color bool, s string) {
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		b.WriteString("  " + paint(color, ansiDim, "    "+l) + "\n")
	}
}

// cutToDifference keeps, of each string, the part after the common prefix
// and before the common suffix, with textContext characters either side.
func cutToDifference(from, to string) (string, string) {
	prefix := 0
	for prefix < len(from) && prefix < len(to) && from[prefix] == to[prefix] {
		prefix++
	}
	suffix := 0
	for suffix < len(from)-prefix && suffix < len(to)-prefix &&
		from[len(from)-1-suffix] == to[len(to)-1-suffix] {
		suffix++
	}
	start := max(prefix-textContext, 0)
	return cutOne(from, start, len(from)-suffix+textContext), cutOne(to, start, len(to)-suffix+textContext)
}

// cutOne keeps s[start:end] (moved out to rune boundaries), its middle
// capped at 2*textMiddle, and names what it left out.
func cutOne(s string, start, end int) string {
	end = min(end, len(s))
	for start > 0 && !utf8.RuneStart(s[start]) {
		start--
	}
	for end < len(s) && !utf8.RuneStart(s[end]) {
		end++
	}
	var b strings.Builder
	if start > 0 {
		fmt.Fprintf(&b, "[%d characters unchanged] ", utf8.RuneCountInString(s[:start]))
	}
	kept := s[start:end]
	if len(kept) > 2*textMiddle {
		head, tail := textMiddle, len(kept)-textMiddle
		for head > 0 && !utf8.RuneStart(kept[head]) {
			head--
		}
		for tail < len(kept) && !utf8.RuneStart(kept[tail]) {
			tail++
		}
		fmt.Fprintf(&b, "%s [%d characters left out] %s", kept[:head], utf8.RuneCountInString(kept[head:tail]), kept[tail:])
	} else {
		b.WriteString(kept)
	}
	if end < len(s) {
		fmt.Fprintf(&b, " [%d characters unchanged]", utf8.RuneCountInString(s[end:]))
	}
	return b.String()
}
