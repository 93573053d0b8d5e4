package review

import (
	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/predict"
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
)

// prediction is what helm-controller will do with the change between two
// revisions of a chart, from the HelmRelease the head revision declares in
// its helmRelease.file: nil without one (a live HelmRelease, or a
// snapshot's, tells more: the release as it is). With no release to read,
// the chart at the base revision is taken as installed, and upgrade's
// default apply method (auto) as what the release was last written with.
func prediction(w *core.Workspace, from, to *core.Desired, res *core.DiffResult) *predict.Prediction {
	if w == nil || to == nil || res == nil || w.Config.HelmRelease.File == "" || to.Target.HelmRelease == nil {
		return nil
	}
	hr := to.Target.HelmRelease
	p := res.Predict(hr, from != nil, "ssa")
	if p != nil && p.Action == predict.Upgrade && p.ApplyMethod != "" {
		if m := hr.GetUpgrade().ServerSideApply; m == "" || m == helmv2.ServerSideApplyAuto {
			p.ApplyMethod = "its last apply method, upgrade.serverSideApply auto"
		}
	}
	return p
}
