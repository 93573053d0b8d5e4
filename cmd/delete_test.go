package cmd

import (
	"context"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
)

func TestDeleteUninstallsWithoutOrphans(t *testing.T) {
	dir := chartCopy(t, "delete-plain")
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	r := cozyhr(t, "-C", dir, "delete").expect(t, 0)
	golden(t, "delete-plain", r.err)
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: "delete-plain", Name: "hello-content"}, &corev1.ConfigMap{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("ConfigMap still exists after delete: %v", err)
	}
	r = cozyhr(t, "-C", dir, "delete").expect(t, 0)
	golden(t, "delete-not-installed", r.err)
}

func TestDeleteRemovesOrKeepsTheHelmRelease(t *testing.T) {
	dir := chartCopy(t, "delete-flux")
	createHelmRelease(t, "delete-flux", "hello", `{}`)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	r := cozyhr(t, "-C", dir, "delete", "--keep-helmrelease").expect(t, 0)
	golden(t, "delete-keep-helmrelease", r.err)
	if !getHelmRelease(t, "delete-flux", "hello").Spec.Suspend {
		t.Fatal("kept HelmRelease is not suspended")
	}

	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	r = cozyhr(t, "-C", dir, "delete").expect(t, 0)
	golden(t, "delete-helmrelease", r.err)
	err := env.Client.Get(context.Background(), types.NamespacedName{Namespace: "delete-flux", Name: "hello"}, &helmv2.HelmRelease{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("HelmRelease still exists: %v", err)
	}
}

// After helm uninstall --keep-history the next apply is an install (with
// --replace): diff and apply must agree on that, CRD policy included.
func TestApplyAfterDeleteKeepHistoryReinstalls(t *testing.T) {
	dir := chartCopy(t, "delete-history")
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	cozyhr(t, "-C", dir, "delete", "--keep-history").expect(t, 0)
	r := cozyhr(t, "-C", dir, "diff", "--brief").expect(t, 0)
	if strings.Contains(r.out, "not compared") {
		t.Errorf("diff treated a reinstall as an upgrade:\n%s", r.out)
	}
	r = cozyhr(t, "-C", dir, "apply").expect(t, 0)
	if !strings.Contains(r.err, "Release hello installed in namespace delete-history: revision 2, deployed.") {
		t.Errorf("apply after --keep-history:\n%s", r.err)
	}
}
