package output

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/manifest"
)

// textRenders are two renders of n ConfigMaps, each with a 2.5 kB text
// value that differs between them: in every one of its 40 lines, or, with
// oneLine, in the middle of one line.
func textRenders(n int, oneLine bool) (*core.Desired, *core.Desired) {
	side := func(tag string) *core.Desired {
		objs := make([]manifest.Object, n)
		for i := range objs {
			var text string
			if oneLine {
				text = fmt.Sprintf("%q", strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789 ", 34)+tag+strings.Repeat(" zyx", 300))
			} else {
				var b strings.Builder
				b.WriteString("|\n")
				for j := range 40 {
					fmt.Fprintf(&b, "    line %d of object %d with filler to reach sixty characters %s\n", j, i, tag)
				}
				text = b.String()
			}
			objs[i] = manifest.Object{Raw: fmt.Appendf(nil, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\n  namespace: ns\ndata:\n  text: %s\n", i, text)}
		}
		return &core.Desired{Target: &core.Target{ReleaseName: "big", Namespace: "ns"}, Rendered: &core.Rendered{Manifests: objs}}
	}
	return side("old"), side("new")
}

// BenchmarkTextChanges is a review of n changed 2.5 kB text values in each
// output format: the comparison and the printing, as diff --base does them
// after rendering. The human and Markdown reports should cost about what
// JSON costs, and grow linearly with n.
func BenchmarkTextChanges(b *testing.B) {
	formats := map[string]func(*core.DiffResult) error{
		"json":    func(r *core.DiffResult) error { return DiffJSON(io.Discard, r) },
		"unified": func(r *core.DiffResult) error { return DiffUnified(io.Discard, r, 3, false) },
		"human":   func(r *core.DiffResult) error { return DiffHuman(io.Discard, r, HumanOptions{ContextLines: 3}) },
		"markdown": func(r *core.DiffResult) error {
			return DiffMarkdown(io.Discard, MarkdownReport{Title: "t", Sections: []Section{{Chart: "c", Result: r}}, Limit: CommentLimit})
		},
	}
	for _, n := range []int{1000, 4000} {
		for _, oneLine := range []bool{false, true} {
			base, head := textRenders(n, oneLine)
			for _, name := range []string{"json", "unified", "human", "markdown"} {
				shape := "lines"
				if oneLine {
					shape = "oneline"
				}
				b.Run(fmt.Sprintf("%s/%d/%s", shape, n, name), func(b *testing.B) {
					for b.Loop() {
						r, err := core.CompareRenders(b.Context(), base, head, core.DiffOptions{})
						if err != nil {
							b.Fatal(err)
						}
						if err := formats[name](r); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}
