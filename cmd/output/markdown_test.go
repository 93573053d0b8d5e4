package output

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/manifest"
)

// A review comment stays under the limit, and says what it left out.
func TestMarkdownStaysUnderTheCommentLimit(t *testing.T) {
	big := &core.DiffResult{}
	for i := range 50 {
		big.Changes = append(big.Changes, core.ObjectDiff{Action: core.ActionAdd,
			Ref:    manifest.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: strings.Repeat("x", 10) + string(rune('a'+i%26))},
			Object: map[string]any{"data": map[string]any{"v": strings.Repeat("y", 400)}}})
	}
	sections := []Section{{Chart: "one", Result: big}, {Chart: "two", Result: big}, {Chart: "bad", Err: errors.New("does not | render\nmore")}}
	var b strings.Builder
	if err := DiffMarkdown(&b, MarkdownReport{Title: "review", Sections: sections, Limit: 30000}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if len(out) > 30000 {
		t.Errorf("%d characters, over the limit", len(out))
	}
	// Both charts keep their details, each object cut to what fits.
	for _, want := range []string{"| `one` | 50 | 0 | 0 |", "| `bad` | | | | error: does not \\| render |", "<code>one</code>", "<code>two</code>", "of this object left out", "Objects are cut to"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out[:min(len(out), 2000)])
		}
	}
}

// A comment never drops a chart's details while objects can be cut: one
// huge object is cut (said in place) and a small chart after it keeps its
// change whole; a flagged chart's details come first.
func TestMarkdownCutsTheLargestObjectsFirst(t *testing.T) {
	huge := &core.DiffResult{Changes: []core.ObjectDiff{{Action: core.ActionAdd,
		Ref:    manifest.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "huge"},
		Object: map[string]any{"data": map[string]any{"v": strings.Repeat("line\n", 20000)}}}}}
	small := &core.DiffResult{Changes: []core.ObjectDiff{{Action: core.ActionRemove, Hazards: hazard.Removal("Namespace"),
		Ref:    manifest.Ref{Version: "v1", Kind: "Namespace", Name: "tenant"},
		Object: map[string]any{"metadata": map[string]any{"name": "tenant"}}}}}
	var b strings.Builder
	if err := DiffMarkdown(&b, MarkdownReport{Title: "review", Sections: []Section{{Chart: "big", Result: huge}, {Chart: "flagged", Result: small}}, Limit: CommentLimit}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if len(out) > CommentLimit {
		t.Errorf("%d characters, over the limit", len(out))
	}
	if !strings.Contains(out, "lines of this object left out") || !strings.Contains(out, "- Namespace tenant will be deleted") || strings.Contains(out, "are left out") {
		t.Errorf("not cut per object:\n%s", out[len(out)-1500:])
	}
	if strings.Index(out, "<code>flagged</code>") > strings.Index(out, "<code>big</code>") {
		t.Errorf("the flagged chart's details are not first")
	}
}

// Split into parts, a review cuts nothing that fits one: every object of
// every chart is there whole, each part under the limit and numbered; only
// an object larger than a part is cut.
func TestMarkdownPartsKeepEverythingThatFits(t *testing.T) {
	many := &core.DiffResult{}
	for i := range 60 {
		many.Changes = append(many.Changes, core.ObjectDiff{Action: core.ActionAdd,
			Ref:    manifest.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: fmt.Sprintf("cm-%02d", i)},
			Object: map[string]any{"data": map[string]any{"v": strings.Repeat("y", 900)}}})
	}
	huge := &core.DiffResult{Changes: []core.ObjectDiff{{Action: core.ActionAdd,
		Ref:    manifest.Ref{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "huge"},
		Object: map[string]any{"data": map[string]any{"v": strings.Repeat("line\n", 20000)}}}}}
	parts, err := MarkdownParts(MarkdownReport{Title: "review", Sections: []Section{{Chart: "one", Result: many}, {Chart: "two", Result: many}, {Chart: "big", Result: huge}}, Limit: 30000})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(parts, "")
	for i, p := range parts {
		if len(p) > 30000 || !strings.HasPrefix(p, fmt.Sprintf("<!-- cozyhr diff part %d/%d -->\n", i+1, len(parts))) {
			t.Errorf("part %d: %d characters, starts %.40q", i+1, len(p), p)
		}
	}
	if len(parts) < 4 || strings.Count(all, "+ ConfigMap ns/cm-") != 120 || strings.Count(all, "lines of this object left out") != 1 {
		t.Errorf("%d parts, %d objects whole, %d cut", len(parts), strings.Count(all, "+ ConfigMap ns/cm-"), strings.Count(all, "lines of this object left out"))
	}
}
