package predict

import (
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func helmRelease(mutate func(hr *helmv2.HelmRelease)) *helmv2.HelmRelease {
	hr := &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "prod"}}
	if mutate != nil {
		mutate(hr)
	}
	return hr
}

// Each case is one thing helm-controller v1.6.3 was seen doing in
// test/flux (predict_test.go, predict_force_test.go, predict_owner_test.go);
// this checks the words the prediction says it with.
func TestReleasePredictsWhatHelmControllerDoes(t *testing.T) {
	selector := []string{"Deployment prod/web: spec.selector is immutable"}
	owned := []string{"ConfigMap prod/shared (release db in prod)"}
	off := false
	for _, c := range []struct {
		name string
		hr   *helmv2.HelmRelease
		in   Input
		want []string
	}{
		{"nothing changes", helmRelease(nil), Input{Installed: true}, []string{"none"}},
		{"suspended", helmRelease(func(hr *helmv2.HelmRelease) { hr.Spec.Suspend = true }), Input{Installed: true, Changed: true}, []string{"not reconciled: the HelmRelease is suspended"}},
		{"an install, server-side by default", helmRelease(nil), Input{Changed: true}, []string{"install (server-side apply)"}},
		{"an upgrade keeps the release's method", helmRelease(nil), Input{Installed: true, Changed: true, LastApplyMethod: "csa"}, []string{"upgrade (client-side apply)"}},
		{"an immutable field, no retries", helmRelease(nil), Input{Installed: true, Changed: true, Refused: selector},
			[]string{"upgrade fails: the API server refuses Deployment prod/web", "no retry and no rollback"}},
		{"force under server-side apply", helmRelease(func(hr *helmv2.HelmRelease) { hr.Spec.Upgrade = &helmv2.Upgrade{Force: true} }),
			Input{Installed: true, Changed: true, Refused: selector, LastApplyMethod: "ssa"}, []string{"upgrade.force is ignored under server-side apply"}},
		{"force under client-side apply", helmRelease(func(hr *helmv2.HelmRelease) { hr.Spec.Upgrade = &helmv2.Upgrade{Force: true} }),
			Input{Installed: true, Changed: true, Refused: selector, LastApplyMethod: "csa"}, []string{"a PUT, which the API server refuses too"}},
		{"rollback and retry", helmRelease(func(hr *helmv2.HelmRelease) {
			hr.Spec.Upgrade = &helmv2.Upgrade{Remediation: &helmv2.UpgradeRemediation{Retries: 2}}
		}), Input{Installed: true, Changed: true, Refused: selector}, []string{"rollback and retry, 2 time(s)"}},
		{"an object of another release is taken over", helmRelease(nil), Input{Installed: true, Changed: true, Owned: owned, LastApplyMethod: "ssa"},
			[]string{"upgrade (server-side apply); takes over ConfigMap prod/shared (release db in prod)"}},
		{"an install that may not take it fails before it stores a release", helmRelease(func(hr *helmv2.HelmRelease) {
			hr.Spec.Install = &helmv2.Install{DisableTakeOwnership: true, ServerSideApply: &off, Remediation: &helmv2.InstallRemediation{Retries: 1}}
		}), Input{Changed: true, Owned: owned}, []string{"install fails: Helm refuses ConfigMap prod/shared", "install.disableTakeOwnership is true", "nothing to uninstall, and no failure counted", "again with back-off, without end"}},
		{"an install that takes an object it cannot change is uninstalled, object and all", helmRelease(func(hr *helmv2.HelmRelease) {
			hr.Spec.Install = &helmv2.Install{Remediation: &helmv2.InstallRemediation{Retries: 1}}
		}), Input{Changed: true, Owned: []string{"Deployment prod/web (no release's)"}, Refused: selector},
			[]string{"install fails: the API server refuses Deployment prod/web", "uninstall (which deletes what the install took over: Deployment prod/web (no release's)), then install again, 1 time(s)"}},
	} {
		c.in.HelmRelease = c.hr
		line := Release(c.in).Line()
		for _, w := range c.want {
			if !strings.Contains(line, w) {
				t.Errorf("%s: %q lacks %q", c.name, line, w)
			}
		}
	}
	if Release(Input{}) != nil {
		t.Error("a release with no HelmRelease has a prediction")
	}
}
