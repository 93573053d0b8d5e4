package cmd

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/utils/ptr"
)

// An apply killed mid-way leaves Helm's release pending-upgrade, which plain
// helm then refuses to touch ("another operation is in progress"). The next
// cozyhr apply marks it failed and upgrades.
func TestApplyRepairsAReleaseLeftPendingByAnInterruptedRun(t *testing.T) {
	const ns = "apply-pending"
	dir := chartCopy(t, ns)
	cozyhr(t, "-C", dir, "apply").expect(t, 0)

	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &env.Kubeconfig
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	rel, err := cfg.Releases.Last("hello")
	if err != nil {
		t.Fatal(err)
	}
	rel.SetStatus(release.StatusPendingUpgrade, "killed")
	if err := cfg.Releases.Update(rel); err != nil {
		t.Fatal(err)
	}

	r := cozyhr(t, "-C", dir, "apply", "--set", "replicas=2").expect(t, 0)
	golden(t, "apply-repairs-pending", r.err)
	cozyhr(t, "-C", dir, "diff", "--set", "replicas=2", "--exit-code").expect(t, 0)
	if last, err := cfg.Releases.Last("hello"); err != nil || last.Info.Status != release.StatusDeployed || !strings.Contains(r.err, "revision 2") {
		t.Fatalf("release after repair: %+v, %v", last.Info, err)
	}
}

// cozyhr writes releases with Helm 4; plain-mode teams still on the helm v3
// CLI must be able to upgrade and roll back what it wrote. The helm v3 SDK
// here is what that CLI runs.
func TestHelmV3CanUpgradeAndRollBackWhatCozyhrWrote(t *testing.T) {
	const ns = "helm-v3-compat"
	dir := chartCopy(t, ns)
	cozyhr(t, "-C", dir, "apply", "--set", "replicas=2").expect(t, 0)

	flags := genericclioptions.NewConfigFlags(true)
	flags.KubeConfig = &env.Kubeconfig
	flags.Namespace = ptr.To(ns)
	cfg := new(action.Configuration)
	if err := cfg.Init(flags, ns, "secret", t.Logf); err != nil {
		t.Fatal(err)
	}
	ch, err := loader.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	up := action.NewUpgrade(cfg)
	up.Namespace = ns
	rel, err := up.Run("hello", ch, map[string]any{"replicas": 3})
	if err != nil {
		t.Fatalf("helm v3 upgrade of a release cozyhr wrote: %v", err)
	}
	if rel.Version != 2 || rel.Info.Status != release.StatusDeployed {
		t.Fatalf("helm v3 upgrade: revision %d %s", rel.Version, rel.Info.Status)
	}
	rb := action.NewRollback(cfg)
	rb.Version = 1
	if err := rb.Run("hello"); err != nil {
		t.Fatalf("helm v3 rollback to cozyhr's revision: %v", err)
	}
	last, err := cfg.Releases.Last("hello")
	if err != nil || last.Version != 3 || last.Info.Status != release.StatusDeployed || last.Config["replicas"] != float64(2) {
		t.Fatalf("after rollback: %+v %v, %v", last.Info, last.Config, err)
	}
	// And cozyhr takes the release back from there.
	cozyhr(t, "-C", dir, "diff", "--set", "replicas=2", "--exit-code").expect(t, 0)
	cozyhr(t, "-C", dir, "apply", "--set", "replicas=4").expect(t, 0)
}
