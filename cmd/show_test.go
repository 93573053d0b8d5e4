package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core/manifest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func TestShowOfflineRendersLikeHelmTemplate(t *testing.T) {
	dir := chartCopy(t, "show-offline")
	r := cozyhr(t, "-C", dir, "show", "--offline").expect(t, 0)
	golden(t, "show-offline", r.out)
	if !strings.Contains(r.err, "data of 1 Secret(s) masked") {
		t.Errorf("show did not say it masked a Secret: %q", r.err)
	}
}

func TestShowOnlyAndJSON(t *testing.T) {
	dir := chartCopy(t, "show-only")
	r := cozyhr(t, "-C", dir, "show", "--offline", "-s", "templates/service.yaml", "-o", "json").expect(t, 0)
	var list struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.out), &list); err != nil {
		t.Fatalf("show -o json: %v\n%s", err, r.out)
	}
	if len(list.Items) != 1 || list.Items[0]["kind"] != "Service" {
		t.Fatalf("want only the Service, got %v", list.Items)
	}
	r = cozyhr(t, "-C", dir, "show", "--offline", "-s", "templates/nope.yaml").expect(t, 1)
	golden(t, "show-only-missing", r.err)
}

func TestShowSecretsOnRequest(t *testing.T) {
	dir := chartCopy(t, "show-secrets")
	r := cozyhr(t, "-C", dir, "show", "--offline", "-s", "templates/secret.yaml").expect(t, 0)
	if strings.Contains(r.out, "s3cret") {
		t.Fatalf("show printed Secret data without --show-secrets:\n%s", r.out)
	}
	r = cozyhr(t, "-C", dir, "show", "--offline", "-s", "templates/secret.yaml", "--show-secrets").expect(t, 0)
	if !strings.Contains(r.out, "s3cret") {
		t.Fatalf("--show-secrets did not print the Secret:\n%s", r.out)
	}
}

func TestShowUsesClusterCapabilities(t *testing.T) {
	dir := chartCopy(t, "show-caps")
	writeFile(t, filepath.Join(dir, "templates", "version.yaml"), `apiVersion: v1
kind: ConfigMap
metadata:
  name: version
data:
  kube: {{ .Capabilities.KubeVersion.Version | quote }}
  flux: {{ .Capabilities.APIVersions.Has "helm.toolkit.fluxcd.io/v2" | quote }}
`)
	r := cozyhr(t, "-C", dir, "show", "-s", "templates/version.yaml").expect(t, 0)
	golden(t, "show-cluster-capabilities", r.out)

	r = cozyhr(t, "-C", dir, "show", "--offline", "--kube-version", "1.30.1", "-s", "templates/version.yaml").expect(t, 0)
	golden(t, "show-offline-kube-version", r.out)
}

func TestNoConfigFileFallsBackToChartName(t *testing.T) {
	dir := chartCopy(t, "unused")
	if err := os.Remove(filepath.Join(dir, ".cozyhr.yaml")); err != nil {
		t.Fatal(err)
	}
	r := cozyhr(t, "-C", dir, "show", "--offline", "-s", "templates/service.yaml").expect(t, 0)
	golden(t, "show-no-config-stderr", r.err)
}

// Platform teams commit the offline render for review: a chart whose
// .cozyhr.yaml names its HelmRelease renders with Flux's origin labels (and
// kyaml's formatting, as helm-controller stores it), and stderr says once
// what of the HelmRelease could not be read.
func TestShowOfflineRendersAsFluxForANamedHelmRelease(t *testing.T) {
	dir := chartCopy(t, "apps")
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), `apiVersion: cozyhr.io/v1alpha1
kind: Chart
release:
  name: hello
  namespace: apps
helmRelease:
  name: hello
  namespace: flux-apps
values:
  message: committed for review
`)
	r := cozyhr(t, "-C", dir, "show", "--offline", "-s", "templates/configmap.yaml").expect(t, 0)
	golden(t, "show-offline-flux", r.out)
	golden(t, "show-offline-flux-stderr", r.err)
	if n := strings.Count(r.err, "is not read"); n != 1 {
		t.Errorf("the offline notice is printed %d times, want once:\n%s", n, r.err)
	}
}

// Masked output must never be accepted by an apply: the mask is not base64,
// so the API server refuses the Secret (a server dry run here); and a
// Secret with no data is not counted as masked.
func TestMaskedSecretsCannotBeApplied(t *testing.T) {
	dir := chartCopy(t, "masked-apply")
	writeFile(t, filepath.Join(dir, "templates", "secret-string.yaml"), `apiVersion: v1
kind: Secret
metadata:
  name: string-data
stringData:
  token: plain
---
apiVersion: v1
kind: Secret
metadata:
  name: empty
`)
	if err := env.CreateNamespace(context.Background(), "masked-apply"); err != nil {
		t.Fatal(err)
	}
	r := cozyhr(t, "-C", dir, "show", "--offline").expect(t, 0)
	if strings.Contains(r.out, "plain") || strings.Contains(r.out, "s3cret") {
		t.Fatalf("show printed Secret data:\n%s", r.out)
	}
	if !strings.Contains(r.err, "data of 2 Secret(s) masked") {
		t.Errorf("show should count the two Secrets with data, not the empty one:\n%s", r.err)
	}
	objs, err := manifest.ParseManifests([]byte(r.out))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() != "Secret" || o.GetName() == "empty" {
			continue
		}
		o.SetNamespace("masked-apply")
		err := env.Client.Create(context.Background(), o.Unstructured, client.DryRunAll)
		if err == nil {
			t.Errorf("the API server accepted masked Secret %s", o.GetName())
		}
	}
}
