package output

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/core/kube"
	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"

	"github.com/cozyhr/cozyhr/config"
)

// sharedChart returns a chart from ../shared/charts, or skips.
func sharedChart(b *testing.B, name string) string {
	dir := filepath.Join("..", "..", "..", "shared", "charts", name)
	if _, err := os.Stat(dir); err != nil {
		b.Skipf("no shared chart %s", dir)
	}
	return dir
}

// BenchmarkShowOffline is cozyhr show --offline without process start-up.
func BenchmarkShowOffline(b *testing.B) {
	dir := sharedChart(b, "kubeovn")
	cfg, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	w := &core.Workspace{Config: cfg}
	b.ReportAllocs()
	for b.Loop() {
		d, err := w.Desired(b.Context(), core.RenderOptions{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Show(io.Discard, d, ShowOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHelmTemplate is what helm template does for the same chart.
func BenchmarkHelmTemplate(b *testing.B) {
	dir := sharedChart(b, "kubeovn")
	b.ReportAllocs()
	for b.Loop() {
		ch, err := core.LoadChart(dir)
		if err != nil {
			b.Fatal(err)
		}
		install := action.NewInstall(action.NewConfiguration())
		install.DryRunStrategy, install.Replace, install.IncludeCRDs = action.DryRunClient, true, true
		install.ReleaseName, install.Namespace = "kubeovn", "default"
		install.KubeVersion = &common.DefaultCapabilities.KubeVersion
		r, err := install.Run(ch, map[string]any{})
		if err != nil {
			b.Fatal(err)
		}
		rel, err := kube.AsRelease(r)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.WriteString(io.Discard, rel.Manifest)
	}
}
