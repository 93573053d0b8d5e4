package cmd

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	goyaml "go.yaml.in/yaml/v2"
	chartv4 "helm.sh/helm/v4/pkg/chart/v2"
	releasev4 "helm.sh/helm/v4/pkg/release/v1"
	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
)

// storedReleaseDigest recomputes, from Helm's storage Secret decoded by
// hand, the digest helm-controller records: sha256 of the JSON of its
// release observation built from Helm v4 types.
func storedReleaseDigest(t *testing.T, ns, name string, version int) string {
	t.Helper()
	var sec corev1.Secret
	key := types.NamespacedName{Namespace: ns, Name: fmt.Sprintf("sh.helm.release.v1.%s.v%d", name, version)}
	if err := env.Client.Get(context.Background(), key, &sec); err != nil {
		t.Fatal(err)
	}
	gz, err := base64.StdEncoding.DecodeString(string(sec.Data["release"]))
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var r releasev4.Release
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	var hooks []releasev4.Hook
	for _, h := range r.Hooks {
		hooks = append(hooks, *h)
	}
	obs := struct {
		Name          string           `json:"name"`
		Version       int              `json:"version"`
		Info          releasev4.Info   `json:"info"`
		ChartMetadata chartv4.Metadata `json:"chartMetadata"`
		Config        map[string]any   `json:"config"`
		Manifest      string           `json:"manifest"`
		Hooks         []releasev4.Hook `json:"hooks"`
		Namespace     string           `json:"namespace"`
	}{r.Name, r.Version, *r.Info, *r.Chart.Metadata, r.Config, r.Manifest, hooks, r.Namespace}
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(obs); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("sha256:%x", h.Sum(nil))
}

func yamlDigest(t *testing.T, v map[string]any) string {
	t.Helper()
	data, err := goyaml.Marshal(v) // yaml.v2 sorts map keys
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256(data))
}

func TestApplyRecordsTheReleaseInTheHelmReleaseStatus(t *testing.T) {
	const ns = "flux-status"
	dir := chartCopy(t, ns)
	createHelmRelease(t, ns, "hello", `{"replicas":2}`)

	cozyhr(t, "-C", dir, "apply").expect(t, 0)
	hr := getHelmRelease(t, ns, "hello")
	st := hr.Status
	if len(st.History) != 1 {
		t.Fatalf("history has %d snapshots, want 1", len(st.History))
	}
	snap := st.History[0]
	checks := []struct {
		field     string
		got, want any
	}{
		{"history[0].apiVersion", snap.APIVersion, helmv2.CurrentSnapshotAPIVersion},
		{"history[0].digest", snap.Digest, storedReleaseDigest(t, ns, "hello", 1)},
		{"history[0].name", snap.Name, "hello"},
		{"history[0].namespace", snap.Namespace, ns},
		{"history[0].version", snap.Version, 1},
		{"history[0].chartName", snap.ChartName, "hello"},
		{"history[0].chartVersion", snap.ChartVersion, "0.1.0"},
		{"history[0].appVersion", snap.AppVersion, "1.27"},
		{"history[0].configDigest", snap.ConfigDigest, yamlDigest(t, map[string]any{"replicas": 2})},
		{"history[0].status", snap.Status, "deployed"},
		{"history[0].action", snap.Action, helmv2.ReleaseActionInstall},
		{"history[0].firstDeployed set", snap.FirstDeployed.IsZero(), false},
		{"lastAttemptedReleaseAction", st.LastAttemptedReleaseAction, helmv2.ReleaseActionInstall},
		{"lastAttemptedRevision", st.LastAttemptedRevision, "0.1.0"},
		{"lastAttemptedConfigDigest", st.LastAttemptedConfigDigest, yamlDigest(t, map[string]any{"replicas": 2})},
		{"lastAttemptedGeneration", st.LastAttemptedGeneration, hr.Generation},
		{"observedGeneration", st.ObservedGeneration, hr.Generation},
		{"failures", st.Failures, int64(0)},
		{"storageNamespace", st.StorageNamespace, ns},
	}
	for _, typ := range []string{"Ready", "Released"} {
		c := apimeta.FindStatusCondition(st.Conditions, typ)
		if c == nil {
			t.Fatalf("no %s condition", typ)
		}
		checks = append(checks,
			struct {
				field     string
				got, want any
			}{typ + ".status", string(c.Status), "True"},
			struct {
				field     string
				got, want any
			}{typ + ".reason", c.Reason, helmv2.InstallSucceededReason},
			struct {
				field     string
				got, want any
			}{typ + ".message", c.Message, "Helm install succeeded for release " + ns + "/hello.v1 with chart hello@0.1.0"})
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}

	// An upgrade prepends its snapshot.
	cozyhr(t, "-C", dir, "apply", "--set", "message=again").expect(t, 0)
	hr = getHelmRelease(t, ns, "hello")
	if len(hr.Status.History) != 2 || hr.Status.History[0].Version != 2 || hr.Status.History[0].Action != helmv2.ReleaseActionUpgrade {
		t.Fatalf("after upgrade, history = %+v", hr.Status.History)
	}
	if got, want := hr.Status.History[0].Digest, storedReleaseDigest(t, ns, "hello", 2); got != want {
		t.Errorf("upgrade snapshot digest %s, want %s", got, want)
	}
	if c := apimeta.FindStatusCondition(hr.Status.Conditions, "Ready"); c == nil || c.Reason != helmv2.UpgradeSucceededReason {
		t.Errorf("Ready after upgrade: %+v", c)
	}
}
