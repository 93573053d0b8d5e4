package review_test

import (
	"strings"
	"testing"
)

// A chart whose .cozyhr.yaml declares its HelmRelease in a file: the review
// between revisions says what helm-controller will do, from that spec. A
// selector change fails the upgrade, and with one rollback retry the
// remediation is named; without a HelmRelease file, no prediction.
func TestReviewPredictsFromTheHelmReleaseFile(t *testing.T) {
	deploy := func(app string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: " + app + "}\n" +
			"  template:\n    metadata:\n      labels: {app: " + app + "}\n    spec:\n      containers:\n      - {name: web, image: nginx}\n"
	}
	hr := "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: app\n  namespace: apps\nspec:\n  interval: 5m\n" +
		"  chart:\n    spec:\n      chart: app\n      sourceRef: {kind: HelmRepository, name: charts}\n  upgrade:\n    remediation: {retries: 1}\n"
	r := newRepo(t)
	r.Write(merge(chart("charts/app", "hello"), map[string]string{
		"charts/app/templates/deploy.yaml": deploy("web"),
		"charts/app/helmrelease.yaml":      hr,
		"charts/app/.cozyhr.yaml":          "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: app, namespace: apps}\nhelmRelease: {file: helmrelease.yaml}\n",
	}))
	r.Commit("app")
	r.Write(map[string]string{"charts/app/templates/deploy.yaml": deploy("web-v2")})

	rev, err := reviewOf(t, r.Path("charts/app"), "main", "")
	if err != nil {
		t.Fatal(err)
	}
	line := rev.Cases[0].Result.Prediction.Line()
	for _, want := range []string{"upgrade fails: the API server refuses Deployment apps/web: spec.selector is immutable", "rollback and retry, 1 time(s)"} {
		if !strings.Contains(line, want) {
			t.Errorf("prediction %q lacks %q", line, want)
		}
	}

	r.Write(map[string]string{"charts/app/.cozyhr.yaml": "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: app, namespace: apps}\n"})
	rev, err = reviewOf(t, r.Path("charts/app"), "main", "")
	if err != nil {
		t.Fatal(err)
	}
	if p := rev.Cases[0].Result.Prediction; p != nil {
		t.Errorf("a prediction with no HelmRelease file: %+v", p)
	}
}
