package flux_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	chartv4 "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	releasev4 "helm.sh/helm/v4/pkg/release/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/core/flux"
	"github.com/cozyhr/cozyhr/test/testenv"
)

// release is a stored Helm release of chart app at chartVersion.
func release(ns, name string, version int, chartVersion string, status rcommon.Status) *releasev4.Release {
	now := time.Now()
	return &releasev4.Release{
		Name: name, Namespace: ns, Version: version,
		Info:     &releasev4.Info{Status: status, FirstDeployed: now, LastDeployed: now, Description: "test"},
		Chart:    &chartv4.Chart{Metadata: &chartv4.Metadata{Name: "app", Version: chartVersion, APIVersion: "v2"}},
		Config:   map[string]any{"replicas": 1},
		Manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n",
	}
}

// held creates a HelmRelease and returns it with a function that reads it
// afresh.
func held(t *testing.T, ns string) (*helmv2.HelmRelease, func() *helmv2.HelmRelease) {
	t.Helper()
	hr := helmRelease(namespace(t, ns), "app", `{"replicas":1}`)
	if err := env.Client.Create(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	return hr, func() *helmv2.HelmRelease {
		t.Helper()
		got := &helmv2.HelmRelease{}
		if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(hr), got); err != nil {
			t.Fatal(err)
		}
		return got
	}
}

func condition(hr *helmv2.HelmRelease, kind string) *metav1.Condition {
	return apimeta.FindStatusCondition(hr.Status.Conditions, kind)
}

// Hold suspends the HelmRelease, runs the write, and records it: what this
// test pins field by field is what the real helm-controller writes for its
// own install and upgrade, as test/flux/status_test.go shows with the
// controller running.
func TestHoldRecordsAnInstallThenAnUpgrade(t *testing.T) {
	hr, get := held(t, "flux-status-release")
	ctx := context.Background()
	var log bytes.Buffer
	installed := release(hr.Namespace, "app", 1, "1.0.0", rcommon.StatusDeployed)
	suspended, err := flux.Hold(ctx, env.Client, hr, "while applying", &log, func() (flux.Record, error) {
		if !get().Spec.Suspend {
			t.Error("the write ran before the HelmRelease was suspended")
		}
		return flux.ReleaseRecord{Release: installed, Values: installed.Config, Installed: true, StorageNamespace: hr.Namespace, Took: time.Second}, nil
	})
	if err != nil || !suspended {
		t.Fatalf("hold: suspended %v, %v", suspended, err)
	}
	if !strings.Contains(log.String(), "Suspended HelmRelease flux-status-release/app while applying.") {
		t.Errorf("log: %q", log.String())
	}
	got := get()
	st := got.Status
	if !got.Spec.Suspend {
		t.Error("the HelmRelease was handed back: resuming is the caller's choice")
	}
	latest := st.History.Latest()
	if latest == nil || latest.Version != 1 || latest.Status != "deployed" || latest.ChartName != "app" || latest.ChartVersion != "1.0.0" || latest.Action != helmv2.ReleaseActionInstall {
		t.Fatalf("history: %+v", st.History)
	}
	if !strings.HasPrefix(latest.Digest, "sha256:") || !strings.HasPrefix(latest.ConfigDigest, "sha256:") {
		t.Errorf("digests: %q %q", latest.Digest, latest.ConfigDigest)
	}
	for _, kind := range []string{helmv2.ReleasedCondition, "Ready"} {
		c := condition(got, kind)
		if c == nil || c.Status != metav1.ConditionTrue || c.Reason != helmv2.InstallSucceededReason ||
			c.Message != "Helm install succeeded for release flux-status-release/app.v1 with chart app@1.0.0" {
			t.Errorf("%s: %+v", kind, c)
		}
	}
	if st.LastAttemptedReleaseAction != helmv2.ReleaseActionInstall || st.LastAttemptedRevision != "1.0.0" || st.StorageNamespace != hr.Namespace ||
		st.LastAttemptedReleaseActionDuration == nil || st.LastAttemptedReleaseActionDuration.Duration != time.Second {
		t.Errorf("last attempted: %+v", st)
	}
	if st.ObservedGeneration != got.Generation || st.LastAttemptedGeneration != got.Generation {
		t.Errorf("generations: observed %d attempted %d, object %d", st.ObservedGeneration, st.LastAttemptedGeneration, got.Generation)
	}

	// The upgrade: the previous revision re-observed as superseded.
	superseded := release(hr.Namespace, "app", 1, "1.0.0", rcommon.StatusSuperseded)
	upgraded := release(hr.Namespace, "app", 2, "1.1.0", rcommon.StatusDeployed)
	log.Reset()
	suspended, err = flux.Hold(ctx, env.Client, get(), "while applying", &log, func() (flux.Record, error) {
		return flux.ReleaseRecord{Release: upgraded, Superseded: superseded, Values: upgraded.Config, StorageNamespace: hr.Namespace}, nil
	})
	if err != nil || suspended {
		t.Fatalf("an already suspended HelmRelease is not suspended again: %v %v", suspended, err)
	}
	if log.Len() != 0 {
		t.Errorf("log: %q", log.String())
	}
	got = get()
	h := got.Status.History
	if len(h) != 2 || h[0].Version != 2 || h[0].Action != helmv2.ReleaseActionUpgrade || h[1].Version != 1 || h[1].Status != "superseded" || h[1].Action != "" {
		t.Fatalf("history after the upgrade: %+v %+v", h[0], h[1])
	}
	if c := condition(got, "Ready"); c.Reason != helmv2.UpgradeSucceededReason || !strings.Contains(c.Message, "Helm upgrade succeeded for release flux-status-release/app.v2 with chart app@1.1.0") {
		t.Errorf("Ready: %+v", c)
	}

	// A run that lost a race records revision 1 again: the newer record
	// stands, and the loser says so.
	log.Reset()
	_, err = flux.Hold(ctx, env.Client, get(), "", &log, func() (flux.Record, error) {
		return flux.ReleaseRecord{Release: installed, Values: installed.Config, Installed: true}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "revision 1 is not recorded in the HelmRelease status: the HelmRelease already records the newer revision 2 (deployed)") {
		t.Errorf("log: %q", log.String())
	}
	if got := get(); got.Status.History.Latest().Version != 2 {
		t.Errorf("the newer record was overwritten: %+v", got.Status.History)
	}
}

func TestAFailedUpgradeIsRecordedAsHelmControllerRecordsIt(t *testing.T) {
	hr, get := held(t, "flux-status-failure")
	ctx := context.Background()
	deployed := release(hr.Namespace, "app", 1, "1.0.0", rcommon.StatusDeployed)
	if _, err := flux.Hold(ctx, env.Client, hr, "", &bytes.Buffer{}, func() (flux.Record, error) {
		return flux.ReleaseRecord{Release: deployed, Values: deployed.Config, Installed: true}, nil
	}); err != nil {
		t.Fatal(err)
	}
	helmErr := errors.New("cannot patch Deployment app: field is immutable")
	failed := release(hr.Namespace, "app", 2, "2.0.0", rcommon.StatusFailed)
	_, err := flux.Hold(ctx, env.Client, get(), "", &bytes.Buffer{}, func() (flux.Record, error) {
		return flux.ReleaseFailure{ReleaseName: "app", ReleaseNamespace: hr.Namespace, ChartName: "app", ChartVersion: "2.0.0",
			Values: map[string]any{"replicas": 2}, Err: helmErr, Failed: failed, Previous: 1}, helmErr
	})
	if !errors.Is(err, helmErr) {
		t.Fatalf("the write's own error is returned: %v", err)
	}
	got := get()
	st := got.Status
	if st.Failures != 1 || st.UpgradeFailures != 1 || st.InstallFailures != 0 {
		t.Errorf("failures %d, upgrade %d, install %d", st.Failures, st.UpgradeFailures, st.InstallFailures)
	}
	if h := st.History; len(h) != 2 || h[0].Version != 2 || h[0].Status != "failed" || h[1].Version != 1 {
		t.Errorf("history: %+v", h)
	}
	for _, kind := range []string{helmv2.ReleasedCondition, "Ready"} {
		c := condition(got, kind)
		want := "Helm upgrade failed for release flux-status-failure/app with chart app@2.0.0: cannot patch Deployment app: field is immutable"
		if c == nil || c.Status != metav1.ConditionFalse || c.Reason != helmv2.UpgradeFailedReason || c.Message != want {
			t.Errorf("%s: %+v", kind, c)
		}
	}
	if st.LastAttemptedReleaseAction != helmv2.ReleaseActionUpgrade || st.LastAttemptedRevision != "2.0.0" {
		t.Errorf("last attempted %s %s", st.LastAttemptedReleaseAction, st.LastAttemptedRevision)
	}

	// The next success clears the failures.
	fixed := release(hr.Namespace, "app", 3, "2.0.1", rcommon.StatusDeployed)
	if _, err := flux.Hold(ctx, env.Client, get(), "", &bytes.Buffer{}, func() (flux.Record, error) {
		return flux.ReleaseRecord{Release: fixed, Values: fixed.Config}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if st := get().Status; st.Failures != 0 || st.UpgradeFailures != 0 || condition(get(), "Ready").Status != metav1.ConditionTrue {
		t.Errorf("after a success: failures %d, Ready %+v", st.Failures, condition(get(), "Ready"))
	}
}

func TestAnUninstallKeepsTheHelmReleaseAndSaysSo(t *testing.T) {
	hr, get := held(t, "flux-status-uninstall")
	ctx := context.Background()
	deployed := release(hr.Namespace, "app", 1, "1.0.0", rcommon.StatusDeployed)
	if _, err := flux.Hold(ctx, env.Client, hr, "", &bytes.Buffer{}, func() (flux.Record, error) {
		return flux.ReleaseRecord{Release: deployed, Values: deployed.Config, Installed: true,
			Inventory: &helmv2.ResourceInventory{Entries: []helmv2.ResourceRef{{ID: "x_app__ConfigMap", Version: "v1"}}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := get(); got.Status.Inventory == nil || len(got.Status.Inventory.Entries) != 1 {
		t.Fatalf("inventory after install: %+v", got.Status.Inventory)
	}
	if _, err := flux.Hold(ctx, env.Client, get(), "", &bytes.Buffer{}, func() (flux.Record, error) {
		return flux.Uninstall{Message: "uninstalled by a test"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	got := get()
	if got.Status.Inventory != nil || got.Status.History.Latest().Status != "uninstalled" {
		t.Errorf("after uninstall: inventory %+v, history %+v", got.Status.Inventory, got.Status.History)
	}
	if c := condition(got, "Ready"); c.Status != metav1.ConditionFalse || c.Reason != helmv2.UninstallSucceededReason || c.Message != "uninstalled by a test" {
		t.Errorf("Ready: %+v", c)
	}
	// Installed again after the uninstall: revision 1 again is newer than
	// the uninstalled one, so it is recorded.
	again := release(hr.Namespace, "app", 1, "1.0.0", rcommon.StatusDeployed)
	var log bytes.Buffer
	if _, err := flux.Hold(ctx, env.Client, got, "", &log, func() (flux.Record, error) {
		return flux.ReleaseRecord{Release: again, Values: again.Config, Installed: true}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if c := condition(get(), "Ready"); c.Status != metav1.ConditionTrue || log.Len() != 0 {
		t.Errorf("reinstall: Ready %+v, log %q", c, log.String())
	}
}

func TestARollbackIsRecordedAsARemediation(t *testing.T) {
	hr, get := held(t, "flux-status-rollback")
	ctx := context.Background()
	one := release(hr.Namespace, "app", 1, "1.0.0", rcommon.StatusDeployed)
	if _, err := flux.Hold(ctx, env.Client, hr, "", &bytes.Buffer{}, func() (flux.Record, error) {
		return flux.ReleaseRecord{Release: one, Values: one.Config, Installed: true}, nil
	}); err != nil {
		t.Fatal(err)
	}
	two := release(hr.Namespace, "app", 2, "2.0.0", rcommon.StatusDeployed)
	if _, err := flux.Hold(ctx, env.Client, get(), "", &bytes.Buffer{}, func() (flux.Record, error) {
		return flux.ReleaseRecord{Release: two, Superseded: release(hr.Namespace, "app", 1, "1.0.0", rcommon.StatusSuperseded), Values: two.Config}, nil
	}); err != nil {
		t.Fatal(err)
	}
	three := release(hr.Namespace, "app", 3, "1.0.0", rcommon.StatusDeployed)
	rolledFrom := release(hr.Namespace, "app", 2, "2.0.0", rcommon.StatusSuperseded)
	if _, err := flux.Hold(ctx, env.Client, get(), "", &bytes.Buffer{}, func() (flux.Record, error) {
		return flux.Rollback{To: one, Written: []*releasev4.Release{rolledFrom, three}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	got := get()
	c := condition(got, helmv2.RemediatedCondition)
	if c == nil || c.Status != metav1.ConditionTrue || c.Reason != helmv2.RollbackSucceededReason ||
		!strings.Contains(c.Message, "Helm rollback to previous release flux-status-rollback/app.v1 with chart app@1.0.0 succeeded") {
		t.Errorf("Remediated: %+v", c)
	}
	if latest := got.Status.History.Latest(); latest.Version != 3 || latest.Action != helmv2.ReleaseActionRollback {
		t.Errorf("latest: %+v", latest)
	}
	if r := condition(got, "Ready"); r == nil || r.Status != metav1.ConditionFalse {
		t.Errorf("Ready after a rollback: %+v (a rolled-back release is not ready: test/flux/status_test.go shows helm-controller so)", r)
	}
}

func TestAStatusThatCannotBeWrittenIsTheCommandsFailureOnlyWhenItMatters(t *testing.T) {
	testenv.Need(t, env)
	ctx := context.Background()
	// A HelmRelease that does not exist: nothing can be recorded.
	ghost := helmRelease("flux-status-ghost", "app", "")
	ghost.Spec.Suspend = true
	rec := flux.ReleaseRecord{Release: release("flux-status-ghost", "app", 1, "1.0.0", rcommon.StatusDeployed), Installed: true}
	var log bytes.Buffer
	_, err := flux.Hold(ctx, env.Client, ghost, "", &log, func() (flux.Record, error) { return rec, nil })
	if err == nil || !strings.Contains(err.Error(), "record revision 1 in the HelmRelease status") {
		t.Errorf("a release recorded nowhere: %v", err)
	}
	log.Reset()
	_, err = flux.Hold(ctx, env.Client, ghost, "", &log, func() (flux.Record, error) { return flux.Uninstall{Message: "x"}, nil })
	if err != nil || !strings.Contains(log.String(), "Warning: could not record the uninstall in the HelmRelease status") {
		t.Errorf("an optional record: %v, log %q", err, log.String())
	}
	// No record: nothing is written, the write's error stands.
	boom := errors.New("boom")
	if _, err := flux.Hold(ctx, env.Client, ghost, "", &log, func() (flux.Record, error) { return nil, boom }); !errors.Is(err, boom) {
		t.Errorf("no record: %v", err)
	}
}
