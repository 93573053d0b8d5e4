package fleet_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	helmv2 "github.com/fluxcd/helm-controller/api/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cozyhr/cozyhr/config"
	"github.com/cozyhr/cozyhr/core/fleet"
)

// List the live instances of a chart with core alone: the HelmReleases
// whose release was made from it, each with its release's name as
// helm-controller makes it (test/flux's TestEveryLiveInstance has the real
// controller install one with a targetNamespace). The tests' API server
// stands for a cluster: any controller-runtime client does.
func ExampleList() {
	if env == nil {
		fmt.Println("no API server: KUBEBUILDER_ASSETS is not set (make test sets it)")
		return
	}
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "cozyhr-example-")
	defer os.RemoveAll(dir)
	_ = os.WriteFile(filepath.Join(dir, "Chart.yaml"), []byte("apiVersion: v2\nname: postgres\nversion: 1.0.0\n"), 0o644)
	for _, ns := range []string{"example-tenant-a", "example-tenant-b"} {
		_ = env.CreateNamespace(ctx, ns)
		_ = env.Client.Create(ctx, &helmv2.HelmRelease{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "db"},
			Spec: helmv2.HelmReleaseSpec{Interval: metav1.Duration{Duration: time.Hour}, TargetNamespace: ns + "-data",
				Chart: &helmv2.HelmChartTemplate{Spec: helmv2.HelmChartTemplateSpec{Chart: "postgres",
					SourceRef: helmv2.CrossNamespaceObjectReference{Kind: "HelmRepository", Name: "charts"}}}},
		})
	}

	chart, err := config.Load(config.LoadOptions{Dir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	found, err := fleet.List(ctx, env.Client, fleet.Query{Chart: chart})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, hr := range found {
		in := fleet.Describe(&hr)
		fmt.Printf("HelmRelease %s: release %s/%s\n", in.Key(), in.ReleaseNamespace, in.Release)
	}
	// Output:
	// HelmRelease example-tenant-a/db: release example-tenant-a-data/example-tenant-a-data-db
	// HelmRelease example-tenant-b/db: release example-tenant-b-data/example-tenant-b-data-db
}
