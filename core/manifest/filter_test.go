package manifest_test

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/cozyhr/cozyhr/core/manifest"
)

func obj(kind, name string, labels map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetKind(kind)
	u.SetName(name)
	u.SetLabels(labels)
	return u
}

func names(objs []*unstructured.Unstructured) string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return strings.Join(out, ",")
}

func TestFilterByKindAndLabels(t *testing.T) {
	all := func() []*unstructured.Unstructured {
		return []*unstructured.Unstructured{
			obj("Deployment", "web", map[string]string{"tier": "front"}),
			obj("Service", "web", map[string]string{"tier": "front"}),
			obj("ConfigMap", "settings", nil),
			obj("Deployment", "worker", map[string]string{"tier": "back"}),
		}
	}
	cases := []struct {
		kinds    []string
		selector string
		want     string
	}{
		{nil, "", "web,web,settings,worker"},
		{[]string{"deployment"}, "", "web,worker"},
		{[]string{"Deployment,service", " "}, "", "web,web,worker"},
		{nil, "tier=front", "web,web"},
		{[]string{"Deployment"}, "tier!=front", "worker"},
		{[]string{"Secret"}, "", ""},
	}
	for _, c := range cases {
		keep, err := manifest.Filter(c.kinds, c.selector)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(manifest.FilterObjects(all(), keep)); got != c.want {
			t.Errorf("kinds %q selector %q: %s, want %s", c.kinds, c.selector, got, c.want)
		}
	}
	if _, err := manifest.Filter(nil, "tier in (a"); err == nil || !strings.Contains(err.Error(), `label selector "tier in (a"`) {
		t.Errorf("a broken selector: %v", err)
	}
}

func TestParseAndWriteManifestsKeepSourcesAndText(t *testing.T) {
	stream := "---\n# Source: app/templates/a.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a # a comment stays\n---\n# Source: app/templates/b.yaml\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n---\n\n"
	objs, err := manifest.ParseManifests([]byte(stream))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0].Source != "app/templates/a.yaml" || objs[1].GetKind() != "Secret" || !manifest.IsSecretObject(objs[1]) || manifest.IsSecretObject(objs[0]) {
		t.Fatalf("parsed %d objects: %+v", len(objs), objs)
	}
	var out strings.Builder
	if err := manifest.WriteManifests(&out, objs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "# Source: app/templates/a.yaml\n") || !strings.Contains(out.String(), "# a comment stays") {
		t.Errorf("an unchanged object is written as rendered:\n%s", out.String())
	}
	objs[0].SetLabels(map[string]string{"x": "y"})
	objs[0].Touch()
	out.Reset()
	if err := manifest.WriteManifests(&out, objs); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "# a comment stays") || !strings.Contains(out.String(), "x: \"y\"") && !strings.Contains(out.String(), "x: y") {
		t.Errorf("a changed object is written from its fields:\n%s", out.String())
	}
	if _, err := manifest.ParseManifests([]byte("kind: [\n")); err == nil {
		t.Error("a broken document parsed")
	}
}
