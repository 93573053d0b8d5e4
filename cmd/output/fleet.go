package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/fleet"
	"github.com/cozyhr/cozyhr/core/predict"
)

// Fleet prints the diff of every instance of a chart as one report: each
// group of changes (core/fleet) once, with the instances it concerns, the
// instances' own names shown as placeholders so that it reads the same for
// each (with o.NoGroup, every change of every instance under its own
// names); then a table with one row per instance.
func Fleet(out io.Writer, insts []fleet.Instance, groups []fleet.Group, o HumanOptions) error {
	var b bytes.Buffer
	for _, g := range groups {
		header, body, err := groupText(g, o)
		if err != nil {
			return err
		}
		b.WriteString(header + "\n" + body + "\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	// The HelmRelease and, beside it, the release it installs, in the
	// namespace its objects live in (targetNamespace and releaseName count).
	fmt.Fprintln(tw, "HELMRELEASE\tRELEASE\tCHART VERSION\tADD\tCHANGE\tDELETE\tFLAGGED\tERROR")
	for _, in := range insts {
		add, change, remove, flagged, errText := "-", "-", "-", "-", ""
		if in.Result != nil {
			a, c, r := in.Result.Counts()
			add, change, remove, flagged = fmt.Sprint(a), fmt.Sprint(c), fmt.Sprint(r), fmt.Sprint(in.Result.Flagged())
		}
		if in.Err != nil {
			// One row, all of it: a schema's first line names no field.
			errText = strings.Join(strings.Fields(in.Err.Error()), " ")
		}
		fmt.Fprintf(tw, "%s/%s\t%s/%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Namespace, in.Name, in.ReleaseNamespace, in.Release, orDash(in.ChartVersion), add, change, remove, flagged, errText)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.WriteString(strings.Join(fleetNotes(insts), ""))
	for _, line := range predictionLines(insts) {
		b.WriteString(paint(o.Color, ansiCyan, "► helm-controller: ") + line + "\n")
	}
	if line := fleetImages(insts); line != "" {
		b.WriteString(line + "\n")
	}
	_, err := out.Write(b.Bytes())
	return err
}

// fleetImages says the image changes across the instances, each with how
// many instances get it.
func fleetImages(insts []fleet.Instance) string {
	var order []string
	count := map[string]int{}
	for _, in := range insts {
		for _, part := range imageParts(ReleaseImages(in.Result)) {
			if count[part] == 0 {
				order = append(order, part)
			}
			count[part]++
		}
	}
	for i, part := range order {
		order[i] = fmt.Sprintf("%s (%d)", part, count[part])
	}
	if len(order) == 0 {
		return ""
	}
	return "Images across instances: " + strings.Join(order, ", ")
}

// predictionLines are the instances' predictions, each said once with the
// instances it concerns, in the order first met.
func predictionLines(insts []fleet.Instance) []string {
	var order []string
	who := map[string][]string{}
	for _, in := range insts {
		line := in.Prediction.Line()
		if line == "" {
			continue
		}
		if _, ok := who[line]; !ok {
			order = append(order, line)
		}
		who[line] = append(who[line], in.Key())
	}
	out := make([]string, len(order))
	for i, line := range order {
		names := who[line]
		if len(names) > 5 {
			names = append(names[:5:5], fmt.Sprintf("%d more", len(who[line])-5))
		}
		out[i] = fmt.Sprintf("%s (%d: %s)", line, len(who[line]), strings.Join(names, ", "))
	}
	return out
}

// fleetNotes are the instances' notes, a line each under its name.
func fleetNotes(insts []fleet.Instance) []string {
	var lines []string
	for _, in := range insts {
		for _, n := range in.Notes {
			lines = append(lines, fmt.Sprintf("! %s: %s\n", in.Key(), n))
		}
	}
	return lines
}

// groupText is a group's header, naming the instances it concerns, and its
// body: the change as DiffHuman prints it, the instances' own names as
// placeholders when it stands for several (o.NoGroup: each is itself).
func groupText(g fleet.Group, o HumanOptions) (string, string, error) {
	header, body, err := fleetText(g.Change, o)
	if err != nil {
		return "", "", err
	}
	if !o.NoGroup {
		generic := strings.NewReplacer(g.Namespace+"/", "<namespace>/", g.Release, "<release>")
		header, body = generic.Replace(header), generic.Replace(body)
	}
	who := strings.Join(g.Instances, ", ")
	if n := len(g.Instances); n > 1 {
		return fmt.Sprintf("%s (%d instances, the same change: %s)", header, n, who), body, nil
	}
	return fmt.Sprintf("%s (only %s)", header, who), body, nil
}

// fleetText is a change's header and body as DiffHuman prints them.
func fleetText(c core.ObjectDiff, o HumanOptions) (string, string, error) {
	var body bytes.Buffer
	writeHazards(&body, c.Hazards, o.Color)
	switch c.Action {
	case core.ActionAdd:
		writeIndentedYAML(&body, c.Object, "    + ")
		return fmt.Sprintf("+ %s will be created", refText(c)), body.String(), nil
	case core.ActionRemove:
		writeIndentedYAML(&body, c.Object, "    - ")
		return fmt.Sprintf("- %s will be deleted", refText(c)), body.String(), nil
	}
	text, err := changeBody(c, o)
	if err != nil {
		return "", "", err
	}
	body.WriteString(text)
	return fmt.Sprintf("~ %s will be changed", refText(c)), body.String(), nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// FleetJSONReport is the fleet's diff as JSON or YAML: one entry per
// instance, each with the report a single diff gives, or its error.
type FleetJSONReport struct {
	APIVersion string              `json:"apiVersion"` // cozyhr.io/v1alpha1
	Kind       string              `json:"kind"`       // FleetDiffReport
	Summary    FleetJSONSummary    `json:"summary"`
	Instances  []FleetJSONInstance `json:"instances"`
}

// FleetJSONSummary counts the instances by outcome.
type FleetJSONSummary struct {
	Instances int `json:"instances"`
	Changed   int `json:"changed"`
	Failed    int `json:"failed"`
	Flagged   int `json:"flagged"`
}

// FleetJSONInstance is one HelmRelease of the fleet and its diff.
type FleetJSONInstance struct {
	Namespace        string   `json:"namespace"`
	Name             string   `json:"name"`
	Release          string   `json:"release,omitempty"`
	ReleaseNamespace string   `json:"releaseNamespace,omitempty"`
	ChartVersion     string   `json:"chartVersion,omitempty"`
	Error            string   `json:"error,omitempty"`
	Notes            []string `json:"notes,omitempty"`
	// Prediction is what helm-controller will do with the change.
	Prediction *predict.Prediction `json:"prediction,omitempty"`
	Report     *JSONReport         `json:"report,omitempty"`
}

// FleetJSON prints the fleet's report as JSON.
func FleetJSON(out io.Writer, insts []fleet.Instance) error {
	rep := FleetJSONReport{APIVersion: "cozyhr.io/v1alpha1", Kind: "FleetDiffReport", Instances: []FleetJSONInstance{}}
	rep.Summary.Instances = len(insts)
	for _, in := range insts {
		fi := FleetJSONInstance{Namespace: in.Namespace, Name: in.Name, Release: in.Release, ReleaseNamespace: in.ReleaseNamespace, ChartVersion: in.ChartVersion, Notes: in.Notes, Prediction: in.Prediction}
		if in.Err != nil {
			fi.Error = in.Err.Error()
			rep.Summary.Failed++
		}
		if in.Result != nil {
			r := jsonReport(in.Result)
			fi.Report = &r
			if in.Result.HasChanges() {
				rep.Summary.Changed++
			}
			rep.Summary.Flagged += in.Result.Flagged()
		}
		rep.Instances = append(rep.Instances, fi)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// FleetYAML prints the fleet's report as YAML.
func FleetYAML(out io.Writer, insts []fleet.Instance) error {
	return jsonAsYAML(out, func(w io.Writer) error { return FleetJSON(w, insts) })
}

// FleetSections are the fleet as sections of a Markdown comment, one per
// instance.
func FleetSections(insts []fleet.Instance) []Section {
	out := make([]Section, len(insts))
	for i, in := range insts {
		out[i] = Section{Chart: in.Namespace + "/" + in.Name, Result: in.Result, Err: in.Err, Prediction: in.Prediction}
	}
	return out
}

// FleetReport prints the fleet's diff in the format f: grouped for people
// (o.NoGroup: each change on its own), per instance otherwise.
func FleetReport(out io.Writer, chart string, insts []fleet.Instance, f Format, o HumanOptions) error {
	return FleetReportTitled(out, "cozyhr diff: every instance of chart "+chart, insts, f, o)
}

// FleetReportTitled is FleetReport with the Markdown comment's title given.
func FleetReportTitled(out io.Writer, title string, insts []fleet.Instance, f Format, o HumanOptions) error {
	switch f {
	case JSON:
		return FleetJSON(out, insts)
	case YAML:
		return FleetYAML(out, insts)
	}
	groups := fleet.GroupChanges(insts, o.NoGroup)
	if f == Markdown {
		notes := fleetNotes(insts)
		for _, line := range predictionLines(insts) {
			notes = append(notes, "helm-controller: "+line+"\n")
		}
		return DiffMarkdown(out, MarkdownReport{Title: title, Notes: notes,
			Column: "instance", Sections: FleetSections(insts), Limit: CommentLimit, Groups: groups})
	}
	return Fleet(out, insts, groups, o)
}

// SnapshotAge says how old a snapshot taken then is, for a report.
func SnapshotAge(taken time.Time) string {
	return fmt.Sprintf("snapshot taken %s ago, %s", time.Since(taken).Round(time.Minute), taken.Format(time.RFC3339))
}
