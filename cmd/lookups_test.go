package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A review renders offline: a lookup nothing answers is named, per chart,
// and a file of objects answers it (as nelm's stub files do).
func TestOfflineLookupsAreAnsweredByAFileOrNamed(t *testing.T) {
	g := newGitRepo(t)
	g.write("app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 0.1.0\n")
	g.write("app/templates/cm.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  {{- $s := lookup "v1" "ConfigMap" "platform" "settings" }}
  region: {{ if $s }}{{ $s.data.region | quote }}{{ else }}none{{ end }}
`)
	base := g.commit("app")
	g.write("app/templates/cm.yaml", strings.Replace(readFile(t, filepath.Join(g.dir, "app/templates/cm.yaml")), "data:\n", "data:\n  greeting: hi\n", 1))
	dir := filepath.Join(g.dir, "app")

	plain := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base).expect(t, 0)
	if !strings.Contains(plain.err, `warning: nothing offline answers lookup "v1" "ConfigMap" "platform" "settings"`) {
		t.Errorf("an unanswered lookup is not named:\n%s", plain.err)
	}
	objects := filepath.Join(t.TempDir(), "objects.yaml")
	writeFile(t, objects, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: platform\ndata:\n  region: eu-west\n")
	shown := cozyhrNoCluster(t, "-C", dir, "show", "--offline", "--lookups", objects).expect(t, 0)
	if !strings.Contains(shown.out, `region: "eu-west"`) {
		t.Errorf("--lookups did not answer:\n%s", shown.out)
	}
	answered := cozyhrNoCluster(t, "-C", dir, "diff", "--base", base, "--lookups", objects).expect(t, 0)
	if strings.Contains(answered.err, "nothing offline answers") {
		t.Errorf("answered, yet:\n%s", answered.err)
	}
	// .cozyhr.yaml may name the file, relative to the chart.
	writeFile(t, filepath.Join(dir, "stubs.yaml"), readFile(t, objects))
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrender:\n  lookups: stubs.yaml\n")
	named := cozyhrNoCluster(t, "-C", dir, "show", "--offline").expect(t, 0)
	if !strings.Contains(named.out, `region: "eu-west"`) {
		t.Errorf("render.lookups did not answer:\n%s", named.out)
	}
	writeFile(t, filepath.Join(dir, ".cozyhr.yaml"), "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrender:\n  lookups: none.yaml\n")
	missing := cozyhrNoCluster(t, "-C", dir, "show", "--offline")
	if missing.code != 1 || !strings.Contains(missing.err, ".cozyhr.yaml: render.lookups:") || !strings.Contains(missing.err, "none.yaml") {
		t.Errorf("a missing render.lookups file: exit %d\n%s", missing.code, missing.err)
	}
	os.Remove(filepath.Join(dir, ".cozyhr.yaml"))

	// A template that reads what lookup found without a guard fails
	// offline, and the error names the lookup.
	writeFile(t, filepath.Join(dir, "templates", "bare.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bare\ndata:\n  x: {{ (lookup \"v1\" \"Secret\" \"a\" \"b\").data.x }}\n")
	failed := cozyhrNoCluster(t, "-C", dir, "show", "--offline")
	if failed.code != 1 || !strings.Contains(failed.err, "offline, nothing answered") || !strings.Contains(failed.err, `lookup "v1" "Secret" "a" "b"`) {
		t.Errorf("a render that fails on a lookup: exit %d\n%s", failed.code, failed.err)
	}
	writeFile(t, objects, "kind: ConfigMap\n")
	bad := cozyhrNoCluster(t, "-C", dir, "show", "--offline", "--lookups", objects)
	if bad.code != 1 || !strings.Contains(bad.err, objects+": document 1 has no apiVersion or kind") {
		t.Errorf("a bad objects file: exit %d\n%s", bad.code, bad.err)
	}
}
