package core

import (
	"slices"
	"strings"

	"github.com/cozyhr/cozyhr/core/hazard"
)

// flagHazards marks the changes that will hurt (see package hazard). The
// marks change no exit code.
func (res *DiffResult) flagHazards() {
	for i := range res.Changes {
		c := &res.Changes[i]
		switch c.Action {
		case ActionChange:
			c.Hazards = hazard.Change(c.Ref.Kind, c.Report, c.Live, c.Desired)
			if foreign := res.foreign[c.Ref.String()]; len(foreign) > 0 {
				c.Hazards = append(c.Hazards, hazard.FieldConflicts(foreign, hazard.ReportPaths(c.Report))...)
			}
		case ActionRemove:
			c.Hazards = hazard.Removal(c.Ref.Kind)
		case ActionAdd:
			c.Hazards = hazard.Addition(c.Ref.Kind, c.Object)
		}
	}
	// Read concurrently: in a stable order for the report.
	slices.SortFunc(res.Owned, func(a, b Owned) int { return strings.Compare(a.Ref, b.Ref) })
	for _, o := range res.Owned {
		if o.Owner != "" {
			res.Flag(o.Ref, hazard.TakenFrom(o.Owner))
		}
	}
}

// Flag adds f to the change of the object ref, or to the release's
// findings when the object does not change otherwise. The rules settings
// ApplyRules was given apply to it too.
func (res *DiffResult) Flag(ref string, f hazard.Finding) {
	kept, muted := hazard.Apply([]hazard.Finding{f}, res.rules)
	for i := range res.Changes {
		if c := &res.Changes[i]; c.Ref.String() == ref {
			c.Hazards, c.Muted = append(c.Hazards, kept...), append(c.Muted, muted...)
			return
		}
	}
	for _, f := range kept {
		f.Message = ref + ": " + f.Message
		res.Findings = append(res.Findings, f)
	}
}

// OwnedLines names the objects the change takes from another release or
// from none, for a prediction.
func (res *DiffResult) OwnedLines() []string {
	var out []string
	for _, o := range res.Owned {
		out = append(out, hazard.OwnerLine(o.Ref, o.Owner))
	}
	return out
}

// Refused are the changes the API server will refuse (an immutable field,
// a shrinking claim), one line per object.
func (res *DiffResult) Refused() []string {
	var out []string
	for _, c := range res.Changes {
		for _, h := range append(c.Hazards, c.Muted...) {
			if h.Rule == hazard.ImmutableField || h.Rule == hazard.PVCShrink {
				out = append(out, c.Ref.String()+": "+h.Message)
				break
			}
		}
	}
	return out
}

// ApplyRules turns the rules settings names off, or gives them another
// severity (diff.rules of .cozyhr.yaml; hazard.Apply). A finding turned
// off is kept in Muted: what the controller will do does not depend on it
// being shown.
func (res *DiffResult) ApplyRules(settings map[string]string) {
	for i := 0; res != nil && len(settings) > 0 && i < len(res.Changes); i++ {
		c := &res.Changes[i]
		var muted []hazard.Finding
		c.Hazards, muted = hazard.Apply(c.Hazards, settings)
		c.Muted = append(c.Muted, muted...)
	}
	if res != nil {
		res.Findings, _ = hazard.Apply(res.Findings, settings)
		res.rules = settings
	}
}

// AtLeast counts the findings of severity min or worse; none when min is
// "".
func (res *DiffResult) AtLeast(min hazard.Severity) int {
	n := 0
	for i := 0; res != nil && min != "" && i < len(res.Findings); i++ {
		if res.Findings[i].Severity.AtLeast(min) {
			n++
		}
	}
	for i := 0; res != nil && min != "" && i < len(res.Changes); i++ {
		for _, h := range res.Changes[i].Hazards {
			if h.Severity.AtLeast(min) {
				n++
			}
		}
	}
	return n
}
