package cmd

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// sharedCharts is where the real umbrella charts live beside the repository;
// the cases skip cleanly where they are absent.
var sharedCharts = filepath.Join("..", "..", "shared", "charts")

// TestSharedChartsApplyThenDiffClean applies each real umbrella chart with
// its own values and expects the diff against the live objects to be empty:
// the strongest check that normalisation removes server noise.
func TestSharedChartsApplyThenDiffClean(t *testing.T) {
	if _, err := os.Stat(sharedCharts); err != nil {
		t.Skipf("no shared charts at %s", sharedCharts)
	}
	ctx := context.Background()
	if err := env.SharedChartPrerequisites(ctx); err != nil {
		t.Fatal(err)
	}
	// ingress-nginx creates cert-manager Certificates: it runs before
	// cert-manager, whose admission webhook would otherwise be called for
	// them (at a ClusterIP, which must never be dialled from here). Each
	// chart is deleted before the next one for the same reason.
	for _, chart := range []string{"ingress-nginx", "cert-manager", "kubeovn", "metallb"} {
		t.Run(chart, func(t *testing.T) {
			dir := filepath.Join(sharedCharts, chart)
			if _, err := os.Stat(dir); err != nil {
				t.Skipf("no chart %s", dir)
			}
			// The charts hard-code their cozystack namespace in places (kubeovn).
			ns := "cozy-" + chart
			cfg := filepath.Join(t.TempDir(), "cozyhr.yaml")
			writeFile(t, cfg, "apiVersion: cozyhr.io/v1alpha1\nkind: Chart\nrelease:\n  name: "+chart+"\n  namespace: "+ns+"\n")
			args := []string{"-C", dir, "--config", cfg}
			cozyhr(t, append(args, "show")...).expect(t, 0)
			// No kubelet runs hook Jobs here, so hooks would never finish.
			cozyhr(t, append(args, "apply", "--disable-hooks", "--timeout", "1m")...).expect(t, 0)
			r := cozyhr(t, append(args, "diff", "--exit-code")...)
			if r.code != 0 {
				t.Fatalf("diff after apply is not clean (exit %d):\n%s\n%s", r.code, r.out, r.err)
			}
			cozyhr(t, append(args, "delete", "--disable-hooks", "--timeout", "1m")...).expect(t, 0)
		})
	}
}
