package flux_test

import (
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/test/testenv"
)

// fleetReport is what diff --instances -o json says of each instance.
type fleetReport struct {
	Instances []struct {
		Name       string
		Prediction map[string]string
	}
}

// fleetDiff runs diff --instances -o json on the chart's instances in ns.
func fleetDiff(t *testing.T, dir, ns string) (fleetReport, string) {
	t.Helper()
	r := cozyhr(t, "-C", dir, "-n", ns, "diff", "--instances", "-o", "json").expect(t, 0)
	var rep fleetReport
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, r.out)
	}
	return rep, r.out
}

// prediction is the prediction for the chart's one instance in ns.
func prediction(t *testing.T, dir, ns string) map[string]string {
	t.Helper()
	rep, out := fleetDiff(t, dir, ns)
	if len(rep.Instances) != 1 {
		t.Fatalf("instances:\n%s", out)
	}
	return rep.Instances[0].Prediction
}

// bumpVersion makes the chart in dir version 0.2.0 (from 0.1.0).
func bumpVersion(t *testing.T, dir string) {
	t.Helper()
	path := filepath.Join(dir, "Chart.yaml")
	writeFile(t, path, strings.Replace(readFileT(t, path), "version: 0.1.0", "version: 0.2.0", 1))
}

// deployedAt says the HelmRelease's latest release is deployed at version.
func deployedAt(version string) func(hr *helmv2.HelmRelease) bool {
	return func(hr *helmv2.HelmRelease) bool {
		l := hr.Status.History.Latest()
		return l != nil && l.ChartVersion == version && l.Status == "deployed"
	}
}

// bumpWithNewSelector changes hello's Deployment selector, a field the
// API server refuses to change, and publishes it as 0.2.0.
func bumpWithNewSelector(t *testing.T, c *fluxChart) {
	t.Helper()
	path := filepath.Join(c.Dir, "templates", "deployment.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, strings.ReplaceAll(string(data), "app.kubernetes.io/instance: {{ .Release.Name }}", "app.kubernetes.io/instance: {{ .Release.Name }}-v2"))
	bumpVersion(t, c.Dir)
}

// helmControllerDid waits until the HelmRelease's status says what
// helm-controller did with the failed upgrade, and returns it.
func helmControllerDid(t *testing.T, key client.ObjectKey, done func(hr *helmv2.HelmRelease) bool) *helmv2.HelmRelease {
	t.Helper()
	var hr helmv2.HelmRelease
	err := testenv.WaitFor(context.Background(), 3*time.Minute, func(ctx context.Context) (bool, error) {
		if err := env.Client.Get(context.Background(), key, &hr); err != nil {
			return false, err
		}
		return done(&hr), nil
	})
	if err != nil {
		t.Fatalf("helm-controller: %v; status %+v", err, hr.Status.Conditions)
	}
	return &hr
}

// An immutable selector change, by default (no remediation retries): the
// prediction says the upgrade fails and nothing rolls it back; then
// helm-controller's upgrade fails and it stalls without a rollback.
func TestPredictedUpgradeFailureWithoutRemediation(t *testing.T) {
	c, key := installHello(t, "predict-stall", func(hr *helmv2.HelmRelease) { hr.Spec.Chart.Spec.Version = "*" })
	bumpWithNewSelector(t, c)
	p := prediction(t, c.Dir, c.Namespace)
	if p["action"] != "upgrade" || !strings.Contains(p["fails"], "spec.selector is immutable") || !strings.Contains(p["then"], "no retry and no rollback") || p["applyMethod"] != "server-side apply" {
		t.Fatalf("prediction %v", p)
	}
	c.publish(t)
	cozyhr(t, "-C", c.Dir, "reconcile", "--with-source", "--timeout", "2m")
	hr := helmControllerDid(t, key, func(hr *helmv2.HelmRelease) bool {
		return apimeta.IsStatusConditionTrue(hr.Status.Conditions, meta.StalledCondition)
	})
	if hr.Status.UpgradeFailures < 1 || apimeta.FindStatusCondition(hr.Status.Conditions, helmv2.RemediatedCondition) != nil {
		t.Errorf("helm-controller did not do as predicted: upgrade failures %d, conditions %+v", hr.Status.UpgradeFailures, hr.Status.Conditions)
	}
	if latest := hr.Status.History.Latest(); latest == nil || latest.Status != "failed" || latest.ChartVersion != "0.2.0" {
		t.Errorf("the release should stay failed at 0.2.0: %+v", latest)
	}
}

// The same change with upgrade.remediation.retries 1: the prediction says
// rollback and retry; helm-controller rolls back.
func TestPredictedUpgradeFailureWithRollback(t *testing.T) {
	c, key := installHello(t, "predict-rollback", func(hr *helmv2.HelmRelease) {
		hr.Spec.Chart.Spec.Version = "*"
		hr.Spec.Upgrade.Remediation = &helmv2.UpgradeRemediation{Retries: 1}
	})
	bumpWithNewSelector(t, c)
	p := prediction(t, c.Dir, c.Namespace)
	if p["action"] != "upgrade" || !strings.Contains(p["then"], "rollback and retry, 1 time(s)") {
		t.Fatalf("prediction %v", p)
	}
	c.publish(t)
	cozyhr(t, "-C", c.Dir, "reconcile", "--with-source", "--timeout", "2m")
	hr := helmControllerDid(t, key, func(hr *helmv2.HelmRelease) bool {
		r := apimeta.FindStatusCondition(hr.Status.Conditions, helmv2.RemediatedCondition)
		return r != nil && r.Reason == helmv2.RollbackSucceededReason
	})
	if hr.Status.UpgradeFailures < 1 {
		t.Errorf("upgrade failures %d", hr.Status.UpgradeFailures)
	}
}

// crdChart writes a chart whose crds/ holds a CRD of its own, group
// group, and a ConfigMap; the CRD's schema has the property prop.
func crdChart(t *testing.T, group, prop string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "gadget")
	writeFile(t, filepath.Join(dir, "Chart.yaml"), "apiVersion: v2\nname: gadget\nversion: 0.1.0\n")
	writeFile(t, filepath.Join(dir, "templates", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gadget\ndata:\n  k: v\n")
	writeFile(t, filepath.Join(dir, "crds", "gadgets.yaml"), `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.`+group+`
spec:
  group: `+group+`
  names: {kind: Gadget, listKind: GadgetList, plural: gadgets, singular: gadget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              `+prop+`: {type: string}
`)
	return dir
}

// A CRD changed in crds/: under the default upgrade.crds (Create, in
// helm-controller v1.6) and server-side apply the prediction says it is
// applied, and it is; under Skip it says not applied, and helm-controller
// leaves the live CRD as it was; under CreateReplace replaced, and it is.
func TestPredictedCRDPolicies(t *testing.T) {
	for _, tc := range []struct {
		ns      string
		policy  helmv2.CRDsPolicy
		predict string
		applied bool
	}{
		{"predict-crd-default", "", "applied: upgrade.crds is Create (the default), which under server-side apply updates existing CRDs too", true},
		{"predict-crd-skip", helmv2.Skip, "not applied: upgrade.crds is Skip", false},
		{"predict-crd-replace", helmv2.CreateReplace, "created or replaced (upgrade.crds CreateReplace)", true},
	} {
		t.Run(string(cmp.Or(tc.policy, "default")), func(t *testing.T) {
			group := tc.ns + ".cozyhr.io"
			c := &fluxChart{Name: "gadget", Namespace: tc.ns, Dir: crdChart(t, group, "size"), repo: newRepo(t)}
			c.publish(t)
			createNamespace(t, tc.ns)
			hr := c.helmRelease(t, func(hr *helmv2.HelmRelease) {
				hr.Spec.Chart.Spec.Version = "*"
				hr.Spec.Upgrade.CRDs = tc.policy
			})
			key := client.ObjectKeyFromObject(hr)
			t.Cleanup(func() {
				deleteAndWait(t, key)
				env.Client.Delete(context.Background(), &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "gadgets." + group}})
			})
			waitReady(t, key, 2*time.Minute)
			writeFile(t, filepath.Join(c.Dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: gadget, namespace: "+tc.ns+"}\nhelmRelease: {name: gadget}\n")

			// 0.2.0 adds a property to the CRD and a key to the ConfigMap.
			next := crdChart(t, group, "color")
			writeFile(t, filepath.Join(c.Dir, "crds", "gadgets.yaml"), readFileT(t, filepath.Join(next, "crds", "gadgets.yaml")))
			writeFile(t, filepath.Join(c.Dir, "templates", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: gadget\ndata:\n  k: v2\n")
			writeFile(t, filepath.Join(c.Dir, "Chart.yaml"), "apiVersion: v2\nname: gadget\nversion: 0.2.0\n")
			p := prediction(t, c.Dir, c.Namespace)
			if p["action"] != "upgrade" || !strings.Contains(p["crds"], tc.predict) {
				t.Fatalf("prediction %v, want crds %q", p, tc.predict)
			}
			c.publish(t)
			cozyhr(t, "-C", c.Dir, "reconcile", "--with-source", "--timeout", "2m").expect(t, 0)
			helmControllerDid(t, key, deployedAt("0.2.0"))
			crd := &apiextensionsv1.CustomResourceDefinition{}
			if err := env.Client.Get(context.Background(), client.ObjectKey{Name: "gadgets." + group}, crd); err != nil {
				t.Fatal(err)
			}
			_, has := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["color"]
			if has != tc.applied {
				t.Errorf("helm-controller applied the CRD change: %v, predicted %v", has, tc.applied)
			}
		})
	}
}

func readFileT(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// A suspended HelmRelease and one whose dependsOn is not ready: the
// prediction says neither is reconciled; then, with a new chart version
// published and a reconcile requested of every one, helm-controller
// upgrades a third (the witness, which shows it handled the requests) and
// leaves those two as they were.
func TestPredictedNotReconciled(t *testing.T) {
	const version = "*"
	witness, witnessKey := installHello(t, "predict-witness", func(hr *helmv2.HelmRelease) { hr.Spec.Chart.Spec.Version = version })
	sleeper, sleeperKey := installHello(t, "predict-suspended", func(hr *helmv2.HelmRelease) { hr.Spec.Chart.Spec.Version = version })
	cozyhr(t, "-C", sleeper.Dir, "suspend").expect(t, 0)
	waiting := newFluxChart(t, helloChart, "hello", "predict-depends")
	waiting.repo = witness.repo // the same chart versions as the witness
	hr := waiting.helmRelease(t, func(hr *helmv2.HelmRelease) {
		hr.Spec.Chart.Spec.Version = version
		hr.Spec.DependsOn = []helmv2.DependencyReference{{Name: "never-there"}}
	})
	waitingKey := client.ObjectKeyFromObject(hr)
	t.Cleanup(func() { deleteAndWait(t, waitingKey) })
	helmControllerDid(t, waitingKey, func(hr *helmv2.HelmRelease) bool {
		c := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition)
		return c != nil && c.Reason == "DependencyNotReady"
	})

	// 0.2.0: one more key in the ConfigMap, for all three.
	for _, c := range []*fluxChart{witness, sleeper, waiting} {
		changeTemplate(t, c)
		bumpVersion(t, c.Dir)
	}
	for _, tc := range []struct {
		c    *fluxChart
		want string
	}{{sleeper, "the HelmRelease is suspended"}, {waiting, "a dependsOn is not ready"}} {
		r := cozyhr(t, "-C", tc.c.Dir, "-n", tc.c.Namespace, "diff", "--instances", "-o", "json").expect(t, 0)
		if !strings.Contains(r.out, `"action": "not-reconciled"`) || !strings.Contains(r.out, tc.want) {
			t.Errorf("%s: prediction:\n%s", tc.c.Namespace, r.out)
		}
	}
	witness.publish(t)
	sleeper.publish(t)
	cozyhr(t, "-C", witness.Dir, "reconcile", "--with-source", "--timeout", "2m").expect(t, 0)
	requestReconcileAsync(t, sleeperKey)
	requestReconcileAsync(t, waitingKey)
	requestReconcile(t, witnessKey)
	helmControllerDid(t, witnessKey, func(hr *helmv2.HelmRelease) bool {
		l := hr.Status.History.Latest()
		return l != nil && l.ChartVersion == "0.2.0"
	})
	// The waiting one is reconciled (and refused) on each request: wait
	// for that, so that its state is the one after this request.
	helmControllerDid(t, waitingKey, func(hr *helmv2.HelmRelease) bool {
		return hr.Status.LastHandledReconcileAt != "" && hr.Annotations[meta.ReconcileRequestAnnotation] == hr.Status.LastHandledReconcileAt
	})
	for key, want := range map[client.ObjectKey]string{sleeperKey: "0.1.0", waitingKey: ""} {
		var got helmv2.HelmRelease
		if err := env.Client.Get(context.Background(), key, &got); err != nil {
			t.Fatal(err)
		}
		version := ""
		if l := got.Status.History.Latest(); l != nil {
			version = l.ChartVersion
		}
		if version != want {
			t.Errorf("%s: helm-controller made it %q, predicted not reconciled (%q)", key, version, want)
		}
	}
}

// requestReconcileAsync asks helm-controller to reconcile, as flux
// reconcile does, without waiting; it returns the request's token.
func requestReconcileAsync(t *testing.T, key client.ObjectKey) string {
	t.Helper()
	hr := &helmv2.HelmRelease{}
	if err := env.Client.Get(context.Background(), key, hr); err != nil {
		t.Fatal(err)
	}
	patch := client.MergeFrom(hr.DeepCopy())
	if hr.Annotations == nil {
		hr.Annotations = map[string]string{}
	}
	token := time.Now().Format(time.RFC3339Nano)
	hr.Annotations[meta.ReconcileRequestAnnotation] = token
	if err := env.Client.Patch(context.Background(), hr, patch); err != nil {
		t.Fatal(err)
	}
	return token
}
