package cmd

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func create(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

func TestValuesComposedAsHelmControllerDoes(t *testing.T) {
	const ns = "flux-values"
	dir := chartCopy(t, ns)
	hr := createHelmRelease(t, ns, "hello", `{"message":"from spec.values","replicas":2}`)
	create(t,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "base"}, Data: map[string]string{"values.yaml": "replicas: 1\nimage: {tag: \"1.26\"}\nmessage: from the ConfigMap\n"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "creds"}, Data: map[string][]byte{"auth.yaml": []byte("auth: {password: from-secret}\n"), "token": []byte("tok-123")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sizes"}, Data: map[string]string{"size": "large", "quoted": `"007"`}},
	)
	hr.Spec.ValuesFrom = []helmv2.ValuesReference{
		{Kind: "ConfigMap", Name: "base"},
		{Kind: "Secret", Name: "creds", ValuesKey: "auth.yaml"},
		{Kind: "Secret", Name: "creds", ValuesKey: "token", TargetPath: "extra.token"},
		{Kind: "ConfigMap", Name: "sizes", ValuesKey: "size", TargetPath: "widget.size"},
		{Kind: "ConfigMap", Name: "sizes", ValuesKey: "quoted", TargetPath: "extra.code"},
		{Kind: "ConfigMap", Name: "absent", Optional: true},
		{Kind: "ConfigMap", Name: "sizes", ValuesKey: "absent-key", Optional: true},
	}
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	r := cozyhr(t, "-C", dir, "values", "--set", "replicas=3").expect(t, 0)
	golden(t, "flux-values", r.out)
	if strings.Contains(r.out, "from-secret") || strings.Contains(r.out, "tok-123") {
		t.Errorf("values printed Secret-sourced data without --show-secrets")
	}
	r = cozyhr(t, "-C", dir, "values", "--all").expect(t, 0)
	golden(t, "flux-values-all", r.out)

	r = cozyhr(t, "-C", dir, "values", "--show-secrets").expect(t, 0)
	if !strings.Contains(r.out, "from-secret") || !strings.Contains(r.out, "tok-123") {
		t.Errorf("--show-secrets hid Secret values:\n%s", r.out)
	}

	// A missing reference that is not optional is an error naming it.
	hr = getHelmRelease(t, ns, "hello")
	hr.Spec.ValuesFrom = append(hr.Spec.ValuesFrom, helmv2.ValuesReference{Kind: "Secret", Name: "missing"}, helmv2.ValuesReference{Kind: "ConfigMap", Name: "sizes", ValuesKey: "nope"})
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	r = cozyhr(t, "-C", dir, "values").expect(t, 1)
	golden(t, "flux-values-missing", r.err)
}

func TestReleaseNamingFollowsTheHelmRelease(t *testing.T) {
	const ns = "flux-naming"
	dir := chartCopy(t, ns)
	writeFile(t, filepath.Join(dir, "templates", "release.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: release\ndata:\n  name: {{ .Release.Name }}\n  namespace: {{ .Release.Namespace }}\n")
	hr := createHelmRelease(t, ns, "hello", `{}`)
	// [targetNamespace-]name is 60 characters: helm-controller shortens it.
	hr.Spec.TargetNamespace = "apps-with-a-rather-long-target-namespace-name-for-tests"
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	r := cozyhr(t, "-C", dir, "show", "-s", "templates/release.yaml").expect(t, 0)
	golden(t, "flux-naming-shortened", r.out+r.err)
	// Named by the HelmRelease (NAME), the release helm-controller makes of
	// it is no surprise: said only where .cozyhr.yaml named another.
	named := cozyhr(t, "-C", dir, "-n", ns, "show", "hello", "-s", "templates/release.yaml").expect(t, 0)
	if strings.Contains(named.err, "manages release") || named.out != r.out {
		t.Errorf("NAME given:\n%s%s", named.out, named.err)
	}

	hr = getHelmRelease(t, ns, "hello")
	hr.Spec.ReleaseName = "custom"
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	r = cozyhr(t, "-C", dir, "show", "-s", "templates/release.yaml").expect(t, 0)
	golden(t, "flux-naming-release-name", r.out)
}

var ageColumn = regexp.MustCompile(`\b\d+(s|m\d*s?|h\d*m?)\b *`)

func TestGetAndList(t *testing.T) {
	const ns = "flux-get"
	dir := chartCopy(t, ns)
	hr := createHelmRelease(t, ns, "hello", `{}`)
	hr.Labels = map[string]string{"team": "a"}
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	createHelmRelease(t, ns, "other", `{}`)
	hr = getHelmRelease(t, ns, "hello")
	hr.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "UpgradeSucceeded", Message: "Helm upgrade succeeded", LastTransitionTime: metav1.Now()}}
	hr.Status.LastAttemptedRevision = "0.1.0"
	if err := env.Client.Status().Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
	}{
		{"get-table", []string{"-C", dir, "get"}},
		{"get-wide", []string{"-n", ns, "get", "hello", "-o", "wide"}},
		{"get-name", []string{"-n", ns, "get", "hello", "-o", "name"}},
		{"list-table", []string{"-n", ns, "list"}},
		{"list-selector", []string{"-n", ns, "list", "-l", "team=a", "-o", "wide"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := cozyhr(t, c.args...).expect(t, 0)
			golden(t, "lifecycle-"+c.name, ageColumn.ReplaceAllString(r.out, "<age> "))
		})
	}
	r := cozyhr(t, "-n", ns, "get", "hello", "-o", "json").expect(t, 0)
	if !strings.Contains(r.out, `"kind": "HelmRelease"`) || strings.Contains(r.out, "managedFields") {
		t.Errorf("get -o json:\n%s", r.out)
	}
	r = cozyhr(t, "list", "-A").expect(t, 0)
	if !strings.Contains(r.out, "NAMESPACE") || !strings.Contains(r.out, ns) {
		t.Errorf("list -A:\n%s", r.out)
	}
	r = cozyhr(t, "-n", ns, "__complete", "get", "").expect(t, 0)
	if !strings.Contains(r.out, "hello\nother\n") {
		t.Errorf("completion of HelmRelease names:\n%s", r.out)
	}
}

func TestReconcileAndResumeTimeOutCleanlyWithoutAController(t *testing.T) {
	const ns = "flux-reconcile"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{}`)
	create(t, &sourcev1.HelmRepository{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "charts"}, Spec: sourcev1.HelmRepositorySpec{URL: "https://charts.example.invalid"}})

	r := cozyhr(t, "-C", dir, "reconcile", "--with-source", "--force", "--timeout", "1s").expect(t, 1)
	golden(t, "reconcile-timeout", r.err)
	var repo sourcev1.HelmRepository
	if err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: "charts"}, &repo); err != nil || repo.Annotations["reconcile.fluxcd.io/requestedAt"] == "" {
		t.Errorf("--with-source did not request reconciliation of the HelmRepository: %v %v", err, repo.Annotations)
	}

	// Without the source, the HelmRelease itself is annotated, with forceAt.
	r = cozyhr(t, "-C", dir, "reconcile", "--force", "--timeout", "1s").expect(t, 1)
	golden(t, "reconcile-force-timeout", r.err)
	hr := getHelmRelease(t, ns, "hello")
	if at := hr.Annotations["reconcile.fluxcd.io/requestedAt"]; at == "" || hr.Annotations["reconcile.fluxcd.io/forceAt"] != at {
		t.Errorf("reconcile --force annotations: %v", hr.Annotations)
	}

	cozyhr(t, "-C", dir, "suspend").expect(t, 0)
	r = cozyhr(t, "-C", dir, "reconcile").expect(t, 1)
	golden(t, "reconcile-suspended", r.err)

	r = cozyhr(t, "-C", dir, "resume", "--wait", "--timeout", "1s").expect(t, 1)
	golden(t, "resume-wait-timeout", r.err)
	if getHelmRelease(t, ns, "hello").Spec.Suspend {
		t.Error("resume left the HelmRelease suspended")
	}
}
