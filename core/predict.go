package core

import (
	"github.com/cozyhr/cozyhr/core/predict"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
)

// Predict is what helm-controller, governing the release with hr, will do
// with this change (predict.Release): installed says a release exists,
// lastApplyMethod how Helm last wrote it ("ssa", "csa"). A nil result is
// a release whose change is unknown.
func (res *DiffResult) Predict(hr *helmv2.HelmRelease, installed bool, lastApplyMethod string) *predict.Prediction {
	in := predict.Input{HelmRelease: hr, Installed: installed, LastApplyMethod: lastApplyMethod}
	if res != nil {
		in.Changed, in.Refused, in.CRDs, in.Owned = res.HasChanges() || len(res.Owned) > 0, res.Refused(), res.CRDs, res.OwnedLines()
	}
	return predict.Release(in)
}
