package flux_test

import (
	"context"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
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

	setValues := func(key client.ObjectKey) {
		hr := &helmv2.HelmRelease{}
		if err := env.Client.Get(context.Background(), key, hr); err != nil {
			t.Fatal(err)
		}
		patch := client.MergeFrom(hr.DeepCopy())
		hr.Spec.Values = jsonValues(t, `{"message": "the same change", "replicas": 2}`)
		if err := env.Client.Patch(context.Background(), hr, patch); err != nil {
			t.Fatal(err)
		}
	}
	// cozyhr's side: suspended first so that helm-controller stays out.
	cozyhr(t, "-C", byCozyhr.Dir, "suspend").expect(t, 0)
	setValues(cozyKey)
	cozyhr(t, "-C", byCozyhr.Dir, "apply").expect(t, 0)
	setValues(fluxKey)
	fluxHR := waitReady(t, fluxKey, 2*time.Minute)
	cozyHR := &helmv2.HelmRelease{}
	if err := env.Client.Get(context.Background(), cozyKey, cozyHR); err != nil {
		t.Fatal(err)
	}

	same := func(field string, flux, cozy any) {
		t.Helper()
		f, c := strings.ReplaceAll(toString(flux), fluxKey.Namespace, "NS"), strings.ReplaceAll(toString(cozy), cozyKey.Namespace, "NS")
		if f != c {
			t.Errorf("%s differs:\nhelm-controller: %s\ncozyhr:          %s", field, f, c)
		}
	}
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
		same("history configDigest", f.ConfigDigest, c.ConfigDigest)
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
