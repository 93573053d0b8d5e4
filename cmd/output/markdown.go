package output

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/fleet"
)

// CommentLimit is the most a GitHub comment holds.
const CommentLimit = 65536

// Section is one chart's part of a Markdown report (or one instance's, or
// one value case's of a chart).
type Section struct {
	Chart string
	// Case is the value case the chart was rendered with, "" for its
	// default values.
	Case   string
	Result *core.DiffResult
	Err    error
}

// MarkdownReport is a review comment: its title, what the first column names
// ("chart", "instance"), and its sections.
type MarkdownReport struct {
	Title    string
	Column   string
	Sections []Section
	// Limit is the most characters the comment may have.
	Limit int
	// Groups, when set, are the details instead of one per section: each
	// change once, with the instances it concerns, as the terminal report
	// of a fleet groups them.
	Groups []fleet.Group
}

// DiffMarkdown prints a review for a pull request or merge request comment
// (GitHub and GitLab flavoured): a table (chart, case when any section has
// one, added, changed, removed, flagged), then each chart's changes in a
// collapsible section, Secret values masked as in every report. It stays
// under the limit: the details that do not fit are left out, and a line
// says which.
func DiffMarkdown(out io.Writer, m MarkdownReport) error {
	sections, limit := m.Sections, m.Limit
	column := cmp.Or(m.Column, "chart")
	withCase := slices.ContainsFunc(sections, func(s Section) bool { return s.Case != "" })
	caseCell := func(s Section) string {
		if !withCase {
			return ""
		}
		return " " + cmp.Or(s.Case, "default") + " |"
	}
	var head strings.Builder
	fmt.Fprintf(&head, "### %s\n\n", m.Title)
	if withCase {
		fmt.Fprintf(&head, "| %s | case | added | changed | removed | flagged |\n|---|---|---:|---:|---:|---:|\n", column)
	} else {
		fmt.Fprintf(&head, "| %s | added | changed | removed | flagged |\n|---|---:|---:|---:|---:|\n", column)
	}
	changed := 0
	for _, s := range sections {
		if s.Err != nil {
			fmt.Fprintf(&head, "| `%s` |%s | | | error: %s |\n", s.Chart, caseCell(s), escapeCell(firstLine(s.Err.Error())))
			continue
		}
		a, c, r := s.Result.Counts()
		flag := ""
		if n := s.Result.Flagged(); n > 0 {
			flag = fmt.Sprintf("**%d** ⚠", n)
		}
		fmt.Fprintf(&head, "| `%s` |%s %d | %d | %d | %s |\n", s.Chart, caseCell(s), a, c, r, flag)
		if s.Result.HasChanges() {
			changed++
		}
	}
	if changed == 0 {
		head.WriteString("\nNo rendered object changes.\n")
	}
	var details []string
	for _, g := range m.Groups {
		header, body, err := groupText(g, HumanOptions{ContextLines: 3})
		if err != nil {
			return err
		}
		details = append(details, fmt.Sprintf("\n<details><summary><code>%s</code></summary>\n\n```diff\n%s```\n\n</details>\n",
			html.EscapeString(header), strings.ReplaceAll(body, "```", "ʼʼʼ")))
	}
	for _, s := range sections {
		if m.Groups != nil || s.Err != nil || !s.Result.HasChanges() {
			continue
		}
		var body strings.Builder
		if err := DiffHuman(&body, s.Result, HumanOptions{ContextLines: 3}); err != nil {
			return err
		}
		a, c, r := s.Result.Counts()
		label := "<code>" + s.Chart + "</code>"
		if s.Case != "" {
			label += " (case " + s.Case + ")"
		}
		details = append(details, fmt.Sprintf("\n<details><summary>%s: %d to add, %d to change, %d to delete</summary>\n\n```diff\n%s```\n\n</details>\n",
			label, a, c, r, strings.ReplaceAll(body.String(), "```", "ʼʼʼ")))
	}
	text := head.String()
	cut := 0
	for i, d := range details {
		// Leave room for the line that says what was cut.
		if len(text)+len(d) > limit-200 {
			cut = len(details) - i
			break
		}
		text += d
	}
	if cut > 0 {
		text += fmt.Sprintf("\n_The details of %d %s(s) are left out to stay under the %d-character comment limit; run `cozyhr diff` on them to see all._\n", cut, column, limit)
	}
	_, err := io.WriteString(out, text)
	return err
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
