package core

import "github.com/cozyhr/cozyhr/core/hazard"

// flagHazards marks the changes that will hurt (see package hazard). The
// marks change no exit code.
func (res *DiffResult) flagHazards() {
	for i := range res.Changes {
		c := &res.Changes[i]
		switch c.Action {
		case ActionChange:
			c.Hazards = hazard.Change(c.Ref.Kind, c.Report, c.Live, c.Desired)
		case ActionRemove:
			c.Hazards = hazard.Removal(c.Ref.Kind)
		case ActionAdd:
			c.Hazards = hazard.Addition(c.Ref.Kind, c.Object)
		}
	}
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
