package output

import (
	"fmt"
	"io"
	"strings"

	"github.com/cozyhr/cozyhr/core"
)

// CommentLimit is the most a GitHub comment holds.
const CommentLimit = 65536

// Section is one chart's part of a Markdown report.
type Section struct {
	Chart  string
	Result *core.DiffResult
	Err    error
}

// DiffMarkdown prints a review for a pull request or merge request comment
// (GitHub and GitLab flavoured): a table (chart, added, changed, removed,
// flagged), then each chart's changes in a collapsible section, Secret
// values masked as in every report. It stays under limit characters: the
// details that do not fit are left out, and a line says which.
func DiffMarkdown(out io.Writer, title string, sections []Section, limit int) error {
	var head strings.Builder
	fmt.Fprintf(&head, "### %s\n\n", title)
	fmt.Fprintln(&head, "| chart | added | changed | removed | flagged |")
	fmt.Fprintln(&head, "|---|---:|---:|---:|---:|")
	changed := 0
	for _, s := range sections {
		if s.Err != nil {
			fmt.Fprintf(&head, "| `%s` | | | | error: %s |\n", s.Chart, escapeCell(firstLine(s.Err.Error())))
			continue
		}
		a, c, r := s.Result.Counts()
		flag := ""
		if n := s.Result.Flagged(); n > 0 {
			flag = fmt.Sprintf("**%d** ⚠", n)
		}
		fmt.Fprintf(&head, "| `%s` | %d | %d | %d | %s |\n", s.Chart, a, c, r, flag)
		if s.Result.HasChanges() {
			changed++
		}
	}
	if changed == 0 {
		head.WriteString("\nNo rendered object changes.\n")
	}
	var details []string
	for _, s := range sections {
		if s.Err != nil || !s.Result.HasChanges() {
			continue
		}
		var body strings.Builder
		if err := DiffHuman(&body, s.Result, HumanOptions{ContextLines: 3}); err != nil {
			return err
		}
		a, c, r := s.Result.Counts()
		details = append(details, fmt.Sprintf("\n<details><summary><code>%s</code>: %d to add, %d to change, %d to delete</summary>\n\n```diff\n%s```\n\n</details>\n",
			s.Chart, a, c, r, strings.ReplaceAll(body.String(), "```", "ʼʼʼ")))
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
		text += fmt.Sprintf("\n_The details of %d chart(s) are left out to stay under the %d-character comment limit; run `cozyhr diff` on them to see all._\n", cut, limit)
	}
	_, err := io.WriteString(out, text)
	return err
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
