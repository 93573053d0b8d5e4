package host

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/cozyhr/cozyhr/plugins/sdk"
)

// BenchmarkPostProcessRoundTrip measures what a plugin costs on top of its
// own work: the whole stream of 2,000 ConfigMaps to a pass-through plugin
// and back over gRPC, the process started once (go test -bench . ./plugins/host).
func BenchmarkPostProcessRoundTrip(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "cozyhr-plugin-faulty")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./test/plugins/faulty")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	var stream strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&stream, "---\n# Source: bench/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  key: %s\n", i, strings.Repeat("x", 200))
	}
	manifests := []byte(stream.String())
	h := New(Options{Dirs: []string{}})
	defer h.Close()
	ctx := context.Background()
	pp, err := h.PostProcessor(ctx, Spec{Name: "faulty", Path: bin, Stage: "post-process", Field: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	req := &sdk.PostProcessRequest{Manifests: manifests, Config: []byte(`{"mode":"ok"}`)}
	b.SetBytes(int64(len(manifests)))
	b.ResetTimer()
	for range b.N {
		if _, err := pp.PostProcess(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
