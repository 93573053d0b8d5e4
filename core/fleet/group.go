package fleet

import (
	"fmt"
	"strings"

	"github.com/homeport/dyff/pkg/dyff"
	yaml "go.yaml.in/yaml/v3"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/manifest"
)

// Group is one change several instances get alike, or one only some get.
type Group struct {
	// Change is the change as the first of the instances has it: one
	// field of a changed object, or a whole addition or removal.
	Change core.ObjectDiff
	// Namespace and Release are that first instance's release namespace
	// and name: where the change names them, a printer shows placeholders,
	// so that the change reads the same for every instance.
	Namespace, Release string
	// Instances are the HelmReleases (namespace/name) that get it.
	Instances []string
}

// GroupChanges splits every instance's changes field by field and groups
// the pieces that are the same once each instance's own namespace and
// release name are taken out: a template change every instance gets is
// one group, a value-dependent change on the same object another. With
// noGroup every piece is a group of its own. Groups keep the order in
// which their first piece came.
func GroupChanges(insts []Instance, noGroup bool) []Group {
	var groups []Group
	byKey := map[string]int{}
	for _, in := range insts {
		if in.Result == nil {
			continue
		}
		release, ns := in.Release, in.ReleaseNamespace
		if release == "" {
			release = in.Name
		}
		if ns == "" {
			ns = in.Namespace
		}
		generic := strings.NewReplacer(ns+"/", "<namespace>/", release, "<release>")
		for _, c := range in.Result.Changes {
			for _, piece := range FieldPieces(c) {
				key := generic.Replace(changeKey(piece))
				g, ok := byKey[key]
				if !ok || noGroup {
					g = len(groups)
					byKey[key] = g
					groups = append(groups, Group{Change: piece, Namespace: ns, Release: release})
				}
				groups[g].Instances = append(groups[g].Instances, in.Key())
			}
		}
	}
	return groups
}

// FieldPieces splits a change into one change per changed field (an
// addition or removal stays whole); hazards go with the first field.
func FieldPieces(c core.ObjectDiff) []core.ObjectDiff {
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

// changeKey is everything a printed change shows: the object, what
// happens to it, its hazards, and the whole object or each changed field's
// path and values.
func changeKey(c core.ObjectDiff) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s hook=%v\n", c.Action, c.Ref, c.Hook)
	for _, h := range c.Hazards {
		b.WriteString("! " + h.Rule + " " + h.Message + "\n")
	}
	if c.Action != core.ActionChange || c.Report == nil {
		data, err := manifest.YAML(c.Object)
		if err != nil {
			fmt.Fprintf(&b, "<unprintable: %v>", err)
		}
		b.Write(data)
		return b.String()
	}
	for _, d := range c.Report.Diffs {
		if d.Path != nil {
			b.WriteString(d.Path.String())
		}
		b.WriteString("\n")
		for _, det := range d.Details {
			fmt.Fprintf(&b, "%c\n%s---\n%s", det.Kind, nodeText(det.From), nodeText(det.To))
		}
	}
	return b.String()
}

func nodeText(n *yaml.Node) string {
	if n == nil {
		return "~\n"
	}
	data, err := yaml.Marshal(n)
	if err != nil {
		return n.Value + "\n"
	}
	return string(data)
}
