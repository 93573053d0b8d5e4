package output

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/homeport/dyff/pkg/dyff"
)

// changeOf compares two ConfigMaps whose data.text differs.
func changeOf(t *testing.T, from, to string) core.ObjectDiff {
	t.Helper()
	base, head := &core.Desired{Target: &core.Target{ReleaseName: "r", Namespace: "ns"}, Rendered: &core.Rendered{}}, &core.Desired{Target: &core.Target{ReleaseName: "r", Namespace: "ns"}, Rendered: &core.Rendered{}}
	doc := func(s string) manifest.Object {
		return manifest.Object{Raw: fmt.Appendf(nil, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: ns}\ndata:\n  text: %q\n  other: x\n", s)}
	}
	base.Rendered.Manifests, head.Rendered.Manifests = []manifest.Object{doc(from)}, []manifest.Object{doc(to)}
	r, err := core.CompareRenders(t.Context(), base, head, core.DiffOptions{})
	if err != nil || len(r.Changes) != 1 {
		t.Fatalf("compare: %v, %d changes", err, len(r.Changes))
	}
	return r.Changes[0]
}

// Multi-line text changes print exactly as dyff prints them.
func TestTextChangesPrintAsDyffDoes(t *testing.T) {
	lines := func(n int, change map[int]string) string {
		var b strings.Builder
		for i := range n {
			if s, ok := change[i]; ok {
				if s != "" {
					b.WriteString(s + "\n")
				}
				continue
			}
			fmt.Fprintf(&b, "line %d\n", i)
		}
		return b.String()
	}
	cases := map[string][2]string{
		"one line changed":     {lines(40, nil), lines(40, map[int]string{20: "twenty"})},
		"lines added":          {lines(10, nil), lines(10, map[int]string{3: "line 3\nnew a\nnew b"})},
		"lines removed":        {lines(10, nil), lines(10, map[int]string{0: "", 9: ""})},
		"short to multi-line":  {"one", "one\ntwo"},
		"everything rewritten": {lines(5, nil), "a\nb\nc\n"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			change := changeOf(t, c[0], c[1])
			got, err := changeBody(change, HumanOptions{ContextLines: 3})
			if err != nil {
				t.Fatal(err)
			}
			var rb bytes.Buffer
			hr := &dyff.HumanReport{Report: *change.Report, OmitHeader: true, NoTableStyle: true, Indent: 2, MultilineContextLines: 3, DoNotInspectCerts: true}
			if err := hr.WriteReport(&rb); err != nil {
				t.Fatal(err)
			}
			var want strings.Builder
			for _, l := range strings.Split(strings.Trim(strings.ReplaceAll(rb.String(), "unchanged)]", "unchanged]"), "\n"), "\n") {
				if strings.TrimSpace(l) != "" {
					want.WriteString("    " + l + "\n")
				}
			}
			if squeeze(got) != want.String() {
				t.Errorf("got\n%s\nwant (dyff)\n%s", got, want.String())
			}
		})
	}
}

// squeeze drops blank lines, which changeBody keeps one of between paths.
func squeeze(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// A long one-line change prints the part that differs, with what it left
// out said in place, and the rest of the object as dyff prints it.
func TestLongOneLineChangeIsCut(t *testing.T) {
	from := strings.Repeat("a", 3000) + "OLD" + strings.Repeat("z", 2000)
	to := strings.Repeat("a", 3000) + "NEW" + strings.Repeat("z", 2000)
	got, err := changeBody(changeOf(t, from, to), HumanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := "    data.text\n      ± value change\n" +
		"        - [2940 characters unchanged] " + strings.Repeat("a", 60) + "OLD" + strings.Repeat("z", 60) + " [1940 characters unchanged]\n" +
		"        + [2940 characters unchanged] " + strings.Repeat("a", 60) + "NEW" + strings.Repeat("z", 60) + " [1940 characters unchanged]\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// A whole rewrite keeps both ends and leaves out the middle.
	got, err = changeBody(changeOf(t, strings.Repeat("é", 2000), strings.Repeat("ü", 2000)), HumanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "[1700 characters left out]") || strings.Contains(got, "�") {
		t.Errorf("a rewrite is not cut on character boundaries:\n%s", got)
	}
}

// A huge inserted block prints its first lines and says how many it left out.
func TestHugeTextBlockIsCapped(t *testing.T) {
	got, err := changeBody(changeOf(t, "a\n", "a\n"+strings.Repeat("new\n", textLines+25)), HumanOptions{ContextLines: 3})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(got, "+ new"); n != textLines {
		t.Errorf("printed %d inserted lines, want %d", n, textLines)
	}
	if !strings.Contains(got, "[25 lines of this block left out]") {
		t.Errorf("no note of what was left out:\n%s", got[len(got)-300:])
	}
}
