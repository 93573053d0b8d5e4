package flux_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/test/testenv"
)

// TestReconcileWithSourceFetchesTheNewChart: after a new chart version is
// published, reconcile --with-source makes source-controller fetch the
// repository index and the chart again, and helm-controller upgrades to it.
func TestReconcileWithSourceFetchesTheNewChart(t *testing.T) {
	c, key := installHello(t, "with-source", func(hr *helmv2.HelmRelease) {
		hr.Spec.Chart.Spec.Version = "*"
	})
	ctx := context.Background()
	repo := &sourcev1.HelmRepository{}
	if err := env.Client.Get(ctx, key, repo); err != nil {
		t.Fatal(err)
	}
	before := repo.Status.Artifact.Revision

	path := filepath.Join(c.Dir, "Chart.yaml")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, strings.Replace(string(data), "version: 0.1.0", "version: 0.2.0", 1))
	c.publish(t)

	r := cozyhr(t, "-C", c.Dir, "reconcile", "--with-source").expect(t, 0)
	for _, want := range []string{"✔ HelmRepository " + key.String(), "✔ HelmChart", "✔ HelmRelease " + key.String()} {
		if !strings.Contains(r.out+r.err, want) {
			t.Errorf("reconcile output lacks %q:\n%s%s", want, r.out, r.err)
		}
	}
	if err := env.Client.Get(ctx, key, repo); err != nil {
		t.Fatal(err)
	}
	if repo.Status.Artifact.Revision == before {
		t.Errorf("source-controller did not fetch the repository index again (revision %s)", before)
	}
	chart := &sourcev1.HelmChart{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: key.Namespace, Name: key.Namespace + "-hello"}, chart); err != nil {
		t.Fatal(err)
	}
	if chart.Status.Artifact == nil || chart.Status.Artifact.Revision != "0.2.0" {
		t.Errorf("HelmChart artifact %+v, want revision 0.2.0", chart.Status.Artifact)
	}
	if rel := storedRelease(t, key.Namespace, "hello"); rel.Chart.Metadata.Version != "0.2.0" {
		t.Errorf("release chart %s, want 0.2.0", rel.Chart.Metadata.Version)
	}
}

// TestResumeAndReconcileReportTheControllersFailure: a HelmRelease whose
// upgrade fails makes resume --wait and reconcile exit 1 with
// helm-controller's own message.
func TestResumeAndReconcileReportTheControllersFailure(t *testing.T) {
	c, key := installHello(t, "failing-upgrade", nil)
	cozyhr(t, "-C", c.Dir, "suspend").expect(t, 0)
	setValues(t, key, `{"replicas": "not-a-number"}`)
	r := cozyhr(t, "-C", c.Dir, "resume", "--wait", "--timeout", "1m").expect(t, 1)
	if !strings.Contains(r.out+r.err, "✗ HelmRelease "+key.String()+" reconciliation failed") || !strings.Contains(r.out+r.err, "Helm upgrade failed") {
		t.Errorf("resume --wait does not report helm-controller's failure:\n%s%s", r.out, r.err)
	}
	r = cozyhr(t, "-C", c.Dir, "reconcile", "--timeout", "1m").expect(t, 1)
	if !strings.Contains(r.out+r.err, "reconciliation failed") {
		t.Errorf("reconcile does not report helm-controller's failure:\n%s%s", r.out, r.err)
	}
}

// TestDeleteLeavesNothingWithTheControllerRunning: delete uninstalls the
// release and removes the HelmRelease, whether it was suspended or not,
// while helm-controller watches.
func TestDeleteLeavesNothingWithTheControllerRunning(t *testing.T) {
	for _, suspended := range []bool{true, false} {
		name := "delete-resumed"
		if suspended {
			name = "delete-suspended"
		}
		t.Run(name, func(t *testing.T) {
			c := newFluxChart(t, helloChart, "hello", name)
			hr := c.helmRelease(t, nil)
			key := client.ObjectKeyFromObject(hr)
			waitReady(t, key, 2*time.Minute)
			if suspended {
				cozyhr(t, "-C", c.Dir, "suspend").expect(t, 0)
			}
			cozyhr(t, "-C", c.Dir, "delete").expect(t, 0)
			ctx := context.Background()
			err := testenv.WaitFor(ctx, time.Minute, func(ctx context.Context) (bool, error) {
				err := env.Client.Get(ctx, key, &helmv2.HelmRelease{})
				return apierrors.IsNotFound(err), nil
			})
			if err != nil {
				t.Errorf("HelmRelease %s still there after delete: %v", key, err)
			}
			var secrets corev1.SecretList
			if err := env.Client.List(ctx, &secrets, client.InNamespace(name), client.MatchingLabels{"owner": "helm"}); err != nil {
				t.Fatal(err)
			}
			if len(secrets.Items) != 0 {
				t.Errorf("%d release record(s) left", len(secrets.Items))
			}
			left := map[string]client.Object{"ConfigMap hello-content": &corev1.ConfigMap{}, "Service hello": &corev1.Service{}, "Secret hello-auth": &corev1.Secret{}}
			for what, obj := range left {
				objName := what[strings.Index(what, " ")+1:]
				if err := env.Client.Get(ctx, client.ObjectKey{Namespace: name, Name: objName}, obj); !apierrors.IsNotFound(err) {
					t.Errorf("%s left behind (%v)", what, err)
				}
			}
		})
	}
}
