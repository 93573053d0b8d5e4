package core_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	"helm.sh/helm/v4/pkg/chart/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/snapshot"
)

// recorded are the inputs of HelmRelease tenant/web as a snapshot holds
// them: its values, one lookup, Kubernetes 1.31 and revision 4.
func recorded() *core.Recorded {
	kv, _ := common.ParseKubeVersion("v1.31.5")
	return &core.Recorded{
		HelmRelease:  &helmv2.HelmRelease{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant", Name: "web"}, Spec: helmv2.HelmReleaseSpec{TargetNamespace: "tenant-objects"}},
		Values:       map[string]any{"greeting": "from production", "password": snapshot.PlaceholderPrefix + "0123"},
		Capabilities: &common.Capabilities{KubeVersion: *kv, APIVersions: common.VersionSet{"v1", "example.com/v1"}},
		Lookups: snapshot.Recorded([]snapshot.Lookup{{APIVersion: "v1", Kind: "ConfigMap", Namespace: "platform", Name: "settings",
			Result: map[string]any{"data": map[string]any{"region": "eu-west"}}}}),
		Revision: 4,
	}
}

func TestARecordedInstanceRendersAsProductionWithNoCluster(t *testing.T) {
	cfg := plainChart(t, "ignored", "")
	writeTemplate(t, cfg.Dir, "facts.yaml", `apiVersion: v1
kind: ConfigMap
metadata:
  name: facts
data:
  region: {{ (lookup "v1" "ConfigMap" "platform" "settings").data.region | default "none" | quote }}
  other: {{ (lookup "v1" "ConfigMap" "platform" "other").data | toJson | quote }}
  kube: {{ .Capabilities.KubeVersion.Minor | quote }}
  crd: {{ .Capabilities.APIVersions.Has "example.com/v1" | quote }}
  revision: {{ .Release.Revision | quote }}
  upgrade: {{ .Release.IsUpgrade | quote }}
`)
	w := &core.Workspace{Config: cfg, Recorded: recorded()}
	d, err := w.Desired(context.Background(), core.RenderOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Target.ReleaseName != "tenant-objects-web" || d.Target.Namespace != "tenant-objects" || d.Target.HelmReleaseKey.String() != "tenant/web" {
		t.Errorf("target %+v: the recorded HelmRelease names the release", d.Target)
	}
	text := renderedText(t, d)
	for _, want := range []string{`greeting: from production`, `region: eu-west`, `other: "null"`, `kube: "31"`, `crd: "true"`, `revision: "5"`, `upgrade: "true"`} {
		if !strings.Contains(text, want) {
			t.Errorf("render lacks %s:\n%s", want, text)
		}
	}
	if len(d.Unanswered) != 1 || !strings.Contains(d.Unanswered[0], `"other"`) {
		t.Errorf("unanswered %v, want the lookup of platform/other", d.Unanswered)
	}
}

func TestCompareDeployedLeavesHooksAndCRDsOut(t *testing.T) {
	cfg := plainChart(t, "ignored", "")
	writeTemplate(t, cfg.Dir, "hook.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hook\n  annotations:\n    helm.sh/hook: pre-install\n")
	w := &core.Workspace{Config: cfg, Recorded: recorded()}
	d, err := w.Desired(context.Background(), core.RenderOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The deployed release: the settings ConfigMap with another greeting,
	// the Secret as it is.
	var deployed []string
	for _, o := range d.Rendered.Manifests {
		text, _ := o.Text()
		deployed = append(deployed, strings.Replace(string(text), "from production", "older", 1))
	}
	res, err := core.CompareDeployed(context.Background(), strings.Join(deployed, "\n---\n"), d, core.DiffOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a, c, r := res.Counts(); a != 0 || c != 1 || r != 0 {
		t.Errorf("counts %d %d %d, want the one changed ConfigMap (the hook is no part of a release manifest)", a, c, r)
	}
}

func writeTemplate(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "templates", name), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// renderedText is a render's resources as one text.
func renderedText(t *testing.T, d *core.Desired) string {
	t.Helper()
	var b strings.Builder
	for _, o := range d.Rendered.Manifests {
		text, err := o.Text()
		if err != nil {
			t.Fatal(err)
		}
		b.Write(text)
		b.WriteString("\n---\n")
	}
	return b.String()
}
