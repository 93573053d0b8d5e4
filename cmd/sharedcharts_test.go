package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/test/testenv"
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
	// kubeovn's templates look up a control-plane Node.
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "control-plane-0", Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""}}}
	if err := env.Client.Create(ctx, node); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "192.0.2.10"}}
	if err := env.Client.Status().Update(ctx, node); err != nil {
		t.Fatal(err)
	}
	// ingress-nginx issues its webhook certificates with cert-manager, whose
	// CRDs the cozystack cert-manager chart splits into another chart.
	for _, kind := range []string{"Certificate", "Issuer"} {
		if err := env.Client.Create(ctx, testenv.StubCRD("cert-manager.io", kind)); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
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
