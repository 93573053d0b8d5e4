package kube

import (
	"context"
	"fmt"
	"io"
	"time"

	"helm.sh/helm/v4/pkg/action"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	release "helm.sh/helm/v4/pkg/release/v1"
)

// interruptedDescription is what a revision cozyhr marks failed says.
const interruptedDescription = "interrupted; marked failed by cozyhr apply"

// RepairPending marks the release's last revision failed when it is
// pending, read afresh (under the lock), so that Helm upgrades over it;
// state says how it was found ("was left %s by an interrupted run"). It
// reports whether there was one to repair.
func RepairPending(cfg *action.Configuration, name, state string, log io.Writer) (bool, error) {
	last, err := LastRelease(cfg, name)
	if err != nil || last == nil || last.Info == nil || !last.Info.Status.IsPending() {
		return false, err
	}
	fmt.Fprintf(log, "Release %s revision %d "+state+"; marking it failed to continue.\n", last.Name, last.Version, last.Info.Status)
	last.SetStatus(rcommon.StatusFailed, interruptedDescription)
	if err := cfg.Releases.Update(last); err != nil {
		return false, fmt.Errorf("repair pending release %s: %w", last.Name, err)
	}
	return true, nil
}

// StoredOutcome is what a run that Helm ended with an error left, from the
// release's newest stored revision: this run's own revision (the one
// after previous) deployed, when Helm finished before it saw a cancel; or
// a newer revision in any other state (the revision Helm stored as
// failed, as helm-controller sees it written); neither when Helm stored
// nothing new, or another run (whose lock was broken) deployed a newer one.
func StoredOutcome(last *release.Release, previous int) (deployed, failed *release.Release) {
	switch {
	case last == nil || last.Version <= previous || last.Info == nil:
		return nil, nil
	case last.Info.Status != rcommon.StatusDeployed:
		return nil, last
	case last.Version == previous+1:
		return last, nil
	}
	return nil, nil
}

// SettledRelease is the newest revision of the release once a Helm action
// returned, re-read. After Ctrl-C, Helm marks the revision it was writing
// failed, from a goroutine of its own for an upgrade, which may not have
// written yet: a pending revision is read again for a moment. One still
// pending after that, newer than previous, is marked failed here, as the
// next apply would, so that the HelmRelease records what the release
// stays.
func SettledRelease(ctx context.Context, cfg *action.Configuration, name string, previous int, log io.Writer) *release.Release {
	for wait := 0; ; wait++ {
		last, err := LastRelease(cfg, name)
		if err != nil || last == nil || last.Info == nil || !last.Info.Status.IsPending() || ctx.Err() == nil {
			return last
		}
		if wait == 30 {
			if last.Version > previous {
				last.SetStatus(rcommon.StatusFailed, interruptedDescription)
				if err := cfg.Releases.Update(last); err != nil {
					fmt.Fprintf(log, "Warning: could not mark release %s revision %d failed: %v\n", last.Name, last.Version, err)
				}
			}
			return last
		}
		time.Sleep(100 * time.Millisecond)
	}
}
