package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestApplyThenDiffShowsNoChanges(t *testing.T) {
	dir := chartCopy(t, "diff-clean")
	r := cozyhr(t, "-C", dir, "apply").expect(t, 0)
	golden(t, "apply-install", r.err)

	r = cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 0)
	golden(t, "diff-no-changes", r.out)

	r = cozyhr(t, "-C", dir, "apply").expect(t, 0)
	golden(t, "apply-upgrade", r.err)
}

func TestDiffShowsExactlyAChangedValue(t *testing.T) {
	dir := chartCopy(t, "diff-value")
	cozyhr(t, "-C", dir, "apply").expect(t, 0)

	r := cozyhr(t, "-C", dir, "diff", "--set", "replicas=3", "--set", "message=Hi").expect(t, 0)
	golden(t, "diff-changed-value", r.out)

	cozyhr(t, "-C", dir, "diff", "--set", "replicas=3", "--exit-code").expect(t, 2)
}

func TestDiffShowsARemovedTemplate(t *testing.T) {
	dir := chartCopy(t, "diff-removed")
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	if err := os.Remove(filepath.Join(dir, "templates", "service.yaml")); err != nil {
		t.Fatal(err)
	}
	r := cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 2)
	golden(t, "diff-removed-template", r.out)
}

func TestDiffMasksSecretValues(t *testing.T) {
	dir := chartCopy(t, "diff-secret")
	cozyhr(t, "-C", dir, "apply").expect(t, 0)

	r := cozyhr(t, "-C", dir, "diff", "--set", "auth.password=hunter2").expect(t, 0)
	golden(t, "diff-secret-masked", r.out)
	for _, leak := range []string{"hunter2", "aHVudGVyMg", "s3cret", "czNjcmV0"} {
		if strings.Contains(r.out+r.err, leak) {
			t.Errorf("diff printed secret material %q", leak)
		}
	}

	r = cozyhr(t, "-C", dir, "diff", "--set", "auth.password=hunter2", "--show-secrets").expect(t, 0)
	if !strings.Contains(r.out, "aHVudGVyMg==") {
		t.Errorf("--show-secrets did not print the new value:\n%s", r.out)
	}
}

func TestDiffShowsLiveDrift(t *testing.T) {
	dir := chartCopy(t, "diff-drift")
	cozyhr(t, "-C", dir, "apply").expect(t, 0)

	// Someone scales the Deployment by hand; the stored release does not know.
	ctx := context.Background()
	var dep appsv1.Deployment
	if err := env.Client.Get(ctx, types.NamespacedName{Namespace: "diff-drift", Name: "hello"}, &dep); err != nil {
		t.Fatal(err)
	}
	patch := client.RawPatch(types.MergePatchType, []byte(`{"spec":{"replicas":5},"metadata":{"labels":{"edited":"by-hand"}}}`))
	if err := env.Client.Patch(ctx, &dep, patch, client.FieldOwner("kubectl-edit")); err != nil {
		t.Fatal(err)
	}
	r := cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 2)
	golden(t, "diff-live-drift", r.out)
}
