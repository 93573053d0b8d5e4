package output

import (
	"errors"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core"
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
	for _, want := range []string{"| `one` | 50 | 0 | 0 |", "| `bad` | | | | error: does not \\| render |", "The details of 1 chart(s) are left out"} {
		if !strings.Contains(out, want) {
			t.Errorf("lacks %q:\n%s", want, out[:min(len(out), 2000)])
		}
	}
}
