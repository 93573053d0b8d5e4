package flux_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/fluxcd/pkg/apis/meta"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// A ConfigMap leaves release a for release b in one chart version. The
// fleet diff flags the move on both (object-moves) and predicts that b
// takes it over. Then helm-controller upgrades b first: b takes the
// object; then a: a's upgrade deletes it, b's or not.
func TestPredictedObjectMoveBetweenReleases(t *testing.T) {
	const ns = "predict-move"
	shared := func(owner string) string {
		return "{{- if eq .Release.Name \"" + owner + "\" }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  k: v\n{{- end }}\n"
	}
	a := newFluxChart(t, helloChart, "a", ns)
	writeFile(t, filepath.Join(a.Dir, "templates", "shared.yaml"), shared("a"))
	a.publish(t)
	b := &fluxChart{Name: "b", Namespace: ns, Dir: filepath.Join(t.TempDir(), "hello"), repo: a.repo}
	if err := os.CopyFS(b.Dir, os.DirFS(a.Dir)); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(b.Dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: b, namespace: "+ns+"}\nhelmRelease: {name: b}\n")
	var keys []client.ObjectKey
	for _, c := range []*fluxChart{a, b} {
		hr := c.helmRelease(t, func(hr *helmv2.HelmRelease) { hr.Spec.Chart.Spec.Version = "*" })
		key := client.ObjectKeyFromObject(hr)
		keys = append(keys, key)
		t.Cleanup(func() { deleteAndWait(t, key) })
		waitReady(t, key, 2*time.Minute)
	}
	aKey, bKey := keys[0], keys[1]

	for _, dir := range []string{a.Dir, b.Dir} {
		writeFile(t, filepath.Join(dir, "templates", "shared.yaml"), shared("b"))
		bumpVersion(t, dir)
	}
	rep, out := fleetDiff(t, a.Dir, ns)
	if len(rep.Instances) != 2 || strings.Count(out, `"rule": "object-moves"`) < 2 {
		t.Fatalf("the move is not flagged on both releases:\n%s", out)
	}
	for _, in := range rep.Instances {
		if in.Name == "b" && !strings.Contains(in.Prediction["takes"], "ConfigMap "+ns+"/shared (release a in "+ns+")") {
			t.Errorf("b's prediction does not say it takes shared from a: %v", in.Prediction)
		}
	}

	md := cozyhr(t, "-C", a.Dir, "-n", ns, "diff", "--instances", "-o", "markdown").expect(t, 0)
	if !strings.Contains(md.out, "| flagged | helm-controller |") || !strings.Contains(md.out, "| upgrade, takes over objects |") {
		t.Errorf("the Markdown report has no helm-controller column saying b takes over objects:\n%s", md.out)
	}

	cozyhr(t, "-C", a.Dir, "suspend").expect(t, 0)
	a.publish(t)
	cozyhr(t, "-C", b.Dir, "reconcile", "--with-source", "--timeout", "2m").expect(t, 0)
	helmControllerDid(t, bKey, deployedAt("0.2.0"))
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shared"}, cm); err != nil || cm.Annotations["meta.helm.sh/release-name"] != "b" {
		t.Fatalf("helm-controller did not give shared to b: %v, %v", err, cm.Annotations)
	}
	cozyhr(t, "-C", a.Dir, "resume").expect(t, 0)
	cozyhr(t, "-C", a.Dir, "reconcile", "--with-source", "--timeout", "2m").expect(t, 0)
	helmControllerDid(t, aKey, deployedAt("0.2.0"))
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "shared"}, &corev1.ConfigMap{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("a's upgrade left b's shared in place (%v); predicted deleted", err)
	}
}

// An install whose ConfigMap another release owns, with
// install.disableTakeOwnership: the prediction says Helm refuses it before
// it stores a release, so there is nothing to uninstall and no failure
// counted: helm-controller tries again without end. Then helm-controller's
// install fails, stores nothing, counts nothing and does not stall.
func TestPredictedInstallRefusedForOwnership(t *testing.T) {
	const ns = "predict-install-owned"
	c := newFluxChart(t, helloChart, "hello", ns)
	taken := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "hello-content", Namespace: ns,
		Labels:      map[string]string{"app.kubernetes.io/managed-by": "Helm"},
		Annotations: map[string]string{"meta.helm.sh/release-name": "other", "meta.helm.sh/release-namespace": ns}}}
	if err := env.Client.Create(context.Background(), taken); err != nil {
		t.Fatal(err)
	}
	key := pendingInstall(t, c, func(hr *helmv2.HelmRelease) {
		hr.Spec.Install.DisableTakeOwnership = true
		hr.Spec.Install.Remediation = &helmv2.InstallRemediation{Retries: 1}
	})
	p := prediction(t, c.Dir, ns)
	if p["action"] != "install" || !strings.Contains(p["fails"], "Helm refuses ConfigMap "+ns+"/hello-content (release other in "+ns+")") || !strings.Contains(p["then"], "nothing to uninstall") {
		t.Fatalf("prediction %v", p)
	}
	c.publish(t)
	cozyhr(t, "-C", c.Dir, "reconcile", "--with-source", "--timeout", "2m")
	got := helmControllerDid(t, key, func(hr *helmv2.HelmRelease) bool {
		c := apimeta.FindStatusCondition(hr.Status.Conditions, meta.ReadyCondition)
		return c != nil && c.Reason == helmv2.InstallFailedReason && strings.Contains(c.Message, "invalid ownership metadata")
	})
	if got.Status.History.Latest() != nil || got.Status.InstallFailures != 0 || apimeta.IsStatusConditionTrue(got.Status.Conditions, meta.StalledCondition) ||
		apimeta.FindStatusCondition(got.Status.Conditions, helmv2.RemediatedCondition) != nil {
		t.Errorf("helm-controller stored, counted, remediated or stalled: history %+v, failures %d, conditions %+v", got.Status.History, got.Status.InstallFailures, got.Status.Conditions)
	}
}

// An install that takes over a live Deployment (no release's) whose
// selector differs: the prediction says the API server refuses it, and
// the remediation uninstalls, deleting the Deployment it took over, then
// installs again. helm-controller does just that: the Deployment that was
// there is gone, and the retry installs the chart's own.
func TestPredictedInstallRemediationUninstalls(t *testing.T) {
	const ns = "predict-install-remediation"
	c := newFluxChart(t, helloChart, "hello", ns)
	squatter := map[string]string{"app": "squatter"}
	there := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: ns}, Spec: appsv1.DeploymentSpec{
		Selector: &metav1.LabelSelector{MatchLabels: squatter},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: squatter},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}}},
	}}
	if err := env.Client.Create(context.Background(), there); err != nil {
		t.Fatal(err)
	}
	key := pendingInstall(t, c, func(hr *helmv2.HelmRelease) {
		hr.Spec.Install.Remediation = &helmv2.InstallRemediation{Retries: 1}
	})
	p := prediction(t, c.Dir, ns)
	if p["action"] != "install" || !strings.Contains(p["fails"], "spec.selector is immutable") ||
		!strings.Contains(p["then"], "uninstall (which deletes what the install took over: Deployment "+ns+"/hello (no release's)") {
		t.Fatalf("prediction %v", p)
	}
	c.publish(t)
	cozyhr(t, "-C", c.Dir, "reconcile", "--with-source", "--timeout", "2m")
	got := helmControllerDid(t, key, deployedAt("0.2.0"))
	now := &appsv1.Deployment{}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(there), now); err != nil {
		t.Fatal(err)
	}
	if now.UID == there.UID || now.Spec.Selector.MatchLabels["app"] == "squatter" {
		t.Errorf("the Deployment that was there survived: uid %s (was %s), selector %v", now.UID, there.UID, now.Spec.Selector)
	}
	t.Logf("install failures %d, conditions %+v", got.Status.InstallFailures, got.Status.Conditions)
}

// pendingInstall creates the chart's HelmRelease for version 0.2.0, not
// published yet: helm-controller waits for it, and cozyhr predicts the
// install of the chart directory, bumped to 0.2.0.
func pendingInstall(t *testing.T, c *fluxChart, mutate func(hr *helmv2.HelmRelease)) client.ObjectKey {
	t.Helper()
	hr := c.helmRelease(t, func(hr *helmv2.HelmRelease) {
		hr.Spec.Chart.Spec.Version = "0.2.0"
		mutate(hr)
	})
	key := client.ObjectKeyFromObject(hr)
	t.Cleanup(func() { deleteAndWait(t, key) })
	bumpVersion(t, c.Dir)
	return key
}
