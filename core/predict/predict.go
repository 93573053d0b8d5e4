// Package predict says what helm-controller will do with a release's
// change, given its HelmRelease: install, upgrade, nothing, or nothing
// because it does not reconcile; for an upgrade, the apply method, the
// CRDs it skips or applies, whether the upgrade fails on a field the API
// server refuses to change, and the remediation it then takes. Each
// claim is shown by a test where helm-controller v1.6.3 does it
// (test/flux/predict_test.go).
package predict

import (
	"fmt"
	"strings"

	release "helm.sh/helm/v4/pkg/release/v1"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
)

// Action is what helm-controller does next.
type Action string

const (
	Install Action = "install"
	Upgrade Action = "upgrade"
	// None: no object changes. helm-controller still upgrades when the
	// chart version or values change, to the same objects.
	None Action = "none"
	// NotReconciled: suspended, or a dependsOn not ready.
	NotReconciled Action = "not-reconciled"
)

// Prediction is what helm-controller will do with one release.
type Prediction struct {
	Action Action `json:"action"`
	// Why says why it does not reconcile.
	Why string `json:"why,omitempty"`
	// ApplyMethod is server-side or client-side.
	ApplyMethod string `json:"applyMethod,omitempty"`
	// CRDs says what happens to the changed CRDs of the chart's crds/.
	CRDs string `json:"crds,omitempty"`
	// Fails says why the action will fail, "" when nothing says it will.
	Fails string `json:"fails,omitempty"`
	// Then is what helm-controller does once it has failed.
	Then string `json:"then,omitempty"`
	// Takes names the objects it takes over from another release, or
	// from none.
	Takes string `json:"takes,omitempty"`
}

// Input is what a prediction reads.
type Input struct {
	// HelmRelease is the release's, nil in plain Helm mode (no prediction).
	HelmRelease *helmv2.HelmRelease
	// Installed says a release exists; LastApplyMethod is how Helm last
	// wrote it ("ssa", "csa").
	Installed       bool
	LastApplyMethod string
	// Changed says the release's objects change; Refused are the changes
	// the API server refuses (core.DiffResult.Refused); CRDs the chart's
	// crds/ CRDs that change.
	Changed bool
	Refused []string
	CRDs    []string
	// Owned are the live objects the change writes that another release
	// owns, or none does (core.DiffResult.OwnedLines).
	Owned []string
}

// Release predicts what helm-controller does with the release; nil with
// no HelmRelease.
func Release(in Input) *Prediction {
	hr := in.HelmRelease
	if hr == nil {
		return nil
	}
	if hr.Spec.Suspend {
		return &Prediction{Action: NotReconciled, Why: "the HelmRelease is suspended: helm-controller leaves the release alone until it is resumed"}
	}
	if c := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition); c != nil && c.Reason == "DependencyNotReady" {
		return &Prediction{Action: NotReconciled, Why: "a dependsOn is not ready: " + c.Message}
	}
	p := &Prediction{Action: Upgrade}
	if !in.Installed {
		p.Action = Install
	}
	if !in.Changed {
		if p.Action == Upgrade {
			p.Action = None
		}
		return p
	}
	p.ApplyMethod = "client-side apply"
	if ServerSideApply(hr, in.LastApplyMethod, p.Action == Install) {
		p.ApplyMethod = "server-side apply"
	}
	p.CRDs = crds(hr, p.Action, p.ApplyMethod == "server-side apply", in.CRDs)
	var fails []string
	helmRefuses := false
	if len(in.Refused) > 0 {
		fails = append(fails, "the API server refuses "+strings.Join(in.Refused, "; "))
	}
	if len(in.Owned) > 0 {
		disabled, field := hr.GetUpgrade().DisableTakeOwnership, "upgrade.disableTakeOwnership"
		if p.Action == Install {
			disabled, field = hr.GetInstall().DisableTakeOwnership, "install.disableTakeOwnership"
		}
		if disabled {
			helmRefuses = true
			fails = append(fails, "Helm refuses "+strings.Join(in.Owned, ", ")+": its marks name another release or none, and "+field+" is true (invalid ownership metadata)")
		} else {
			p.Takes = strings.Join(in.Owned, ", ")
		}
	}
	if len(fails) > 0 {
		p.Fails = strings.Join(fails, "; ")
		// upgrade.force does not help: helm-controller ignores it under
		// server-side apply, and otherwise Helm replaces the object with
		// a PUT, which the API server refuses for the same field.
		if p.Action == Upgrade && hr.GetUpgrade().Force && len(in.Refused) > 0 {
			if p.ApplyMethod == "server-side apply" {
				p.Fails += " (upgrade.force is ignored under server-side apply)"
			} else {
				p.Fails += " (upgrade.force replaces the object with a PUT, which the API server refuses too)"
			}
		}
		p.Then = remediation(hr, p.Action, helmRefuses && len(in.Refused) == 0, in.Owned)
	}
	return p
}

// crds says what the action does with the chart's changed crds/ CRDs,
// as helm-controller v1.6 does: Create is the default for install and
// upgrade alike, and under server-side apply it applies existing CRDs too.
func crds(hr *helmv2.HelmRelease, action Action, ssa bool, changed []string) string {
	if len(changed) == 0 {
		return ""
	}
	names := strings.Join(changed, ", ")
	policy, field := hr.GetUpgrade().CRDs, "upgrade.crds"
	if action == Install {
		policy, field = hr.GetInstall().CRDs, "install.crds"
	}
	switch policy {
	case helmv2.Skip:
		return fmt.Sprintf("not applied: %s is Skip, so %s keep their live definition", field, names)
	case helmv2.CreateReplace:
		return fmt.Sprintf("created or replaced (%s CreateReplace): %s", field, names)
	}
	if ssa {
		return fmt.Sprintf("applied: %s is Create (the default), which under server-side apply updates existing CRDs too: %s", field, names)
	}
	return fmt.Sprintf("created if missing, existing ones left as they are (%s Create, the default, under client-side apply): %s", field, names)
}

// remediation says what helm-controller does after the action failed, as
// its HelmRelease's remediation settings say.
func remediation(hr *helmv2.HelmRelease, action Action, beforeStored bool, owned []string) string {
	if action == Install {
		r := hr.GetInstall().GetRemediation()
		switch {
		case beforeStored:
			return "nothing to uninstall, and no failure counted against install.remediation.retries (Helm refuses before it stores a release): helm-controller tries the install again with back-off, without end, until the object is freed"
		case r.GetRetries() == 0:
			return "no retry and no uninstall (install.remediation.retries is 0): the release stays failed and the HelmRelease stalls"
		}
		took := ""
		if len(owned) > 0 {
			took = " (which deletes what the install took over: " + strings.Join(owned, ", ") + ")"
		}
		return fmt.Sprintf("uninstall%s, then install again, %d time(s) (install.remediation.retries); if every attempt fails, the HelmRelease stalls", took, r.GetRetries())
	}
	if s := hr.GetUpgrade().Strategy; s != nil && s.Name == string(helmv2.ActionStrategyRetryOnFailure) {
		return "retry the upgrade, without remediation (upgrade.strategy RetryOnFailure)"
	}
	r := hr.GetUpgrade().GetRemediation()
	strategy := "rollback"
	if r.GetStrategy() == helmv2.UninstallRemediationStrategy {
		strategy = "uninstall"
	}
	switch {
	case r.GetRetries() == 0 && !r.MustRemediateLastFailure():
		return "no retry and no rollback (upgrade.remediation.retries is 0): the release stays failed and the HelmRelease stalls"
	case r.GetRetries() == 0:
		return strategy + " (upgrade.remediation.remediateLastFailure), then the HelmRelease stalls"
	case r.MustRemediateLastFailure():
		return fmt.Sprintf("%s and retry, %d time(s) (upgrade.remediation.retries); %s after the last failure too, then the HelmRelease stalls", strategy, r.GetRetries(), strategy)
	}
	return fmt.Sprintf("%s and retry, %d time(s) (upgrade.remediation.retries); after the last failure the release stays failed and the HelmRelease stalls", strategy, r.GetRetries())
}

// Short is the prediction in a few words, for a table's cell.
func (p *Prediction) Short() string {
	if p == nil {
		return ""
	}
	s := strings.ReplaceAll(string(p.Action), "-", " ")
	switch {
	case p.Fails != "":
		s += " **fails**"
	case p.Takes != "":
		s += ", takes over objects"
	}
	return s
}

// Line is the prediction in one line, for a table or a report.
func (p *Prediction) Line() string {
	if p == nil {
		return ""
	}
	switch {
	case p.Action == NotReconciled:
		return "not reconciled: " + p.Why
	case p.Fails != "":
		return fmt.Sprintf("%s fails: %s; then %s", p.Action, p.Fails, p.Then)
	case p.Then != "":
		return fmt.Sprintf("%s: %s", p.Action, p.Then)
	}
	line := string(p.Action)
	if p.ApplyMethod != "" {
		line += " (" + p.ApplyMethod + ")"
	}
	if p.CRDs != "" {
		line += "; CRDs " + p.CRDs
	}
	if p.Takes != "" {
		line += "; takes over " + p.Takes
	}
	return line
}

// ServerSideApply decides the apply method as helm-controller does: a
// fresh install uses server-side apply unless spec.install.serverSideApply
// is false; an upgrade follows spec.upgrade.serverSideApply, whose default
// "auto" keeps the method the release was last written with (lastMethod,
// Helm's "ssa" or "csa"). With no HelmRelease (plain Helm) a fresh install
// is client-side, as the helm v3 CLI writes it, and an upgrade keeps the
// release's method.
func ServerSideApply(hr *helmv2.HelmRelease, lastMethod string, install bool) bool {
	if install {
		if hr == nil {
			return false
		}
		if ssa := hr.GetInstall().ServerSideApply; ssa != nil {
			return *ssa
		}
		return true
	}
	if hr != nil {
		switch hr.GetUpgrade().ServerSideApply {
		case helmv2.ServerSideApplyEnabled:
			return true
		case helmv2.ServerSideApplyDisabled:
			return false
		}
	}
	return lastMethod == string(release.ApplyMethodServerSideApply)
}
