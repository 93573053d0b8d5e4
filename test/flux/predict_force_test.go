package flux_test

import (
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
)

// upgrade.force does not get an immutable field through: under
// server-side apply helm-controller ignores it, and under client-side
// apply Helm replaces the object with a PUT, which the API server refuses
// for the same field. The prediction says the upgrade fails and why; then
// helm-controller's upgrade fails and it stalls.
func TestPredictedForceDoesNotPassAnImmutableField(t *testing.T) {
	off := false
	for _, tc := range []struct {
		ns, method, why string
		mutate          func(hr *helmv2.HelmRelease)
	}{
		{"predict-force-ssa", "server-side apply", "upgrade.force is ignored under server-side apply", func(*helmv2.HelmRelease) {}},
		{"predict-force-csa", "client-side apply", "upgrade.force replaces the object with a PUT, which the API server refuses too", func(hr *helmv2.HelmRelease) {
			hr.Spec.Install.ServerSideApply = &off
			hr.Spec.Upgrade.ServerSideApply = helmv2.ServerSideApplyDisabled
		}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			c, key := installHello(t, tc.ns, func(hr *helmv2.HelmRelease) {
				hr.Spec.Chart.Spec.Version = "*"
				hr.Spec.Upgrade.Force = true
				tc.mutate(hr)
			})
			bumpWithNewSelector(t, c)
			p := prediction(t, c.Dir, c.Namespace)
			if p["action"] != "upgrade" || p["applyMethod"] != tc.method || !strings.Contains(p["fails"], "spec.selector is immutable") || !strings.Contains(p["fails"], tc.why) {
				t.Fatalf("prediction %v", p)
			}
			c.publish(t)
			cozyhr(t, "-C", c.Dir, "reconcile", "--with-source", "--timeout", "2m")
			hr := helmControllerDid(t, key, func(hr *helmv2.HelmRelease) bool {
				return apimeta.IsStatusConditionTrue(hr.Status.Conditions, meta.StalledCondition)
			})
			latest := hr.Status.History.Latest()
			if hr.Status.UpgradeFailures < 1 || latest == nil || latest.Status != "failed" || latest.ChartVersion != "0.2.0" {
				t.Errorf("helm-controller did not fail the forced upgrade as predicted: failures %d, latest %+v", hr.Status.UpgradeFailures, latest)
			}
		})
	}
}
