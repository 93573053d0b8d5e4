package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/cozyhr/cozyhr/core"
	"github.com/homeport/dyff/pkg/dyff"
)

// Instance is one HelmRelease made from a chart, and what its diff found.
type Instance struct {
	Namespace, Name string
	// Release and ReleaseNamespace name its release (helm-controller's
	// naming: targetNamespace and releaseName count).
	Release, ReleaseNamespace string
	// ChartVersion is what its latest release recorded.
	ChartVersion string
	Result       *core.DiffResult
	Err          error
}

// fleetChange is one change of one instance, with the instance's own
// names taken out, so that the same change on several instances compares
// equal.
type fleetChange struct {
	header, body string
	instances    []string
}

// Fleet prints the diff of every instance of a chart as one report: a
// change that several instances get alike is printed once with the
// instances it concerns; a change only some get is printed under each of
// them; then a table with one row per instance.
func Fleet(out io.Writer, insts []Instance, o HumanOptions) error {
	var changes []*fleetChange
	byKey := map[string]*fleetChange{}
	for _, in := range insts {
		if in.Result == nil {
			continue
		}
		release := in.Release
		if release == "" {
			release = in.Name
		}
		ns := in.ReleaseNamespace
		if ns == "" {
			ns = in.Namespace
		}
		generic := strings.NewReplacer(ns+"/", "<namespace>/", release, "<release>")
		for _, c := range in.Result.Changes {
			// Field by field: a template change every instance gets is one
			// piece, a value-dependent one on the same object another.
			for _, piece := range fieldPieces(c) {
				header, body, err := fleetText(piece, o)
				if err != nil {
					return err
				}
				key := generic.Replace(header + "\n" + body)
				fc := byKey[key]
				if fc == nil || o.NoGroup {
					fc = &fleetChange{header: generic.Replace(header), body: generic.Replace(body)}
					byKey[key] = fc
					changes = append(changes, fc)
				}
				fc.instances = append(fc.instances, in.Namespace+"/"+in.Name)
			}
		}
	}
	var b bytes.Buffer
	for _, fc := range changes {
		n := len(fc.instances)
		who := strings.Join(fc.instances, ", ")
		if n > 1 {
			fmt.Fprintf(&b, "%s (%d instances, the same change: %s)\n", fc.header, n, who)
		} else {
			fmt.Fprintf(&b, "%s (only %s)\n", fc.header, who)
		}
		b.WriteString(fc.body)
		b.WriteString("\n")
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAMESPACE\tHELMRELEASE\tCHART VERSION\tADD\tCHANGE\tDELETE\tFLAGGED\tERROR")
	for _, in := range insts {
		add, change, remove, flagged, errText := "-", "-", "-", "-", ""
		if in.Result != nil {
			a, c, r := in.Result.Counts()
			add, change, remove, flagged = fmt.Sprint(a), fmt.Sprint(c), fmt.Sprint(r), fmt.Sprint(in.Result.Flagged())
		}
		if in.Err != nil {
			errText, _, _ = strings.Cut(in.Err.Error(), "\n")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", in.Namespace, in.Name, orDash(in.ChartVersion), add, change, remove, flagged, errText)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := out.Write(b.Bytes())
	return err
}

// fieldPieces splits a change into one change per changed field (an
// addition or removal stays whole).
func fieldPieces(c core.ObjectDiff) []core.ObjectDiff {
	if c.Action != core.ActionChange || c.Report == nil || len(c.Report.Diffs) < 2 {
		return []core.ObjectDiff{c}
	}
	out := make([]core.ObjectDiff, 0, len(c.Report.Diffs))
	for i, d := range c.Report.Diffs {
		piece := c
		report := *c.Report
		report.Diffs = []dyff.Diff{d}
		piece.Report = &report
		if i > 0 {
			piece.Hazards = nil // said once, with the first field
		}
		out = append(out, piece)
	}
	return out
}

// fleetText is a change's header and body as DiffHuman prints them.
func fleetText(c core.ObjectDiff, o HumanOptions) (string, string, error) {
	var body bytes.Buffer
	writeHazards(&body, c.Hazards, o.Color)
	switch c.Action {
	case core.ActionAdd:
		writeIndentedYAML(&body, c.Object, "    + ")
		return fmt.Sprintf("+ %s will be created", c.Ref), body.String(), nil
	case core.ActionRemove:
		writeIndentedYAML(&body, c.Object, "    - ")
		return fmt.Sprintf("- %s will be deleted", c.Ref), body.String(), nil
	}
	text, err := changeBody(c, o)
	if err != nil {
		return "", "", err
	}
	body.WriteString(text)
	return fmt.Sprintf("~ %s will be changed", c.Ref), body.String(), nil
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
	Namespace        string      `json:"namespace"`
	Name             string      `json:"name"`
	Release          string      `json:"release,omitempty"`
	ReleaseNamespace string      `json:"releaseNamespace,omitempty"`
	ChartVersion     string      `json:"chartVersion,omitempty"`
	Error            string      `json:"error,omitempty"`
	Report           *JSONReport `json:"report,omitempty"`
}

// FleetJSON prints the fleet's report as JSON.
func FleetJSON(out io.Writer, insts []Instance) error {
	rep := FleetJSONReport{APIVersion: "cozyhr.io/v1alpha1", Kind: "FleetDiffReport", Instances: []FleetJSONInstance{}}
	rep.Summary.Instances = len(insts)
	for _, in := range insts {
		fi := FleetJSONInstance{Namespace: in.Namespace, Name: in.Name, Release: in.Release, ReleaseNamespace: in.ReleaseNamespace, ChartVersion: in.ChartVersion}
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
func FleetYAML(out io.Writer, insts []Instance) error {
	return jsonAsYAML(out, func(w io.Writer) error { return FleetJSON(w, insts) })
}

// FleetSections are the fleet as sections of a Markdown comment, one per
// instance.
func FleetSections(insts []Instance) []Section {
	out := make([]Section, len(insts))
	for i, in := range insts {
		out[i] = Section{Chart: in.Namespace + "/" + in.Name, Result: in.Result, Err: in.Err}
	}
	return out
}
