package cmd

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A platform repository reviewed between two revisions, as the issue lays
// it out: a library chart linked by symlink, a chart with random values and
// generated certificates, one unchanged chart, one whose only change is in
// the library, one added, one removed, one with two value cases. changed
// lists exactly the charts touched; the Markdown comment is golden and the
// same run after run; random values and certificates show no change.
func TestReviewOfAPlatformRepository(t *testing.T) {
	g := newGitRepo(t)
	g.write("library/lib/Chart.yaml", "apiVersion: v2\nname: lib\ntype: library\nversion: 0.1.0\n")
	g.write("library/lib/templates/_greeting.tpl", `{{- define "lib.greeting" -}}hello{{- end -}}`+"\n")
	g.appChart("app")
	chart := func(name, template string) {
		g.write("apps/"+name+"/Chart.yaml", "apiVersion: v2\nname: "+name+"\nversion: 0.1.0\n")
		g.write("apps/"+name+"/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: "+name+"\n  namespace: tenant-root\n")
		g.write("apps/"+name+"/templates/main.yaml", template)
	}
	const certs = `{{- $ca := genCA "certs-ca" 365 }}
apiVersion: v1
kind: Secret
metadata:
  name: certs-tls
  labels: {tier: %s}
data:
  password: {{ randAlphaNum 16 | b64enc }}
  ca.crt: {{ $ca.Cert | b64enc }}
  tls.key: {{ $ca.Key | b64enc }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: certs-id
data:
  id: {{ uuidv4 }}
`
	chart("certs", strings.Replace(certs, "%s", "one", 1))
	chart("steady", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: steady\n")
	chart("removed", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: removed\n")
	chart("cases", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cases\ndata:\n  replicas: {{ .Values.replicas | quote }}\n")
	g.write("apps/cases/values.yaml", "replicas: 1\n")
	g.write("apps/cases/values-ha.yaml", "replicas: 3\n")
	g.write("apps/cases/.cozyhr.yaml", "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease: {name: cases, namespace: tenant-root}\ncases:\n  ha: {valuesFiles: [values-ha.yaml]}\n  tiny: {values: {replicas: 0}}\n")
	g.commit("base")
	g.git("tag", "base")

	g.write("library/lib/templates/_greeting.tpl", `{{- define "lib.greeting" -}}hi{{- end -}}`+"\n")
	g.write("apps/certs/templates/main.yaml", strings.Replace(certs, "%s", "two", 1))
	chart("added", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\n")
	g.git("rm", "-rq", "apps/removed")
	g.write("apps/cases/values-ha.yaml", "replicas: 5\n")
	g.commit("head")
	t.Chdir(g.dir)

	r := cozyhrNoCluster(t, "-R", "apps", "changed", "--base", "base")
	if r.code != 0 || r.out != "apps/added\napps/app\napps/cases\napps/certs\napps/removed\n" {
		t.Errorf("changed: exit %d\n%s%s", r.code, r.out, r.err)
	}
	if strings.Contains(r.err, "read by none") {
		t.Errorf("a path left unattributed:\n%s", r.err)
	}
	// Shards split them, the removed chart included, each chart in one.
	var sharded []string
	for _, shard := range []string{"1/2", "2/2"} {
		one := cozyhrNoCluster(t, "-R", "apps", "--shard", shard, "changed", "--base", "base")
		sharded = append(sharded, strings.Fields(one.out)...)
		// The other shard's charts read their own files.
		if strings.Contains(one.err, "read by none") {
			t.Errorf("shard %s leaves another shard's files unattributed:\n%s", shard, one.err)
		}
	}
	slices.Sort(sharded)
	if strings.Join(sharded, " ") != "apps/added apps/app apps/cases apps/certs apps/removed" {
		t.Errorf("shards 1/2 and 2/2 together: %v", sharded)
	}

	md := cozyhrNoCluster(t, "-R", "apps", "diff", "--base", "base", "--exit-code", "-o", "markdown")
	if md.code != ExitChanges {
		t.Fatalf("-o markdown: exit %d\n%s%s", md.code, md.out, md.err)
	}
	golden(t, "review-platform.md", md.out)
	if again := cozyhrNoCluster(t, "-R", "apps", "diff", "--base", "base", "-o", "markdown"); again.out != md.out {
		t.Errorf("two runs differ:\n%s\n---\n%s", md.out, again.out)
	}
	certsDiff := cozyhrNoCluster(t, "-C", "apps/certs", "diff", "--base", "base", "-o", "json").out
	for _, noise := range []string{"password", "ca.crt", "tls.key", `"id"`} {
		if strings.Contains(certsDiff, noise) {
			t.Errorf("a seeded value shows as changed (%s):\n%s", noise, certsDiff)
		}
	}
	if !strings.Contains(certsDiff, "tier") {
		t.Errorf("the real change is missing:\n%s", certsDiff)
	}

	// Golden files of every chart and case: written, up to date, then stale.
	cozyhrNoCluster(t, "-R", "apps", "show", "--golden", "rendered").expect(t, 0)
	for _, f := range []string{"apps/cases/default.yaml", "apps/cases/ha.yaml", "apps/cases/tiny.yaml", "apps/certs/default.yaml", "apps/app/default.yaml"} {
		if _, err := os.Stat(filepath.Join("rendered", f)); err != nil {
			t.Errorf("golden file %s: %v", f, err)
		}
	}
	cozyhrNoCluster(t, "-R", "apps", "show", "--golden", "rendered", "--check").expect(t, 0)
	g.write("apps/cases/values-ha.yaml", "replicas: 7\n")
	stale := cozyhrNoCluster(t, "-R", "apps", "show", "--golden", "rendered", "--check")
	if stale.code != ExitChanges || !strings.Contains(stale.out, `+  replicas: "7"`) || !strings.Contains(stale.err, "stale") {
		t.Errorf("a stale golden file: exit %d\n%s%s", stale.code, stale.out, stale.err)
	}
	// A case taken away leaves its golden file stale; writing them again,
	// as --check advises, removes it.
	orphan := filepath.Join("rendered", "apps", "cases", "gone.yaml")
	g.write(orphan, "kind: ConfigMap\n")
	cozyhrNoCluster(t, "-R", "apps", "show", "--golden", "rendered").expect(t, 0)
	if _, err := os.Stat(orphan); !os.IsNotExist(err) {
		t.Errorf("the golden file of a case that no longer exists was kept: %v", err)
	}
	cozyhrNoCluster(t, "-R", "apps", "show", "--golden", "rendered", "--check").expect(t, 0)
	if one := cozyhrNoCluster(t, "-C", "apps/cases", "show", "--offline", "--case", "tiny"); !strings.Contains(one.out, `replicas: "0"`) {
		t.Errorf("show --case tiny:\n%s%s", one.out, one.err)
	}
}
