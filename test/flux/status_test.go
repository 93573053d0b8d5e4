package flux_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/test/testenv"
)

// TestStatusAfterApplyIsWhatHelmControllerWrites makes the same change to
// two identical releases: helm-controller upgrades one, cozyhr apply the
// other. The HelmRelease statuses (conditions, history and inventory) and
// the objects' field managers must then be the same, field by field, but
// for the namespace each lives in.
func TestStatusAfterApplyIsWhatHelmControllerWrites(t *testing.T) {
	byFlux, fluxKey := installHello(t, "status-by-flux", nil)
	byCozyhr, cozyKey := installHello(t, "status-by-cozyhr", nil)
	_ = byFlux

	const change = `{"message": "the same change", "replicas": 2}`
	// cozyhr's side: suspended first so that helm-controller stays out.
	cozyhr(t, "-C", byCozyhr.Dir, "suspend").expect(t, 0)
	setValues(t, cozyKey, change)
	cozyhr(t, "-C", byCozyhr.Dir, "apply").expect(t, 0)
	setValues(t, fluxKey, change)
	fluxHR := waitReady(t, fluxKey, 2*time.Minute)
	cozyHR := &helmv2.HelmRelease{}
	if err := env.Client.Get(context.Background(), cozyKey, cozyHR); err != nil {
		t.Fatal(err)
	}

	same := comparer(t, fluxKey.Namespace, cozyKey.Namespace)
	fs, cs := fluxHR.Status, cozyHR.Status
	for _, cond := range []string{meta.ReadyCondition, helmv2.ReleasedCondition} {
		f, c := apimeta.FindStatusCondition(fs.Conditions, cond), apimeta.FindStatusCondition(cs.Conditions, cond)
		if f == nil || c == nil {
			t.Errorf("condition %s: helm-controller %v, cozyhr %v", cond, f, c)
			continue
		}
		same(cond+".status", f.Status, c.Status)
		same(cond+".reason", f.Reason, c.Reason)
		same(cond+".message", f.Message, c.Message)
		same(cond+".observedGeneration is current", f.ObservedGeneration == fluxHR.Generation, c.ObservedGeneration == cozyHR.Generation)
	}
	var fcond, ccond []string
	for _, c := range fs.Conditions {
		fcond = append(fcond, c.Type)
	}
	for _, c := range cs.Conditions {
		ccond = append(ccond, c.Type)
	}
	same("condition types", fcond, ccond)

	same("history length", len(fs.History), len(cs.History))
	for i := range min(len(fs.History), len(cs.History)) {
		f, c := fs.History[i], cs.History[i]
		same("history version", f.Version, c.Version)
		same("history status", f.Status, c.Status)
		same("history action", f.Action, c.Action)
		same("history chart", f.ChartName+"@"+f.ChartVersion+" app "+f.AppVersion, c.ChartName+"@"+c.ChartVersion+" app "+c.AppVersion)
		same("history flux.ConfigDigest", f.ConfigDigest, c.ConfigDigest)
		same("history apiVersion", f.APIVersion, c.APIVersion)
		same("history name/namespace", f.Name+"/"+f.Namespace, c.Name+"/"+c.Namespace)
		same("history deleted set", f.Deleted.IsZero(), c.Deleted.IsZero())
	}
	same("inventory", fs.Inventory, cs.Inventory)
	same("lastAttemptedReleaseAction", fs.LastAttemptedReleaseAction, cs.LastAttemptedReleaseAction)
	same("lastAttemptedRevision", fs.LastAttemptedRevision, cs.LastAttemptedRevision)
	same("lastAttemptedConfigDigest", fs.LastAttemptedConfigDigest, cs.LastAttemptedConfigDigest)
	same("storageNamespace", fs.StorageNamespace, cs.StorageNamespace)
	same("failures", []int64{fs.Failures, fs.InstallFailures, fs.UpgradeFailures}, []int64{cs.Failures, cs.InstallFailures, cs.UpgradeFailures})
	same("observedGeneration is current", fs.ObservedGeneration == fluxHR.Generation, cs.ObservedGeneration == cozyHR.Generation)

	for _, name := range []string{"hello-content", "hello"} {
		gvk := configMapGVK
		if name == "hello" {
			gvk.Group, gvk.Kind = "apps", "Deployment"
		}
		same(gvk.Kind+" field managers",
			managers(t, liveObject(t, gvk, fluxKey.Namespace, name)),
			managers(t, liveObject(t, gvk, cozyKey.Namespace, name)))
	}
}

// TestRollbackStatusIsWhatHelmControllerWrites: the same failed upgrade on
// two identical releases; helm-controller remediates one by rolling back,
// cozyhr rollback the other. Conditions, history and failure counts must
// then be the same, field by field.
func TestRollbackStatusIsWhatHelmControllerWrites(t *testing.T) {
	remediate := true
	byFlux, fluxKey := installHello(t, "rollback-by-flux", func(hr *helmv2.HelmRelease) {
		hr.Spec.Upgrade.Remediation = &helmv2.UpgradeRemediation{Retries: 0, RemediateLastFailure: &remediate}
	})
	byCozyhr, cozyKey := installHello(t, "rollback-by-cozyhr", func(hr *helmv2.HelmRelease) {
		hr.Spec.Upgrade.Remediation = &helmv2.UpgradeRemediation{Retries: 0, RemediateLastFailure: &remediate}
	})
	_ = byFlux
	const broken = `{"replicas": "not-a-number"}`
	cozyhr(t, "-C", byCozyhr.Dir, "suspend").expect(t, 0)
	setValues(t, cozyKey, broken)
	cozyhr(t, "-C", byCozyhr.Dir, "apply").expect(t, 1)
	cozyhr(t, "-C", byCozyhr.Dir, "rollback").expect(t, 0)

	setValues(t, fluxKey, broken)
	fluxHR := &helmv2.HelmRelease{}
	err := testenv.WaitFor(context.Background(), 40*time.Second, func(ctx context.Context) (bool, error) {
		if err := env.Client.Get(ctx, fluxKey, fluxHR); err != nil {
			return false, err
		}
		c := apimeta.FindStatusCondition(fluxHR.Status.Conditions, helmv2.RemediatedCondition)
		// helm-controller may say Remediated a status write before its
		// history shows the rollback's revision: wait for both.
		h := fluxHR.Status.History
		return c != nil && c.Status == metav1.ConditionTrue && len(h) > 0 && h[0].Action == helmv2.ReleaseActionRollback, nil
	})
	if err != nil {
		t.Fatalf("helm-controller did not roll back: %v\n%+v", err, fluxHR.Status.Conditions)
	}
	cozyHR := &helmv2.HelmRelease{}
	if err := env.Client.Get(context.Background(), cozyKey, cozyHR); err != nil {
		t.Fatal(err)
	}
	same := comparer(t, fluxKey.Namespace, cozyKey.Namespace)
	fs, cs := fluxHR.Status, cozyHR.Status
	for _, cond := range []string{meta.ReadyCondition, helmv2.ReleasedCondition, helmv2.RemediatedCondition} {
		f, c := apimeta.FindStatusCondition(fs.Conditions, cond), apimeta.FindStatusCondition(cs.Conditions, cond)
		if f == nil || c == nil {
			t.Errorf("condition %s: helm-controller %v, cozyhr %v", cond, f, c)
			continue
		}
		same(cond+".status", f.Status, c.Status)
		same(cond+".reason", f.Reason, c.Reason)
		// Helm's own error text differs by request; compare its start.
		fm, cm := f.Message, c.Message
		if cond == helmv2.ReleasedCondition {
			fm, cm = firstWords(fm, 4), firstWords(cm, 4)
		}
		same(cond+".message", fm, cm)
	}
	history := func(h helmv2.Snapshots) string {
		var out []string
		for _, s := range h {
			out = append(out, fmt.Sprintf("v%d %s %s %s", s.Version, s.Status, s.Action, s.ConfigDigest))
		}
		return strings.Join(out, "\n")
	}
	same("history", history(fs.History), history(cs.History))
	same("failures", []int64{fs.Failures, fs.UpgradeFailures}, []int64{cs.Failures, cs.UpgradeFailures})
	same("lastAttemptedReleaseAction", fs.LastAttemptedReleaseAction, cs.LastAttemptedReleaseAction)
	if rel := storedRelease(t, cozyKey.Namespace, "hello"); rel.ApplyMethod != storedRelease(t, fluxKey.Namespace, "hello").ApplyMethod {
		t.Errorf("rollback apply method %q differs from helm-controller's", rel.ApplyMethod)
	}
}

func firstWords(s string, n int) string {
	f := strings.Fields(s)
	if len(f) > n {
		f = f[:n]
	}
	return strings.Join(f, " ")
}

// comparer compares a field of helm-controller's result with cozyhr's,
// each release's namespace read as NS.
func comparer(t *testing.T, fluxNS, cozyNS string) func(field string, flux, cozy any) {
	return func(field string, flux, cozy any) {
		t.Helper()
		f, c := strings.ReplaceAll(toString(flux), fluxNS, "NS"), strings.ReplaceAll(toString(cozy), cozyNS, "NS")
		if f != c {
			t.Errorf("%s differs:\nhelm-controller: %s\ncozyhr:          %s", field, f, c)
		}
	}
}
