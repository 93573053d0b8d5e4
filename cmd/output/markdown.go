package output

import (
	"cmp"
	"fmt"
	"html"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/gonvenience/text"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/predict"
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
	// Prediction is what helm-controller will do, when not the result's.
	Prediction *predict.Prediction
	// Release is the chart's release, namespace/name, in a review of many
	// charts.
	Release string
}

// Joined are the sections of many charts as one report, the objects that
// leave one chart's release for another's flagged on both (object-moves,
// fleet.Moves), as their default values render them.
func Joined(found [][]Section) []Section {
	var out []Section
	byRelease := map[string]*core.DiffResult{}
	for _, f := range found {
		for _, s := range f {
			out = append(out, s)
			if s.Release != "" && s.Result != nil && (s.Case == "" || s.Case == "default") {
				byRelease[s.Release] = s.Result
			}
		}
	}
	fleet.Moves(byRelease)
	return out
}

// prediction is the section's prediction, or its result's.
func (s Section) prediction() *predict.Prediction {
	if s.Prediction == nil && s.Result != nil {
		return s.Result.Prediction
	}
	return s.Prediction
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
	// Notes are lines said under the title, before the table.
	Notes []string
}

// DiffMarkdown prints a review for a pull request or merge request comment
// (GitHub and GitLab flavoured): a table (chart, case when any section has
// one, added, changed, removed, flagged), then each chart's changes in a
// collapsible section, Secret values masked as in every report. It stays
// under the limit: the details that do not fit are left out, and a line
// says which.
func DiffMarkdown(out io.Writer, m MarkdownReport) error {
	head, details, err := markdownBody(m)
	if err != nil {
		return err
	}
	_, err = io.WriteString(out, fitComment(head, details, m.Limit, cmp.Or(m.Column, "chart")))
	return err
}

// markdownBody is a review's title and table, and its details, flagged
// first.
func markdownBody(m MarkdownReport) (string, []detail, error) {
	sections := m.Sections
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
	for _, n := range m.Notes {
		fmt.Fprintf(&head, "- ⚠ %s", strings.TrimPrefix(n, "! "))
	}
	if len(m.Notes) > 0 {
		head.WriteString("\n")
	}
	// The helm-controller column says what it will do, where a
	// HelmRelease governs a release; the notes say it in full.
	predicted := slices.ContainsFunc(sections, func(s Section) bool { return s.prediction() != nil })
	predictionCell := func(s Section) string {
		if !predicted {
			return ""
		}
		return " " + s.prediction().Short() + " |"
	}
	predictionHead, predictionRule := "", ""
	if predicted {
		predictionHead, predictionRule = " helm-controller |", "---|"
	}
	if withCase {
		fmt.Fprintf(&head, "| %s | case | added | changed | removed | flagged |%s\n|---|---|---:|---:|---:|---:|%s\n", column, predictionHead, predictionRule)
	} else {
		fmt.Fprintf(&head, "| %s | added | changed | removed | flagged |%s\n|---|---:|---:|---:|---:|%s\n", column, predictionHead, predictionRule)
	}
	changed := 0
	for _, s := range sections {
		if s.Err != nil {
			pad := "" // the error fills up to removed; flagged stays empty
			if predicted {
				pad = " |" + predictionCell(s)
			}
			fmt.Fprintf(&head, "| `%s` |%s | | | error: %s |%s\n", s.Chart, caseCell(s), escapeCell(firstLine(s.Err.Error())), pad)
			continue
		}
		a, c, r := s.Result.Counts()
		flag := ""
		if n := s.Result.Flagged(); n > 0 {
			flag = fmt.Sprintf("**%d** ⚠", n)
		}
		fmt.Fprintf(&head, "| `%s` |%s %d | %d | %d | %s |%s\n", s.Chart, caseCell(s), a, c, r, flag, predictionCell(s))
		if s.Result.HasChanges() {
			changed++
		}
	}
	if changed == 0 {
		head.WriteString("\nNo rendered object changes.\n")
	}
	var details []detail
	for _, g := range m.Groups {
		header, body, err := groupText(g, HumanOptions{ContextLines: 3})
		if err != nil {
			return "", nil, err
		}
		details = append(details, detail{name: header, summary: "<code>" + html.EscapeString(header) + "</code>",
			blocks: []string{body}, flagged: len(g.Change.Hazards) > 0})
	}
	for _, s := range sections {
		if m.Groups != nil || s.Err != nil || !s.Result.HasChanges() {
			continue
		}
		var body strings.Builder
		if err := DiffHuman(&body, s.Result, HumanOptions{ContextLines: 3}); err != nil {
			return "", nil, err
		}
		a, c, r := s.Result.Counts()
		label := "<code>" + s.Chart + "</code>"
		if s.Case != "" {
			label += " (case " + s.Case + ")"
		}
		details = append(details, detail{name: s.Chart, summary: fmt.Sprintf("%s: %d to add, %d to change, %d to delete", label, a, c, r),
			blocks: objectBlocks(body.String()), flagged: s.Result.Flagged() > 0})
	}
	// What will hurt is read first.
	slices.SortStableFunc(details, func(a, b detail) int {
		if a.flagged == b.flagged {
			return 0
		}
		if a.flagged {
			return -1
		}
		return 1
	})
	return head.String(), details, nil
}

// partMarker begins every part of a review split into several comments,
// so that a poster finds its earlier parts again.
const partMarker = "<!-- cozyhr diff part %d/%d -->\n"

// MarkdownParts is the review as numbered comments, each under the limit,
// when one comment cannot hold it whole: the title and table first, then
// every chart's details, continued from part to part, none cut but an
// object larger than a part. Each part begins with a marker line naming
// its number and the count.
func MarkdownParts(m MarkdownReport) ([]string, error) {
	head, details, err := markdownBody(m)
	if err != nil {
		return nil, err
	}
	budget := m.Limit - len(partMarker) - 16
	cont := fmt.Sprintf("### %s (continued)\n", m.Title)
	parts := []string{head}
	// A section's length is its wrapper's and its objects' (escaped) own.
	escaped := func(b string) int { return len(strings.ReplaceAll(b, "```", "ʼʼʼ")) }
	for _, d := range details {
		// A chart's objects go on from part to part; its section is opened
		// again, marked continued, in each part it reaches.
		wrapper := len(detail{summary: d.summary + " (continued)"}.render(-1))
		var blocks []string
		used, started := 0, false
		flush := func() {
			if len(blocks) == 0 {
				return
			}
			piece := detail{summary: d.summary, blocks: blocks}
			if started {
				piece.summary += " (continued)"
			}
			parts[len(parts)-1] += piece.render(-1)
			blocks, used, started = nil, 0, true
		}
		for _, b := range d.blocks {
			if len(cont)+wrapper+escaped(b) > budget {
				// An object larger than a part: cut to the most lines that fit.
				keep := sort.Search(strings.Count(b, "\n")+1, func(k int) bool {
					return len(cont)+wrapper+escaped(cutObject(b, k)) > budget
				}) - 1
				b = cutObject(b, max(keep, 0))
			}
			if len(parts[len(parts)-1])+wrapper+used+escaped(b) > budget {
				flush()
				if len(parts[len(parts)-1])+wrapper+escaped(b) > budget {
					parts = append(parts, cont)
				}
			}
			blocks, used = append(blocks, b), used+escaped(b)
		}
		flush()
	}
	for i := range parts {
		parts[i] = fmt.Sprintf(partMarker, i+1, len(parts)) + parts[i]
	}
	return parts, nil
}

// detail is one collapsible section of a comment: a chart's (or a fleet
// group's) changes, as the text blocks of its objects.
type detail struct {
	name, summary string
	blocks        []string
	flagged       bool
}

// render is the section with each object's body cut to at most keep
// lines (keep < 0: whole).
func (d detail) render(keep int) string {
	var b strings.Builder
	for _, block := range d.blocks {
		b.WriteString(cutObject(block, keep))
	}
	return fmt.Sprintf("\n<details><summary>%s</summary>\n\n```diff\n%s```\n\n</details>\n", d.summary, strings.ReplaceAll(b.String(), "```", "ʼʼʼ"))
}

// objectBlocks splits a human report into its objects' blocks: each
// starts at a line that is not indented (an object's header, or a Plan or
// Note line).
func objectBlocks(text string) []string {
	var blocks []string
	for _, line := range strings.SplitAfter(text, "\n") {
		if line == "" {
			continue
		}
		if len(blocks) == 0 || (line[0] != ' ' && line[0] != '\n') {
			blocks = append(blocks, "")
		}
		blocks[len(blocks)-1] += line
	}
	return blocks
}

// cutObject keeps a block's first line and at most keep lines after it,
// saying in place how many it left out.
func cutObject(block string, keep int) string {
	lines := strings.SplitAfter(strings.TrimRight(block, "\n"), "\n")
	if keep < 0 || len(lines)-1 <= keep {
		return block
	}
	return strings.Join(lines[:keep+1], "") + fmt.Sprintf("    … %s of this object left out (cozyhr diff shows them)\n\n", text.Plural(len(lines)-1-keep, "line"))
}

// fitComment puts the head and the details in one comment under limit.
// When they do not fit whole, every object is cut to the same number of
// lines, the most that fits, so the largest objects are cut first and
// every chart keeps its details; when even the objects' headers do not
// fit, the last sections are left out, and a line names them.
func fitComment(head string, details []detail, limit int, column string) string {
	budget := limit - 400 // the line that names what was left out
	size := func(keep int) int {
		n := len(head)
		for _, d := range details {
			n += len(d.render(keep))
		}
		return n
	}
	keep := -1
	if size(-1) > budget {
		most := 0
		for _, d := range details {
			for _, b := range d.blocks {
				most = max(most, strings.Count(b, "\n"))
			}
		}
		// The most lines per object that fit: 0 (headers alone) at worst.
		keep = sort.Search(most+1, func(k int) bool { return size(k) > budget }) - 1
		keep = max(keep, 0)
	}
	var b strings.Builder
	b.WriteString(head)
	var left []string
	for _, d := range details {
		text := d.render(keep)
		if len(left) > 0 || b.Len()+len(text) > budget {
			left = append(left, d.name)
			continue
		}
		b.WriteString(text)
	}
	if keep >= 0 {
		fmt.Fprintf(&b, "\n_Objects are cut to %d lines each to stay under the %d-character comment limit; `cozyhr diff` shows them whole._\n", keep, limit)
	}
	if len(left) > 0 {
		names := left
		if len(names) > 20 {
			names = append(slices.Clone(names[:20]), fmt.Sprintf("and %d more", len(left)-20))
		}
		fmt.Fprintf(&b, "\n_The details of %d %s(s) are left out to stay under the %d-character comment limit: %s; run `cozyhr diff` on them to see all._\n",
			len(left), column, limit, strings.Join(names, ", "))
	}
	return b.String()
}

func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// Results are the sections' results, nil for one that failed.
func Results(sections []Section) []*core.DiffResult {
	out := make([]*core.DiffResult, len(sections))
	for i := range sections {
		out[i] = sections[i].Result
	}
	return out
}
