package cmd

import (
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/release"
	"k8s.io/cli-runtime/pkg/genericclioptions"
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
	golden(t, "apply-repairs-pending", r.out)
	cozyhr(t, "-C", dir, "diff", "--set", "replicas=2", "--exit-code").expect(t, 0)
	if last, err := cfg.Releases.Last("hello"); err != nil || last.Info.Status != release.StatusDeployed || !strings.Contains(r.out, "revision 2") {
		t.Fatalf("release after repair: %+v, %v", last.Info, err)
	}
}
