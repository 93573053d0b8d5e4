package output

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/kube"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"

	"github.com/cozyhr/cozyhr/config"
)

// show --offline prints exactly what helm template (Helm 4) prints for the
// same chart and values: CRDs, resources and hooks, byte for byte.
func TestShowOfflineIsHelmTemplate(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "hello")
	cfg, err := config.Load(config.LoadOptions{Dir: dir, Overrides: map[string]any{"helmRelease.enabled": false, "release.namespace": "default"}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := (&core.Workspace{Config: cfg}).Desired(t.Context(), core.RenderOptions{TextOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := Show(&got, d, ShowOptions{ShowSecrets: true}); err != nil {
		t.Fatal(err)
	}

	ch, err := core.LoadChart(dir)
	if err != nil {
		t.Fatal(err)
	}
	install := action.NewInstall(action.NewConfiguration())
	install.DryRunStrategy, install.Replace, install.IncludeCRDs = action.DryRunClient, true, true
	install.ReleaseName, install.Namespace = cfg.Release.Name, "default"
	install.KubeVersion = &common.DefaultCapabilities.KubeVersion
	r, err := install.Run(ch, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	rel, err := kube.AsRelease(r)
	if err != nil {
		t.Fatal(err)
	}
	// helm template: the manifest (CRDs first) trimmed as a whole, then each hook.
	want := strings.TrimSpace(rel.Manifest) + "\n"
	for _, h := range rel.Hooks {
		want += "---\n# Source: " + h.Path + "\n" + h.Manifest + "\n"
	}
	if got.String() != want {
		t.Errorf("show differs from helm template:\n--- show\n%s\n--- helm template\n%s", got.String(), want)
		gl, wl := strings.Split(got.String(), "\n"), strings.Split(want, "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Logf("first difference at line %d: %q vs %q", i+1, gl[i], wl[i])
				break
			}
		}
	}
}
