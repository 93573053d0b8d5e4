package cmd

import (
	"context"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// createHelmRelease makes the HelmRelease a chart stands for, as Flux users
// keep it in Git, with spec.values.
func createHelmRelease(t *testing.T, ns, name, values string) *helmv2.HelmRelease {
	t.Helper()
	ctx := context.Background()
	if err := env.CreateNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	hr := &helmv2.HelmRelease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: helmv2.HelmReleaseSpec{
			Interval: metav1.Duration{Duration: 5 * time.Minute},
			Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{
				Chart:     "hello",
				SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "charts"},
			}},
			Values: &apiextensionsv1.JSON{Raw: []byte(values)},
		},
	}
	if err := env.Client.Create(ctx, hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

func getHelmRelease(t *testing.T, ns, name string) *helmv2.HelmRelease {
	t.Helper()
	hr := &helmv2.HelmRelease{}
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, hr); err != nil {
		t.Fatal(err)
	}
	return hr
}

func TestShowUsesHelmReleaseValuesAndOriginLabels(t *testing.T) {
	dir := chartCopy(t, "flux-show")
	createHelmRelease(t, "flux-show", "hello", `{"replicas":2,"message":"from the HelmRelease"}`)
	r := cozyhr(t, "-C", dir, "show", "-s", "templates/deployment.yaml", "-s", "templates/configmap.yaml").expect(t, 0)
	golden(t, "flux-show", r.out)

	// -f and --set still win over the HelmRelease.
	r = cozyhr(t, "-C", dir, "show", "-s", "templates/deployment.yaml", "--set", "replicas=4").expect(t, 0)
	if !strings.Contains(r.out, "replicas: 4") {
		t.Errorf("--set did not override the HelmRelease values:\n%s", r.out)
	}
}

func TestApplySuspendsTheHelmReleaseAndResumeHandsItBack(t *testing.T) {
	dir := chartCopy(t, "flux-apply")
	createHelmRelease(t, "flux-apply", "hello", `{"replicas":2}`)

	r := cozyhr(t, "-C", dir, "apply").expect(t, 0)
	golden(t, "flux-apply", r.err)
	hr := getHelmRelease(t, "flux-apply", "hello")
	if !hr.Spec.Suspend {
		t.Fatal("apply did not suspend the HelmRelease")
	}
	managers := map[string]bool{}
	for _, mf := range hr.ManagedFields {
		managers[mf.Manager] = true
	}
	if !managers["flux-client-side-apply"] {
		t.Errorf("suspend was not written by field manager flux-client-side-apply: %v", managers)
	}

	var dep appsv1.Deployment
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: "flux-apply", Name: "hello"}, &dep); err != nil {
		t.Fatal(err)
	}
	if dep.Labels["helm.toolkit.fluxcd.io/name"] != "hello" || dep.Labels["helm.toolkit.fluxcd.io/namespace"] != "flux-apply" {
		t.Errorf("applied objects lack Flux origin labels: %v", dep.Labels)
	}
	if _, ok := dep.Spec.Selector.MatchLabels["helm.toolkit.fluxcd.io/name"]; ok {
		t.Errorf("origin labels leaked into the selector: %v", dep.Spec.Selector.MatchLabels)
	}
	if *dep.Spec.Replicas != 2 {
		t.Errorf("HelmRelease values not applied: replicas %d", *dep.Spec.Replicas)
	}

	cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 0)

	r = cozyhr(t, "-C", dir, "apply", "--resume").expect(t, 0)
	golden(t, "flux-apply-resume", r.err)
	if getHelmRelease(t, "flux-apply", "hello").Spec.Suspend {
		t.Fatal("--resume left the HelmRelease suspended")
	}

	cozyhr(t, "-C", dir, "suspend").expect(t, 0)
	if !getHelmRelease(t, "flux-apply", "hello").Spec.Suspend {
		t.Fatal("suspend did not suspend")
	}
	r = cozyhr(t, "-C", dir, "resume").expect(t, 0)
	golden(t, "flux-resume", r.err)
}

func TestFailedApplySaysTheHelmReleaseIsSuspended(t *testing.T) {
	dir := chartCopy(t, "flux-fail")
	createHelmRelease(t, "flux-fail", "hello", `{}`)
	// An invalid object makes the API server reject the install.
	r := cozyhr(t, "-C", dir, "apply", "--set", "replicas=-1").expect(t, 1)
	if !strings.Contains(r.err, "HelmRelease flux-fail/hello is still suspended") || !strings.Contains(r.err, "cozyhr resume") {
		t.Fatalf("failed apply did not explain the suspended HelmRelease:\n%s", r.err)
	}
	st := getHelmRelease(t, "flux-fail", "hello").Status
	ready := apimeta.FindStatusCondition(st.Conditions, "Ready")
	if ready == nil || ready.Status != metav1.ConditionFalse || ready.Reason != helmv2.InstallFailedReason || !strings.Contains(ready.Message, "must be greater than or equal to 0") || st.Failures != 1 || st.InstallFailures != 1 {
		t.Fatalf("failed install not recorded as helm-controller does: %+v", st)
	}
	// The next run repairs: the failed release is upgraded.
	r = cozyhr(t, "-C", dir, "apply").expect(t, 0)
	if !strings.Contains(r.err, "revision 2, deployed") {
		t.Fatalf("second apply did not repair the failed release:\n%s", r.err)
	}
}

// When Flux adopts a release installed by plain Helm, the only changes are
// its two origin labels on every object, plus whatever value changed: the
// diff must list exactly those fields and nothing else.
func TestDiffWhenFluxAdoptsAPlainRelease(t *testing.T) {
	dir := chartCopy(t, "flux-adopt")
	writeFile(t, dir+"/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: hello, namespace: flux-adopt}\n")
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	createHelmRelease(t, "flux-adopt", "hello", `{"replicas":2}`)
	r := cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 2)
	golden(t, "diff-flux-adoption", r.out)
	// The same change on several objects is printed once; --no-group shows each.
	r = cozyhr(t, "-C", dir, "diff", "--no-group").expect(t, 0)
	golden(t, "diff-flux-adoption-no-group", r.out)
}
