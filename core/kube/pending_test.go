package kube

import (
	"testing"

	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// What an apply that Helm ended with an error records follows the release
// as stored: Helm may have finished its write (deployed) before it saw a
// Ctrl-C, or stored a failed revision, or nothing.
func TestStoredOutcomeFollowsTheRelease(t *testing.T) {
	rev := func(version int, status rcommon.Status) *release.Release {
		return &release.Release{Name: "app", Version: version, Info: &release.Info{Status: status}}
	}
	for _, c := range []struct {
		name             string
		last             *release.Release
		previous         int
		deployed, failed bool
	}{
		{"nothing stored", nil, 0, false, false},
		{"nothing new", rev(3, rcommon.StatusDeployed), 3, false, false},
		{"an install Helm finished before the cancel", rev(1, rcommon.StatusDeployed), 0, true, false},
		{"an upgrade Helm finished before the cancel", rev(4, rcommon.StatusDeployed), 3, true, false},
		{"an upgrade Helm marked failed", rev(4, rcommon.StatusFailed), 3, false, true},
		{"a revision still pending", rev(4, rcommon.StatusPendingUpgrade), 3, false, true},
		{"another run's newer success", rev(5, rcommon.StatusDeployed), 3, false, false},
	} {
		deployed, failed := StoredOutcome(c.last, c.previous)
		if (deployed != nil) != c.deployed || (failed != nil) != c.failed {
			t.Errorf("%s: deployed %v, failed %v", c.name, deployed != nil, failed != nil)
		}
	}
}
