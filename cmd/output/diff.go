package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/core/predict"
	"github.com/homeport/dyff/pkg/dyff"
	"github.com/pmezard/go-difflib/difflib"
	yaml "go.yaml.in/yaml/v3"
	sigsyaml "sigs.k8s.io/yaml"
)

// HumanOptions tune the human-readable report.
type HumanOptions struct {
	// ContextLines around changes inside multi-line strings.
	ContextLines int
	// Colorizer styles the output; nil is dyff's default (bunt) styling.
	Colorizer dyff.Colorizer
	// NoGroup prints every changed object on its own, even when several
	// change in exactly the same way.
	NoGroup bool
	// Color styles the object headers (green add, yellow change, red delete).
	Color bool
}

// ANSI styles for headers and unified diffs on a terminal.
const (
	ansiGreen  = "\033[32m"
	ansiYellow = "\033[33m"
	ansiRed    = "\033[31m"
	ansiCyan   = "\033[36m"
	ansiDim    = "\033[2m"
	ansiReset  = "\033[0m"
)

// paint wraps s in an ANSI style when on is set.
func paint(on bool, style, s string) string {
	if !on {
		return s
	}
	return style + s + ansiReset
}

// groupListed is how many objects a grouped change names before counting.
const groupListed = 8

// DiffHuman prints the differences as a dyff report per object and a
// summary line.
func DiffHuman(out io.Writer, r *core.DiffResult, o HumanOptions) error {
	// Render each change's body first: objects whose bodies are identical
	// (adopting a release shows the same two Flux labels on every object)
	// are printed once, with the list of objects, so real changes stand out.
	bodies := make([]string, len(r.Changes))
	for i, c := range r.Changes {
		if c.Action != core.ActionChange {
			continue
		}
		body, err := changeBody(c, o)
		if err != nil {
			return err
		}
		bodies[i] = body
	}
	members := map[string][]int{}
	if !o.NoGroup {
		for i, c := range r.Changes {
			if c.Action == core.ActionChange {
				members[bodies[i]] = append(members[bodies[i]], i)
			}
		}
	}
	var b bytes.Buffer
	printed := map[string]bool{}
	for i, c := range r.Changes {
		switch c.Action {
		case core.ActionAdd:
			header := fmt.Sprintf("+ %s will be created", refText(c))
			if c.Note != "" {
				header += fmt.Sprintf(" (%s)", c.Note)
			}
			b.WriteString(paint(o.Color, ansiGreen, header) + "\n")
			writeHazards(&b, c.Hazards, o.Color)
			writeIndentedYAML(&b, c.Object, "    + ")
		case core.ActionRemove:
			b.WriteString(paint(o.Color, ansiRed, fmt.Sprintf("- %s will be deleted", refText(c))) + "\n")
			writeHazards(&b, c.Hazards, o.Color)
			writeIndentedYAML(&b, c.Object, "    - ")
		case core.ActionChange:
			group := members[bodies[i]]
			if len(group) < 2 {
				b.WriteString(paint(o.Color, ansiYellow, fmt.Sprintf("~ %s will be changed", refText(c))) + "\n")
				writeHazards(&b, c.Hazards, o.Color)
				b.WriteString(bodies[i])
				break
			}
			if printed[bodies[i]] {
				continue
			}
			printed[bodies[i]] = true
			var names []string
			for j, m := range group {
				if j == groupListed {
					names = append(names, fmt.Sprintf("and %d more", len(group)-groupListed))
					break
				}
				names = append(names, refText(r.Changes[m]))
			}
			b.WriteString(paint(o.Color, ansiYellow, fmt.Sprintf("~ %d objects will be changed the same way (--no-group shows each): %s", len(group), strings.Join(names, ", "))) + "\n")
			writeHazards(&b, c.Hazards, o.Color)
			b.WriteString(bodies[i])
		}
		b.WriteString("\n")
	}
	if _, err := out.Write(b.Bytes()); err != nil {
		return err
	}
	return diffSummary(out, r)
}

// refText names a changed object, marking a hook (a review compares
// hooks; Helm runs them rather than keeping them).
func refText(c core.ObjectDiff) string {
	if c.Hook {
		return c.Ref.String() + " (hook)"
	}
	return c.Ref.String()
}

// writeHazards marks what will hurt under an object's header.
func writeHazards(b *bytes.Buffer, hazards []hazard.Finding, color bool) {
	for _, h := range hazards {
		b.WriteString(paint(color, ansiRed, "    ! "+h.Message+" ["+h.Rule+", "+string(h.Severity)+"]") + "\n")
	}
}

// changeBody is a changed object's dyff report, indented under its header.
// Text changes are printed by writeTextChange, the rest by dyff.
func changeBody(c core.ObjectDiff, o HumanOptions) (string, error) {
	var rb bytes.Buffer
	context := max(o.ContextLines, 1)
	var pending []dyff.Diff
	dyffReport := func(w io.Writer, diffs []dyff.Diff) error {
		hr := &dyff.HumanReport{
			Report: dyff.Report{From: c.Report.From, To: c.Report.To, Diffs: diffs}, OmitHeader: true, NoTableStyle: true, Indent: 2,
			MultilineContextLines: context, Colorizer: o.Colorizer, DoNotInspectCerts: true,
		}
		return hr.WriteReport(w)
	}
	flush := func(diffs []dyff.Diff) error {
		if len(diffs) == 0 {
			return nil
		}
		return dyffReport(&rb, diffs)
	}
	for _, d := range c.Report.Diffs {
		texts := len(d.Details) > 0
		for _, det := range d.Details {
			if _, _, ok := textChange(det); !ok {
				texts = false
			}
		}
		if !texts {
			pending = append(pending, d)
			continue
		}
		if err := flush(pending); err != nil {
			return "", err
		}
		pending = nil
		// dyff prints the path alone (and blank lines) for a diff with no details.
		var path bytes.Buffer
		if err := dyffReport(&path, []dyff.Diff{{Path: d.Path}}); err != nil {
			return "", err
		}
		rb.WriteString(strings.TrimRight(path.String(), "\n") + "\n")
		for _, det := range d.Details {
			from, to, _ := textChange(det)
			writeTextChange(&rb, from, to, context, o.Color)
		}
	}
	if err := flush(pending); err != nil {
		return "", err
	}
	// dyff separates paths with runs of blank lines; one is enough. It also
	// prints "[N lines unchanged)]" with a stray parenthesis.
	text := strings.ReplaceAll(rb.String(), "unchanged)]", "unchanged]")
	var b strings.Builder
	blank := false
	for _, line := range strings.Split(strings.Trim(text, "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			blank = true
			continue
		}
		if blank {
			b.WriteString("\n")
			blank = false
		}
		b.WriteString("    " + line + "\n")
	}
	return b.String(), nil
}

func writeIndentedYAML(b *bytes.Buffer, obj map[string]any, prefix string) {
	data, err := manifest.YAML(obj)
	if err != nil {
		fmt.Fprintf(b, "%s<unprintable: %v>\n", prefix, err)
		return
	}
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		b.WriteString(prefix + line + "\n")
	}
}

// DiffBrief prints how many objects of each kind would be added, changed
// and deleted.
func DiffBrief(out io.Writer, r *core.DiffResult) error {
	type counts struct{ add, change, remove int }
	byKind := map[string]*counts{}
	for _, c := range r.Changes {
		k := byKind[c.Ref.Kind]
		if k == nil {
			k = &counts{}
			byKind[c.Ref.Kind] = k
		}
		switch c.Action {
		case core.ActionAdd:
			k.add++
		case core.ActionChange:
			k.change++
		case core.ActionRemove:
			k.remove++
		}
	}
	kinds := make([]string, 0, len(byKind))
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if len(kinds) > 0 {
		fmt.Fprintln(tw, "KIND\tADD\tCHANGE\tDELETE")
		for _, k := range kinds {
			c := byKind[k]
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", k, c.add, c.change, c.remove)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return diffSummary(out, r)
}

func diffSummary(out io.Writer, r *core.DiffResult) error {
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(out, "Note: %s.\n", n); err != nil {
			return err
		}
	}
	for _, f := range r.Findings {
		if _, err := fmt.Fprintf(out, "! %s [%s, %s]\n", f.Message, f.Rule, f.Severity); err != nil {
			return err
		}
	}
	if n := r.Flagged(); n > 0 {
		if _, err := fmt.Fprintf(out, "Flagged: %d change(s) that will hurt (marked !; docs/rules.md lists the rules).\n", n); err != nil {
			return err
		}
	}
	add, change, remove := r.Counts()
	var err error
	if !r.HasChanges() {
		_, err = fmt.Fprintf(out, "No changes: %d objects match the live state.\n", r.Unchanged)
	} else {
		_, err = fmt.Fprintf(out, "Plan: %d to add, %d to change, %d to delete, %d unchanged.\n", add, change, remove, r.Unchanged)
	}
	return err
}

// JSONReport is the stable, documented machine-readable diff (-o json).
type JSONReport struct {
	APIVersion string        `json:"apiVersion"` // cozyhr.io/v1alpha1
	Kind       string        `json:"kind"`       // DiffReport
	Case       string        `json:"case,omitempty"`
	Summary    JSONSummary   `json:"summary"`
	Changes    []JSONChange  `json:"changes"`
	Ignored    []JSONIgnored `json:"ignored"`
	Notes      []string      `json:"notes,omitempty"`
	// Prediction is what helm-controller will do with the change.
	Prediction *predict.Prediction `json:"prediction,omitempty"`
	// Findings are the release's as a whole: a major chart bump, a large
	// change set.
	Findings []hazard.Finding `json:"findings,omitempty"`
	// Images are the container images added, changed and removed, by
	// object.
	Images map[string][]hazard.ImageChange `json:"images,omitempty"`
}

// JSONSummary counts objects by outcome.
type JSONSummary struct {
	Add       int `json:"add"`
	Change    int `json:"change"`
	Remove    int `json:"remove"`
	Unchanged int `json:"unchanged"`
	// Flagged counts the changes with hazards.
	Flagged int `json:"flagged,omitempty"`
}

// JSONObject identifies an object.
type JSONObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// JSONChange is one object's difference.
type JSONChange struct {
	Action string `json:"action"` // add, change or remove
	JSONObject
	Note string `json:"note,omitempty"`
	// Fields lists the changed fields of a change.
	Fields []JSONField `json:"fields,omitempty"`
	// Object is the whole (masked) object of an add or remove.
	Object map[string]any `json:"object,omitempty"`
	// Hazards say why the change will hurt: refused by the API server
	// (an immutable field) or losing data (a removed CRD, PVC, ...).
	Hazards []hazard.Finding `json:"hazards,omitempty"`
	// Hook says Helm runs the object as a hook.
	Hook bool `json:"hook,omitempty"`
}

// JSONField is one changed field; Path is in go-patch style, where list
// entries with a name are addressed as name=VALUE.
type JSONField struct {
	Path   string `json:"path"`
	Change string `json:"change"` // added, removed, modified or reordered
	From   any    `json:"from,omitempty"`
	To     any    `json:"to,omitempty"`
}

// JSONIgnored is a difference hidden by an ignore rule.
type JSONIgnored struct {
	JSONObject
	Path   string `json:"path"`
	Source string `json:"source"`
}

func jsonObject(r manifest.Ref) JSONObject {
	apiVersion := r.Version
	if r.Group != "" {
		apiVersion = r.Group + "/" + r.Version
	}
	return JSONObject{APIVersion: apiVersion, Kind: r.Kind, Namespace: r.Namespace, Name: r.Name}
}

// DiffYAML prints the JSONReport as YAML.
func DiffYAML(out io.Writer, r *core.DiffResult) error {
	return jsonAsYAML(out, func(w io.Writer) error { return DiffJSON(w, r) })
}

// jsonAsYAML writes as YAML what writeJSON writes as JSON.
func jsonAsYAML(out io.Writer, writeJSON func(io.Writer) error) error {
	var b bytes.Buffer
	if err := writeJSON(&b); err != nil {
		return err
	}
	data, err := sigsyaml.JSONToYAML(b.Bytes())
	if err != nil {
		return err
	}
	_, err = out.Write(data)
	return err
}

// DiffJSON prints the JSONReport.
func DiffJSON(out io.Writer, r *core.DiffResult) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonReport(r))
}

// jsonReport is a DiffResult as the JSON report has it.
func jsonReport(r *core.DiffResult) JSONReport {
	add, change, remove := r.Counts()
	rep := JSONReport{APIVersion: "cozyhr.io/v1alpha1", Kind: "DiffReport", Case: r.Case,
		Summary: JSONSummary{Add: add, Change: change, Remove: remove, Unchanged: r.Unchanged, Flagged: r.Flagged()},
		Changes: []JSONChange{}, Ignored: []JSONIgnored{}, Notes: r.Notes, Prediction: r.Prediction, Findings: r.Findings, Images: ReleaseImages(r)}
	for _, c := range r.Changes {
		jc := JSONChange{Action: string(c.Action), JSONObject: jsonObject(c.Ref), Note: c.Note, Object: c.Object, Hazards: c.Hazards, Hook: c.Hook}
		if c.Report != nil {
			for _, d := range c.Report.Diffs {
				for _, det := range d.Details {
					jc.Fields = append(jc.Fields, JSONField{Path: d.Path.ToGoPatchStyle(), Change: changeName(det.Kind), From: nodeValue(det.From), To: nodeValue(det.To)})
				}
			}
		}
		rep.Changes = append(rep.Changes, jc)
	}
	for _, ig := range r.Ignored {
		rep.Ignored = append(rep.Ignored, JSONIgnored{JSONObject: jsonObject(ig.Ref), Path: ig.Path, Source: ig.Source})
	}
	return rep
}

func changeName(k rune) string {
	switch k {
	case dyff.ADDITION:
		return "added"
	case dyff.REMOVAL:
		return "removed"
	case dyff.ORDERCHANGE:
		return "reordered"
	default:
		return "modified"
	}
}

func nodeValue(n *yaml.Node) any {
	if n == nil {
		return nil
	}
	var v any
	if err := n.Decode(&v); err != nil {
		return n.Value
	}
	return v
}

// DiffUnified prints a classic unified diff of each object's YAML.
func DiffUnified(out io.Writer, r *core.DiffResult, contextLines int, color bool) error {
	var b bytes.Buffer
	for _, c := range r.Changes {
		var from, to map[string]any
		switch c.Action {
		case core.ActionAdd:
			to = c.Object
		case core.ActionRemove:
			from = c.Object
		case core.ActionChange:
			from, to = c.Live, c.Desired
		}
		name := strings.ReplaceAll(c.Ref.String(), " ", "/")
		if c.Hook {
			name += " (hook)"
		}
		text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: yamlLines(from), B: yamlLines(to), FromFile: "live/" + name, ToFile: "desired/" + name, Context: contextLines,
		})
		if err != nil {
			return err
		}
		if !color {
			b.WriteString(text)
			continue
		}
		for _, line := range strings.SplitAfter(text, "\n") {
			switch {
			case strings.HasPrefix(line, "+++"), strings.HasPrefix(line, "---"):
				line = paint(true, "\033[1m", strings.TrimSuffix(line, "\n")) + "\n"
			case strings.HasPrefix(line, "@@"):
				line = paint(true, ansiCyan, strings.TrimSuffix(line, "\n")) + "\n"
			case strings.HasPrefix(line, "+"):
				line = paint(true, ansiGreen, strings.TrimSuffix(line, "\n")) + "\n"
			case strings.HasPrefix(line, "-"):
				line = paint(true, ansiRed, strings.TrimSuffix(line, "\n")) + "\n"
			}
			b.WriteString(line)
		}
	}
	if _, err := out.Write(b.Bytes()); err != nil {
		return err
	}
	return diffSummary(out, r)
}

func yamlLines(obj map[string]any) []string {
	if obj == nil {
		return nil
	}
	data, err := manifest.YAML(obj)
	if err != nil {
		return []string{fmt.Sprintf("<unprintable: %v>\n", err)}
	}
	return difflib.SplitLines(string(data))
}

// DiffIgnored lists the differences ignore rules hid (--show-ignored).
func DiffIgnored(out io.Writer, r *core.DiffResult) error {
	if len(r.Ignored) == 0 {
		_, err := fmt.Fprintln(out, "Ignored: no differences were hidden.")
		return err
	}
	fmt.Fprintf(out, "Ignored %d difference(s):\n", len(r.Ignored))
	for _, ig := range r.Ignored {
		if _, err := fmt.Fprintf(out, "  %s %s (%s)\n", ig.Ref, ig.Path, ig.Source); err != nil {
			return err
		}
	}
	return nil
}

// Diff prints a diff in the format f; showIgnored adds, in the formats for
// people, what ignore rules hid.
func Diff(out io.Writer, res *core.DiffResult, f Format, o HumanOptions, showIgnored bool) error {
	var err error
	switch f {
	case JSON:
		err = DiffJSON(out, res)
	case YAML:
		err = DiffYAML(out, res)
	case Brief:
		err = DiffBrief(out, res)
	case Unified:
		err = DiffUnified(out, res, o.ContextLines, o.Color)
	default:
		err = DiffHuman(out, res, o)
		if line := res.Prediction.Line(); err == nil && line != "" {
			_, err = fmt.Fprintln(out, paint(o.Color, ansiCyan, "► helm-controller: ")+line)
		}
	}
	if err != nil || !showIgnored || f == JSON || f == YAML {
		return err
	}
	return DiffIgnored(out, res)
}

// imageParts are a release's image changes, each once: "+ redis:7",
// "~ nginx:1.27 → nginx:1.28", "- memcached:1".
func imageParts(byObject map[string][]hazard.ImageChange) []string {
	seen := map[string]bool{}
	var parts []string
	for _, obj := range slices.Sorted(maps.Keys(byObject)) {
		for _, ic := range byObject[obj] {
			part := "~ " + ic.From + " → " + ic.To
			switch {
			case ic.From == "":
				part = "+ " + ic.To
			case ic.To == "":
				part = "- " + ic.From
			}
			if !seen[part] {
				seen[part] = true
				parts = append(parts, part)
			}
		}
	}
	return parts
}

// ReleaseImages are a release's image changes, by object.
func ReleaseImages(res *core.DiffResult) map[string][]hazard.ImageChange {
	out := map[string][]hazard.ImageChange{}
	if res == nil {
		return out
	}
	for _, c := range res.Changes {
		live, desired := c.Live, c.Desired
		switch c.Action {
		case core.ActionAdd:
			live, desired = nil, c.Object
		case core.ActionRemove:
			live, desired = c.Object, nil
		}
		if ics := hazard.Images(c.Ref.Kind, live, desired); len(ics) > 0 {
			out[c.Ref.String()] = ics
		}
	}
	return out
}

// NewImages are the image references a release's change brings, once each.
func NewImages(res *core.DiffResult) []string {
	var refs []string
	for _, ics := range ReleaseImages(res) {
		for _, ic := range ics {
			if ic.To != "" && !slices.Contains(refs, ic.To) {
				refs = append(refs, ic.To)
			}
		}
	}
	return refs
}
