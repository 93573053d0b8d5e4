package fleet

import (
	"testing"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/hazard"
	"github.com/cozyhr/cozyhr/core/manifest"
)

// An object removed from one release and added to, or taken live by,
// another in the same run is flagged on both sides; a removal and an
// addition of different objects, or within one release, are not.
func TestMovesFlagBothReleases(t *testing.T) {
	shared := manifest.Ref{Kind: "ConfigMap", Namespace: "prod", Name: "shared"}
	other := manifest.Ref{Kind: "ConfigMap", Namespace: "prod", Name: "other"}
	a := &core.DiffResult{Changes: []core.ObjectDiff{{Ref: shared, Action: core.ActionRemove}, {Ref: other, Action: core.ActionRemove}}}
	b := &core.DiffResult{Changes: []core.ObjectDiff{{Ref: shared, Action: core.ActionAdd}}}
	c := &core.DiffResult{Owned: []core.Owned{{Ref: other.String(), Owner: "a in prod"}}}
	self := &core.DiffResult{Changes: []core.ObjectDiff{{Ref: manifest.Ref{Kind: "Secret", Namespace: "prod", Name: "s"}, Action: core.ActionRemove}, {Ref: manifest.Ref{Kind: "Secret", Namespace: "prod", Name: "s"}, Action: core.ActionAdd}}}
	Moves(map[string]*core.DiffResult{"prod/a": a, "prod/b": b, "prod/c": c, "prod/self": self})

	rules := func(hs []hazard.Finding) (n int) {
		for _, h := range hs {
			if h.Rule == hazard.ObjectMoves {
				n++
			}
		}
		return n
	}
	if rules(a.Changes[0].Hazards) != 1 || rules(b.Changes[0].Hazards) != 1 {
		t.Errorf("the move of shared is not flagged on both sides: %+v / %+v", a.Changes[0].Hazards, b.Changes[0].Hazards)
	}
	// c takes other live: the leaving side is flagged here, the taker
	// by its own diff (hazard.TakenFrom).
	if rules(a.Changes[1].Hazards) != 1 || rules(c.Findings) != 0 {
		t.Errorf("the move of other is not flagged once: %+v / %+v", a.Changes[1].Hazards, c.Findings)
	}
	if rules(self.Changes[0].Hazards)+rules(self.Changes[1].Hazards) != 0 {
		t.Errorf("a release's own removal and addition flagged as a move")
	}

	muted := &core.DiffResult{Changes: []core.ObjectDiff{{Ref: shared, Action: core.ActionAdd}}}
	muted.ApplyRules(map[string]string{hazard.ObjectMoves: "off"})
	Moves(map[string]*core.DiffResult{"prod/a": {Changes: []core.ObjectDiff{{Ref: shared, Action: core.ActionRemove}}}, "prod/b": muted})
	if len(muted.Changes[0].Hazards) != 0 || len(muted.Changes[0].Muted) != 1 {
		t.Errorf("object-moves: off still shows: %+v", muted.Changes[0])
	}
}
