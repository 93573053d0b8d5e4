package core

import (
	helmv2 "github.com/fluxcd/helm-controller/api/v2"
)

// CRD policies for the chart's crds/ directory, as helm-controller names
// them: Skip leaves CRDs alone, Create creates missing ones, CreateReplace
// also replaces existing ones.
const (
	CRDsSkip          = string(helmv2.Skip)
	CRDsCreate        = string(helmv2.Create)
	CRDsCreateReplace = string(helmv2.CreateReplace)
)

// crdPolicy is the policy for the coming install or upgrade: the
// HelmRelease's spec.install.crds or spec.upgrade.crds in Flux mode, both
// Create by default (helm-controller v1.6's crdPolicyOrDefault, shown in
// test/flux TestPredictedCRDPolicies); Helm's own behaviour (Create on
// install, Skip on upgrade) otherwise, unless .cozyhr.yaml apply.crds says
// otherwise.
func (w *Workspace) crdPolicy(t *Target, upgrade bool) string {
	if hr := t.HelmRelease; hr != nil {
		switch {
		case !upgrade && hr.Spec.Install != nil && hr.Spec.Install.CRDs != "":
			return string(hr.Spec.Install.CRDs)
		case upgrade && hr.Spec.Upgrade != nil && hr.Spec.Upgrade.CRDs != "":
			return string(hr.Spec.Upgrade.CRDs)
		}
		return CRDsCreate
	} else if p := w.Config.Apply.CRDs; p != "" {
		return p
	}
	if upgrade {
		return CRDsSkip
	}
	return CRDsCreate
}

// crdsUpdated reports whether the coming install or upgrade changes the
// chart's existing CRDs: CreateReplace does, and Create does under
// server-side apply in Flux mode.
func (w *Workspace) crdsUpdated(t *Target, upgrade, ssa bool) bool {
	switch w.crdPolicy(t, upgrade) {
	case CRDsCreateReplace:
		return true
	case CRDsCreate:
		return ssa && t.FluxMode()
	}
	return false
}
