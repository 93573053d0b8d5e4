package snapshot_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"github.com/santhosh-tekuri/jsonschema/v6"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/core/snapshot"
	"github.com/cozyhr/cozyhr/schemas"
)

var taken = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func instance(ns, name string) *snapshot.Instance {
	return &snapshot.Instance{
		Chart:       "app",
		HelmRelease: &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
		Values:      map[string]any{"replicas": float64(2), "name": name},
		Lookups:     []snapshot.Lookup{{APIVersion: "v1", Kind: "ConfigMap", Namespace: ns, Name: "settings", Result: map[string]any{"data": map[string]any{"k": "v"}}}},
		Deployed:    &snapshot.Deployed{Revision: 3, Status: "deployed", ChartVersion: "1.0.0", Manifest: "kind: ConfigMap\n"},
	}
}

// write makes a snapshot of n instances and returns its path.
func write(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "snap.json")
	w, err := snapshot.Create(path, snapshot.Header{Taken: taken, Cluster: "sha256:abc", CozyhrVersion: "test",
		Capabilities: snapshot.Capabilities{KubeVersion: "v1.37.2", APIVersions: []string{"v1", "apps/v1"}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := w.Add(instance("ns"+string(rune('a'+i)), "app")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestASnapshotReadsBackAsWritten(t *testing.T) {
	path := write(t, 3)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600: a snapshot is for its owner only", fi.Mode().Perm())
	}
	h, err := snapshot.Open(path, time.Hour, taken.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if h.Format != snapshot.Format || h.Capabilities.KubeVersion != "v1.37.2" || !h.Taken.Equal(taken) {
		t.Errorf("header %+v", h)
	}
	var keys []string
	err = snapshot.Each(path, func(in *snapshot.Instance) error {
		keys = append(keys, in.Key())
		if in.Deployed.Revision != 3 || in.Lookups[0].Name != "settings" {
			t.Errorf("instance %+v", in)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(keys, ",") != "nsa/app,nsb/app,nsc/app" {
		t.Errorf("instances %v", keys)
	}
}

func TestABadSnapshotIsRefusedNamingTheFile(t *testing.T) {
	edit := func(t *testing.T, change func(string) string) string {
		path := write(t, 2)
		data, _ := os.ReadFile(path)
		os.WriteFile(path, []byte(change(string(data))), 0o600)
		return path
	}
	for name, tc := range map[string]struct {
		path func(t *testing.T) string
		now  time.Time
		want string
	}{
		"edited": {path: func(t *testing.T) string {
			return edit(t, func(s string) string { return strings.Replace(s, `"replicas":2`, `"replicas":3`, 1) })
		}, want: "does not match its digest: it was edited or cut"},
		"truncated": {path: func(t *testing.T) string {
			return edit(t, func(s string) string { return s[:len(s)/2] })
		}, want: "does not match its digest"},
		"not a snapshot": {path: func(t *testing.T) string {
			return edit(t, func(string) string { return "apiVersion: v1\nkind: ConfigMap\n" })
		}, want: "not a snapshot cozyhr wrote"},
		"missing": {path: func(t *testing.T) string { return filepath.Join(t.TempDir(), "none.json") }, want: "no such file"},
		"too old": {path: func(t *testing.T) string { return write(t, 1) }, now: taken.Add(49 * time.Hour), want: "taken 49h0m0s ago"},
	} {
		t.Run(name, func(t *testing.T) {
			path := tc.path(t)
			now := tc.now
			if now.IsZero() {
				now = taken
			}
			_, err := snapshot.Open(path, 48*time.Hour, now)
			var se *snapshot.Error
			if !errors.As(err, &se) || se.Path != path || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want a snapshot.Error naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

func TestAnotherFormatIsRefused(t *testing.T) {
	path := write(t, 1)
	data, _ := os.ReadFile(path)
	// A file of another format with a digest of its own: only the format
	// stops it.
	_, rest, _ := strings.Cut(string(data), "\n")
	rest = strings.Replace(rest, `"format":1`, `"format":9`, 1)
	os.WriteFile(path, []byte(snapshot.DigestLine([]byte(rest))+rest), 0o600)
	_, err := snapshot.Open(path, 0, taken)
	if err == nil || !strings.Contains(err.Error(), "format 9, and this cozyhr reads format 1") {
		t.Fatalf("error %v", err)
	}
}

func TestSecretsBecomeStablePlaceholders(t *testing.T) {
	s := snapshot.NewScrubber()
	a, b := s.Placeholder("hunter2-long-secret"), s.Placeholder("hunter2-long-secret")
	if a != b || !strings.HasPrefix(a, snapshot.PlaceholderPrefix) {
		t.Errorf("one value, two placeholders: %s %s", a, b)
	}
	if c := s.Placeholder("another-secret-value"); c == a {
		t.Errorf("two values, one placeholder")
	}
	if other := snapshot.NewScrubber().Placeholder("hunter2-long-secret"); other == a {
		t.Errorf("each snapshot's key is its own: the same placeholder in two gives a value away")
	}

	vals := map[string]any{"db": map[string]any{"password": "hunter2-long-secret", "port": float64(5432), "tls": true}, "plain": "kept"}
	s.Values(vals, [][]string{{"db", "password"}, {"db", "port"}, {"db", "tls"}})
	db := vals["db"].(map[string]any)
	if db["password"] != a || db["tls"] != true || vals["plain"] != "kept" || !strings.HasPrefix(db["port"].(string), snapshot.PlaceholderPrefix) {
		t.Errorf("values %v", vals)
	}

	secret := map[string]any{"kind": "Secret", "data": map[string]any{"token": base64.StdEncoding.EncodeToString([]byte("hunter2-long-secret"))},
		"stringData": map[string]any{"other": "s3cr3t"}}
	s.Object(secret)
	got, _ := base64.StdEncoding.DecodeString(secret["data"].(map[string]any)["token"].(string))
	if string(got) != a || strings.Contains(secret["stringData"].(map[string]any)["other"].(string), "s3cr3t") {
		t.Errorf("secret %v", secret)
	}

	doc := s.Text([]byte(`{"config":"url: postgres://u:hunter2-long-secret@db","short":"s3cr3t","text":"s3cr3tive"}`))
	if strings.Contains(string(doc), "hunter2") || strings.Contains(string(doc), `"s3cr3t"`) {
		t.Errorf("secret values left in %s", doc)
	}
	if !strings.Contains(string(doc), "s3cr3tive") {
		t.Errorf("a short secret is replaced only where it is a whole value: %s", doc)
	}
}

func TestASecretInAManifestIsScrubbed(t *testing.T) {
	s := snapshot.NewScrubber()
	out, err := s.Manifest("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: hunter2-long-secret\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  k: v\n")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "kind: ConfigMap") {
		t.Errorf("manifest %s", out)
	}
}

func TestLookupsAreAnsweredOrListed(t *testing.T) {
	answers := snapshot.Recorded([]snapshot.Lookup{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "a", Name: "cm", Result: map[string]any{"data": map[string]any{"k": "v"}}}})
	stubs := filepath.Join(t.TempDir(), "objects.yaml")
	os.WriteFile(stubs, []byte("apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: t, namespace: a}\n"), 0o600)
	objs, err := snapshot.ReadObjects(stubs)
	if err != nil {
		t.Fatal(err)
	}
	a := answers.Fresh().Also(objs)
	lookup := a.Func()
	if got, _ := lookup("v1", "ConfigMap", "a", "cm"); got["data"] == nil {
		t.Errorf("recorded call not answered: %v", got)
	}
	if got, _ := lookup("v1", "Secret", "a", "s"); got["kind"] != "Secret" {
		t.Errorf("object not answered: %v", got)
	}
	if got, _ := lookup("v1", "Secret", "a", ""); len(got["items"].([]any)) != 2 {
		t.Errorf("list not answered: %v", got)
	}
	if got, _ := lookup("v1", "ConfigMap", "a", "missing"); len(got) != 0 {
		t.Errorf("an unanswered lookup returns an empty map, as Helm's offline: %v", got)
	}
	lookup("v1", "ConfigMap", "a", "missing")
	if u := a.Unanswered(); len(u) != 1 || u[0] != `lookup "v1" "ConfigMap" "a" "missing"` {
		t.Errorf("unanswered %v", u)
	}
	if u := answers.Fresh().Unanswered(); len(u) != 0 {
		t.Errorf("a fresh copy has nothing unanswered: %v", u)
	}
}

func TestABadObjectsFileNamesTheDocument(t *testing.T) {
	path := filepath.Join(t.TempDir(), "objects.yaml")
	os.WriteFile(path, []byte("apiVersion: v1\nkind: ConfigMap\n---\nfoo: bar\n"), 0o600)
	_, err := snapshot.ReadObjects(path)
	if err == nil || !strings.Contains(err.Error(), path+": document 2 has no apiVersion or kind") {
		t.Fatalf("error %v", err)
	}
}

func TestTheRecorderKeepsEachCallOnceScrubbed(t *testing.T) {
	r := &snapshot.Recorder{Scrub: snapshot.NewScrubber(), Next: func(_, kind, _, name string) (map[string]any, error) {
		return map[string]any{"kind": kind, "data": map[string]any{"p": base64.StdEncoding.EncodeToString([]byte("hunter2-long-secret"))}}, nil
	}}
	f := r.Func()
	res, _ := f("v1", "Secret", "a", "s")
	f("v1", "Secret", "a", "s")
	if len(r.Got) != 1 {
		t.Fatalf("recorded %d calls, want 1", len(r.Got))
	}
	got, _ := base64.StdEncoding.DecodeString(r.Got[0].Result["data"].(map[string]any)["p"].(string))
	if strings.Contains(string(got), "hunter2") {
		t.Errorf("recorded in clear")
	}
	clear, _ := base64.StdEncoding.DecodeString(res["data"].(map[string]any)["p"].(string))
	if string(clear) != "hunter2-long-secret" {
		t.Errorf("the template must see the value itself, got %s", clear)
	}
}

// A snapshot as written is valid by schemas/cozyhr-snapshot.schema.json.
func TestASnapshotFollowsItsSchema(t *testing.T) {
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(schemas.Snapshot))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("snapshot.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("snapshot.json")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(write(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	first, rest, _ := strings.Cut(string(data), "\n")
	// The first line opens the object with the digest.
	whole, err := jsonschema.UnmarshalJSON(strings.NewReader(first + rest))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(whole); err != nil {
		t.Fatal(err)
	}
}

// EachOf hands over only the instances its filter keeps, and never decodes
// the others whole: an instance left out may even hold what its type
// cannot take.
func TestEachOfDecodesOnlyTheInstancesKept(t *testing.T) {
	path := write(t, 3)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// nsa's values become a string (after Open: EachOf reads, not checks).
	broken := strings.Replace(string(data), `"values":{"name":"app","replicas":2}`, `"values":"not a map"`, 1)
	if broken == string(data) {
		t.Fatalf("the values were not found in:\n%s", data)
	}
	if err := os.WriteFile(path, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	var keys []string
	err = snapshot.EachOf(path, func(hr *helmv2.HelmRelease) (bool, error) { return hr.Namespace != "nsa", nil }, func(in *snapshot.Instance) error {
		keys = append(keys, in.Key())
		return nil
	})
	if err != nil || strings.Join(keys, ",") != "nsb/app,nsc/app" {
		t.Errorf("EachOf: %v, %v", keys, err)
	}
	if err := snapshot.Each(path, func(*snapshot.Instance) error { return nil }); err == nil || !strings.Contains(err.Error(), "instances[0]") {
		t.Errorf("Each decodes every instance, and should refuse the broken one: %v", err)
	}
}

// BenchmarkEachOf reads 1,000 instances for the tenth of them one chart
// has (a run over ten charts reads the file ten times), against Each,
// which decodes every instance whole.
func BenchmarkEachOf(b *testing.B) {
	path := filepath.Join(b.TempDir(), "snap.json")
	w, err := snapshot.Create(path, snapshot.Header{Taken: taken})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 1000 {
		in := instance(fmt.Sprintf("ns%04d", i), "app")
		in.Deployed.Manifest = strings.Repeat("kind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: v\n---\n", 50)
		if err := w.Add(in); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	tenth := func(hr *helmv2.HelmRelease) (bool, error) { return strings.HasSuffix(hr.Namespace, "0"), nil }
	b.Run("EachOf", func(b *testing.B) {
		for b.Loop() {
			if err := snapshot.EachOf(path, tenth, func(*snapshot.Instance) error { return nil }); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Each", func(b *testing.B) {
		for b.Loop() {
			err := snapshot.Each(path, func(in *snapshot.Instance) error { _, _ = tenth(in.HelmRelease); return nil })
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
