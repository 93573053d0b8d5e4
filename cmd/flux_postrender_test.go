package cmd

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	kustomize "github.com/fluxcd/pkg/apis/kustomize"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestPostRenderersAndCommonMetadataAsHelmController(t *testing.T) {
	const ns = "flux-postrender"
	dir := chartCopy(t, ns)
	hr := createHelmRelease(t, ns, "hello", `{}`)
	hr.Spec.CommonMetadata = &helmv2.CommonMetadata{
		Labels:      map[string]string{"team": "platform", "helm.toolkit.fluxcd.io/name": "loses-to-origin"},
		Annotations: map[string]string{"owner": "sre"},
	}
	hr.Spec.PostRenderers = []helmv2.PostRenderer{{Kustomize: &helmv2.Kustomize{
		Patches: []kustomize.Patch{{
			Target: &kustomize.Selector{Kind: "Deployment", Name: "hello"},
			Patch:  "- op: replace\n  path: /spec/replicas\n  value: 3\n",
		}},
		Images: []kustomize.Image{{Name: "nginx", NewTag: "1.28-alpine"}},
	}}}
	if err := env.Client.Update(context.Background(), hr); err != nil {
		t.Fatal(err)
	}
	r := cozyhr(t, "-C", dir, "show", "-s", "templates/deployment.yaml").expect(t, 0)
	golden(t, "flux-postrender", r.out)

	// What show renders is what apply installs, and then diff is clean.
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 0)
}

func TestCRDPolicies(t *testing.T) {
	const ns = "crd-policy"
	dir, crd := chartWithOwnCRD(t, ns, "sprocket")
	cozyhr(t, "-C", dir, "apply").expect(t, 0) // install: Helm creates the CRD

	changed := strings.Replace(crd, "size:\n                  type: string", "size:\n                  type: string\n                color:\n                  type: string", 1)
	writeFile(t, filepath.Join(dir, "crds", "widgets.yaml"), changed)

	// Default upgrade policy Skip: the CRD is neither compared nor written.
	r := cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 0)
	golden(t, "crd-policy-skip", r.out)

	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: hello, namespace: "+ns+"}\napply: {crds: CreateReplace}\n")
	r = cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 2)
	golden(t, "crd-policy-replace-diff", r.out)
	r = cozyhr(t, "-C", dir, "apply").expect(t, 0)
	golden(t, "crd-policy-replace-apply", r.err)
	var live apiextensionsv1.CustomResourceDefinition
	if err := env.Client.Get(context.Background(), types.NamespacedName{Name: "sprockets.demo.cozyhr.io"}, &live); err != nil {
		t.Fatal(err)
	}
	if _, ok := live.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"].Properties["color"]; !ok {
		t.Fatal("CreateReplace did not replace the CRD")
	}
	cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 0)
}

func TestCRDPolicyFromTheHelmRelease(t *testing.T) {
	const ns = "crd-policy-flux"
	dir, crd := chartWithOwnCRD(t, ns, "gear")
	hr := createHelmRelease(t, ns, "hello", `{}`)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)

	writeFile(t, filepath.Join(dir, "crds", "widgets.yaml"), strings.Replace(crd, "type: string", "type: string\n                  maxLength: 10", 1))
	setUpgrade := func(u *helmv2.Upgrade) {
		hr = getHelmRelease(t, ns, "hello")
		hr.Spec.Upgrade = u
		if err := env.Client.Update(context.Background(), hr); err != nil {
			t.Fatal(err)
		}
	}
	// helm-controller v1.6 leaves a CRD alone only under Skip
	// (test/flux TestPredictedCRDPolicies).
	setUpgrade(&helmv2.Upgrade{CRDs: helmv2.Skip})
	cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 0)

	// Its default, Create, applies it server-side, as the release was
	// written: the change is one.
	setUpgrade(nil)
	r := cozyhr(t, "-C", dir, "diff", "--brief", "--exit-code").expect(t, 2)
	golden(t, "crd-policy-flux-diff", r.out)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	cozyhr(t, "-C", dir, "diff", "--exit-code").expect(t, 0)
}

// chartWithOwnCRD copies the example chart with its CRD renamed to kind
// (lower case), so that a test can change the CRD without touching the
// Widget CRD other tests share; the Widget template is emptied.
func chartWithOwnCRD(t *testing.T, ns, kind string) (dir, crd string) {
	t.Helper()
	dir = chartCopy(t, ns)
	title := strings.ToUpper(kind[:1]) + kind[1:]
	crd = strings.NewReplacer("widgets", kind+"s", "Widget", title, "widget", kind).Replace(readFile(t, filepath.Join(dir, "crds", "widgets.yaml")))
	writeFile(t, filepath.Join(dir, "crds", "widgets.yaml"), crd)
	writeFile(t, filepath.Join(dir, "templates", "widget.yaml"), "")
	return dir, crd
}
