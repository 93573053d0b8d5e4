package cmd

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// A review flags a change by its rule; .cozyhr.yaml's diff.rules turns a
// rule off or changes its severity; --fail-on sets exit code 4 from a
// severity up.
func TestRulesAreConfiguredAndFailOnSetsTheExitCode(t *testing.T) {
	g := newGitRepo(t)
	g.write("app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n")
	g.write("app/values.yaml", "replicas: 2\n")
	g.write("app/templates/deploy.yaml", `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: nginx:1.27
`)
	base := g.commit("app")
	g.write("app/values.yaml", "replicas: 0\n")
	dir := filepath.Join(g.dir, "app")

	r := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base).expect(t, 0)
	if !strings.Contains(r.out, "! spec.replicas 2 → 0: the Deployment stops serving [replicas-to-zero, medium]") {
		t.Errorf("the finding is not shown with its rule:\n%s", r.out)
	}
	cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "--fail-on", "high").expect(t, 0)
	failed := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "--fail-on", "medium").expect(t, ExitFindings)
	if !strings.Contains(failed.err, "1 finding(s) at medium or above") {
		t.Errorf("--fail-on says:\n%s", failed.err)
	}
	js := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "-o", "json").expect(t, 0)
	if !strings.Contains(js.out, `"rule": "replicas-to-zero"`) || !strings.Contains(js.out, `"severity": "medium"`) {
		t.Errorf("JSON hazards:\n%s", js.out)
	}

	g.write("app/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\ndiff:\n  rules:\n    replicas-to-zero: critical\n")
	cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "--fail-on", "critical").expect(t, ExitFindings)
	g.write("app/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\ndiff:\n  rules:\n    replicas-to-zero: off\n")
	off := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "--fail-on", "low").expect(t, 0)
	if strings.Contains(off.out, "replicas-to-zero") {
		t.Errorf("a rule turned off is shown:\n%s", off.out)
	}

	// A major chart bump is the release's finding, not an object's.
	g.write("app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n")
	bump := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base).expect(t, 0)
	if !strings.Contains(bump.out, "! chart version 0.1.0 → 1.0.0, a major version up [chart-major-bump, medium]") {
		t.Errorf("a major chart bump:\n%s", bump.out)
	}
	js = cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "-o", "json").expect(t, 0)
	if !strings.Contains(js.out, `"findings": [`) || !strings.Contains(js.out, `"rule": "chart-major-bump"`) {
		t.Errorf("JSON findings:\n%s", js.out)
	}

	g.write("app/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\ndiff:\n  rules:\n    replicas-to-nil: off\n")
	bad := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base)
	if bad.code != 1 || !strings.Contains(bad.err, `diff.rules.replicas-to-nil: "replicas-to-nil" is not a valid name here`) {
		t.Errorf("an unknown rule: exit %d\n%s", bad.code, bad.err)
	}
	bad = cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "--fail-on", "urgent")
	if bad.code != 1 || !strings.Contains(bad.err, "--fail-on: severity \"urgent\": give one of low, medium, high, critical") {
		t.Errorf("a bad --fail-on: exit %d\n%s", bad.code, bad.err)
	}
}

// --check-images asks the registry for each image a change brings: one it
// does not serve is an image-missing finding.
func TestCheckImagesAsksTheRegistry(t *testing.T) {
	reg := localRegistry(t)
	ref, err := name.NewTag(reg+"/team/app:1.0", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img); err != nil {
		t.Fatal(err)
	}
	g := newGitRepo(t)
	g.write("app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n")
	g.write("app/values.yaml", "image: "+reg+"/team/app:0.9\n")
	g.write("app/templates/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: app\nspec:\n  containers:\n  - name: app\n    image: {{ .Values.image }}\n")
	base := g.commit("app")
	dir := filepath.Join(g.dir, "app")

	g.write("app/values.yaml", "image: "+reg+"/team/app:1.0\n")
	cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "--check-images", "--fail-on", "high").expect(t, 0)
	g.write("app/values.yaml", "image: "+reg+"/team/app:2.0\n")
	r := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "--check-images", "--fail-on", "high").expect(t, ExitFindings)
	if !strings.Contains(r.out, "! image "+reg+"/team/app:2.0: its registry does not serve it") || !strings.Contains(r.out, "[image-missing, high]") {
		t.Errorf("a missing image:\n%s", r.out)
	}
	js := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "-o", "json").expect(t, 0)
	if !strings.Contains(js.out, `"from": "`+reg+`/team/app:0.9"`) || !strings.Contains(js.out, `"to": "`+reg+`/team/app:2.0"`) {
		t.Errorf("the images in JSON:\n%s", js.out)
	}
	// Without the flag no registry is asked.
	cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "--fail-on", "high").expect(t, 0)
}

// A live diff flags a value the release sets that the new chart's
// values.yaml no longer has (values-unread), for one chart and for each
// instance of a fleet.
func TestALiveDiffFlagsValuesTheNewChartNoLongerHas(t *testing.T) {
	const ns = "rules-values-unread"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{"message": "hi from the instance"}`)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	path := filepath.Join(dir, "values.yaml")
	writeFile(t, path, strings.Replace(readFile(t, path), "message: Hello from cozyhr", "greeting: Hello from cozyhr", 1))

	r := cozyhr(t, "-C", dir, "diff").expect(t, 0)
	if !strings.Contains(r.out, "message is set by this instance, and the new chart's values.yaml no longer has it") || !strings.Contains(r.out, "[values-unread, medium]") {
		t.Errorf("the live diff does not flag message:\n%s", r.out)
	}
	fleet := cozyhr(t, "-C", dir, "-n", ns, "diff", "--instances", "-o", "json").expect(t, 0)
	if !strings.Contains(fleet.out, `"rule": "values-unread"`) {
		t.Errorf("the fleet diff does not flag message:\n%s", fleet.out)
	}
}

// A review of many charts as one comment flags an object that leaves one
// chart's release for another's (object-moves) on both.
func TestAReviewOfManyChartsFlagsAnObjectMovingBetweenThem(t *testing.T) {
	g := newGitRepo(t)
	shared := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\ndata:\n  k: v\n"
	for _, name := range []string{"a", "b"} {
		g.write("apps/"+name+"/Chart.yaml", "apiVersion: v2\nname: "+name+"\nversion: 0.1.0\n")
		g.write("apps/"+name+"/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: "+name+", namespace: apps}\n")
		g.write("apps/"+name+"/templates/own.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "+name+"\n")
	}
	g.write("apps/a/templates/shared.yaml", shared)
	base := g.commit("base")
	g.git("rm", "-q", "apps/a/templates/shared.yaml")
	g.write("apps/b/templates/shared.yaml", shared)

	md := cozyhrNoCluster(t, "-R", filepath.Join(g.dir, "apps"), "--all", "diff", "--base", base, "-o", "markdown").expect(t, 0)
	if strings.Count(md.out, "moves from release apps/a to release apps/b") < 2 || !strings.Contains(md.out, "object-moves") {
		t.Errorf("the move is not flagged on both charts:\n%s", md.out)
	}
}
