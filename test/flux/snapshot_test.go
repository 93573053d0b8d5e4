package flux_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cozyhr/cozyhr/cmd"
	"github.com/cozyhr/cozyhr/test/testgit"
)

// The secret values the snapshot must never hold, nor anything made from it.
const (
	valuesSecret = "s3cret-from-valuesFrom-7731"
	lookedUp     = "s3cret-looked-up-5520"
)

// TestASnapshotReviewsWhatTheLiveFleetShows installs instances of a chart
// with helm-controller (inline values, valuesFrom a ConfigMap and a
// Secret, a targetNamespace, templates that look up a ConfigMap and a
// Secret), takes a snapshot, and then, with a kubeconfig that reaches no
// server, reviews a change from the snapshot: each instance's changes are
// those the live diff --instances shows for the same change.
func TestASnapshotReviewsWhatTheLiveFleetShows(t *testing.T) {
	ctx := context.Background()
	repoGit := testgit.New(t)
	repoGit.Write(map[string]string{
		"snap/Chart.yaml":  "apiVersion: v2\nname: snap\nversion: 0.1.0\n",
		"snap/values.yaml": "replicas: 1\nsize: small\n",
		"snap/templates/cm.yaml": `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  replicas: {{ .Values.replicas | quote }}
  size: {{ .Values.size | quote }}
  region: {{ (lookup "v1" "ConfigMap" "platform" "settings").data.region | default "none" | quote }}
`,
		"snap/templates/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: {{ .Release.Name }}-creds
data:
  password: {{ .Values.password | default "unset" | b64enc | quote }}
  upstream: {{ (lookup "v1" "Secret" "platform" "upstream").data.token | default "" | quote }}
`,
	})
	base := repoGit.Commit("the chart")
	dir := repoGit.Path("snap")
	repo := newRepo(t)
	(&fluxChart{Dir: dir, repo: repo}).publish(t)

	createNamespace(t, "platform")
	mustCreate(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "platform"}, Data: map[string]string{"region": "eu-west"}})
	mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "upstream", Namespace: "platform"}, StringData: map[string]string{"token": lookedUp}})
	instances := map[string]func(*helmv2.HelmRelease){
		"snap-inline": func(hr *helmv2.HelmRelease) { hr.Spec.Values = jsonValues(t, `{"replicas": 3}`) },
		"snap-cm": func(hr *helmv2.HelmRelease) {
			hr.Spec.ValuesFrom = []helmv2.ValuesReference{{Kind: "ConfigMap", Name: "tenant"}}
		},
		"snap-secret": func(hr *helmv2.HelmRelease) {
			hr.Spec.ValuesFrom = []helmv2.ValuesReference{{Kind: "Secret", Name: "tenant", ValuesKey: "password", TargetPath: "password"}}
		},
		"snap-target": func(hr *helmv2.HelmRelease) { hr.Spec.TargetNamespace = "snap-target-objects" },
	}
	createNamespace(t, "snap-target-objects")
	for ns, mutate := range instances {
		createNamespace(t, ns)
		mustCreate(t, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: ns}, Data: map[string]string{"values.yaml": "size: large\n"}})
		mustCreate(t, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: ns}, StringData: map[string]string{"password": valuesSecret}})
		hr := (&fluxChart{Name: "snap", Namespace: ns, Dir: dir, repo: repo}).helmRelease(t, mutate)
		key := client.ObjectKeyFromObject(hr)
		t.Cleanup(func() { deleteAndWait(t, key) })
	}
	for ns := range instances {
		waitReady(t, client.ObjectKey{Namespace: ns, Name: "snap"}, 2*time.Minute)
	}

	snap := filepath.Join(t.TempDir(), "prod.json")
	took := cozyhr(t, "-C", dir, "snapshot", "-f", snap).expect(t, 0)
	if !strings.Contains(took.err, "wrote 4 instances of 1 charts") {
		t.Errorf("snapshot said:\n%s", took.err)
	}
	data, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{valuesSecret, lookedUp} {
		if strings.Contains(string(data), secret) {
			t.Errorf("the snapshot holds the secret value %q in clear", secret)
		}
	}

	// The change: a template change every instance gets, and one that
	// depends on each one's values.
	writeFile(t, filepath.Join(dir, "templates", "cm.yaml"), `apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-config
data:
  replicas: {{ mul .Values.replicas 2 | quote }}
  size: {{ .Values.size | quote }}
  region: {{ (lookup "v1" "ConfigMap" "platform" "settings").data.region | default "none" | quote }}
  greeting: hello
`)
	live := cozyhr(t, "-C", dir, "diff", "--instances", "-o", "json").expect(t, 0)

	// Offline: a kubeconfig whose server nothing answers. Any API request
	// would fail the run.
	dead := filepath.Join(t.TempDir(), "dead.kubeconfig")
	writeFile(t, dead, "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster: {server: 'https://127.0.0.1:1'}\ncontexts:\n- name: dead\n  context: {cluster: dead, user: dead}\ncurrent-context: dead\nusers:\n- name: dead\n  user: {token: none}\n")
	offline := cozyhrWith(t, dead, "-C", dir, "diff", "--base", base, "--instances", "--snapshot", snap, "-o", "json").expect(t, 0)
	if got, want := changesByInstance(t, offline.out), changesByInstance(t, live.out); !equalChanges(got, want) {
		t.Errorf("from the snapshot:\n%v\nlive:\n%v\nsnapshot stderr:\n%s", got, want, offline.err)
	}
	if strings.Contains(offline.out, "not at the base revision") {
		t.Errorf("production is at the base revision, yet:\n%s", offline.out)
	}
	human := cozyhrWith(t, dead, "-C", dir, "diff", "--base", base, "--instances", "--snapshot", snap).expect(t, 0)
	md := cozyhrWith(t, dead, "-C", dir, "diff", "--base", base, "--instances", "--snapshot", snap, "-o", "markdown").expect(t, 0)
	for _, out := range []string{offline.out, offline.err, human.out, human.err, md.out} {
		for _, secret := range []string{valuesSecret, lookedUp} {
			if strings.Contains(out, secret) {
				t.Errorf("an output holds the secret value %q:\n%s", secret, out)
			}
		}
	}
	if !strings.Contains(md.out, "snapshot taken") || !strings.Contains(human.out, "4 instances, the same change") {
		t.Errorf("markdown:\n%s\nhuman:\n%s", md.out, human.out)
	}

	// show renders each instance from the snapshot, offline too.
	shown := cozyhrWith(t, dead, "-C", dir, "show", "--instances", "--snapshot", snap).expect(t, 0)
	for _, want := range []string{"# HelmRelease snap-inline/snap", `replicas: "6"`, "region: eu-west", "# HelmRelease snap-target/snap (release snap-target-objects/snap-target-objects-snap)"} {
		if !strings.Contains(shown.out, want) {
			t.Errorf("show --instances --snapshot lacks %q:\n%s", want, shown.out)
		}
	}
	if strings.Contains(shown.out, valuesSecret) || strings.Contains(shown.out, lookedUp) {
		t.Errorf("show printed a secret value:\n%s", shown.out)
	}
	changed := cozyhrWith(t, dead, "-C", dir, "changed", "--base", base, "--snapshot", snap, "-o", "json").expect(t, 0)
	if !strings.Contains(changed.out, `"snap-cm/snap"`) || !strings.Contains(changed.out, `"instances"`) {
		t.Errorf("changed --snapshot:\n%s", changed.out)
	}

	// Shards split the instances: each in exactly one.
	var sharded []string
	for _, k := range []string{"1/3", "2/3", "3/3"} {
		r := cozyhrWith(t, dead, "-C", dir, "diff", "--base", base, "--instances", "--snapshot", snap, "-o", "json", "--shard", k).expect(t, 0)
		for key := range changesByInstance(t, r.out) {
			sharded = append(sharded, key)
		}
	}
	slices.Sort(sharded)
	if strings.Join(sharded, ",") != "snap-cm/snap,snap-inline/snap,snap-secret/snap,snap-target/snap" {
		t.Errorf("shards hold %v", sharded)
	}

	// Production moved on without the repository: said per instance.
	cm := &corev1.ConfigMap{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: "platform", Name: "settings"}, cm); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "templates", "extra.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-extra\n")
	newBase := repoGit.Commit("an extra object production does not have")
	drift := cozyhrWith(t, dead, "-C", dir, "diff", "--base", newBase, "--instances", "--snapshot", snap).expect(t, 0)
	if !strings.Contains(drift.out, "production is not at the base revision") {
		t.Errorf("a base production is not at:\n%s", drift.out)
	}

	// A snapshot edited by hand is refused, naming the file.
	edited := filepath.Join(t.TempDir(), "edited.json")
	writeFile(t, edited, strings.Replace(string(data), `"replicas":3`, `"replicas":4`, 1))
	bad := cozyhrWith(t, dead, "-C", dir, "diff", "--base", base, "--instances", "--snapshot", edited)
	if bad.code != 1 || !strings.Contains(bad.err, "snapshot "+edited+": its content does not match its digest") {
		t.Errorf("an edited snapshot: exit %d\n%s", bad.code, bad.err)
	}

	// Too old a snapshot is refused, naming the file.
	old := cozyhrWith(t, dead, "-C", dir, "diff", "--base", base, "--instances", "--snapshot", snap, "--max-age", "1ns")
	if old.code != 1 || !strings.Contains(old.err, "snapshot "+snap) || !strings.Contains(old.err, "take a new one") {
		t.Errorf("an old snapshot: exit %d\n%s", old.code, old.err)
	}
}

func mustCreate(t *testing.T, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Client.Delete(context.Background(), obj) })
}

// changesByInstance reads a fleet report's changes: instance → sorted
// "action object path" lines.
func changesByInstance(t *testing.T, out string) map[string][]string {
	t.Helper()
	var rep struct {
		Instances []struct {
			Namespace, Name, Error string
			Report                 *struct {
				Changes []struct {
					Action, Kind, Namespace, Name string
					Fields                        []struct{ Path string }
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	got := map[string][]string{}
	for _, in := range rep.Instances {
		key := in.Namespace + "/" + in.Name
		got[key] = []string{}
		if in.Error != "" {
			got[key] = append(got[key], "error: "+in.Error)
		}
		if in.Report == nil {
			continue
		}
		for _, c := range in.Report.Changes {
			for _, f := range c.Fields {
				got[key] = append(got[key], c.Action+" "+c.Kind+"/"+c.Namespace+"/"+c.Name+" "+f.Path)
			}
			if len(c.Fields) == 0 {
				got[key] = append(got[key], c.Action+" "+c.Kind+"/"+c.Namespace+"/"+c.Name)
			}
		}
		slices.Sort(got[key])
	}
	return got
}

func equalChanges(a, b map[string][]string) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// cozyhrWith runs the real root command with another kubeconfig.
func cozyhrWith(t *testing.T, kubeconfig string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	err := cmd.Execute(context.Background(), append([]string{"--kubeconfig", kubeconfig}, args...), cmd.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return result{out: out.String(), err: errOut.String(), code: cmd.ExitCode(err)}
}
