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
		for _, h := range c.Hazards {
			if h.Rule == hazard.ImmutableField || h.Rule == hazard.PVCShrink {
				out = append(out, c.Ref.String()+": "+h.Message)
				break
			}
		}
	}
	return out
}
