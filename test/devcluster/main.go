// Command devcluster runs a local kube-apiserver and etcd with the Flux CRDs
// as a throwaway development cluster, for make demo. It creates the objects
// in the YAML files given after the directory, writes a kubeconfig, prints
// its path, and stops the cluster on SIGINT or SIGTERM.
//
//	devcluster [-flux CHART_DIR] KUBECONFIG_DIR [objects.yaml ...]
//
// With -flux it also runs the real helm-controller and source-controller,
// serves CHART_DIR from a Helm repository on 127.0.0.1, points every seeded
// HelmRepository at it, and turns off waiting in seeded HelmReleases (no
// kubelet runs Pods here).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	repo "helm.sh/helm/v4/pkg/repo/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/cozyhr/cozyhr/core/manifest"
	"github.com/cozyhr/cozyhr/test/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devcluster:", err)
		os.Exit(1)
	}
}

func run() error {
	chartDir := flag.String("flux", "", "run helm-controller and source-controller, serving this chart from a local Helm repository")
	flag.Parse()
	if flag.NArg() < 1 {
		return errors.New("usage: devcluster [-flux CHART_DIR] KUBECONFIG_DIR [objects.yaml ...]")
	}
	dir := flag.Arg(0)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := testenv.Start(dir)
	if err != nil {
		return err
	}
	defer env.Stop()
	var repoURL string
	if *chartDir != "" {
		if repoURL, err = serveChart(ctx, *chartDir, filepath.Join(dir, "repo")); err != nil {
			return err
		}
		flux, err := env.StartFlux(dir)
		if err != nil {
			return err
		}
		defer flux.Stop()
	}
	for _, file := range flag.Args()[1:] {
		if err := seed(ctx, env, file, repoURL); err != nil {
			return err
		}
	}
	fmt.Println(env.Kubeconfig)
	<-ctx.Done()
	return nil
}

// serveChart packages chartDir into a Helm repository served on 127.0.0.1.
func serveChart(ctx context.Context, chartDir, root string) (string, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", err
	}
	ch, err := loader.Load(chartDir)
	if err != nil {
		return "", err
	}
	if _, err := chartutil.Save(ch, root); err != nil {
		return "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	url := "http://" + l.Addr().String()
	index, err := repo.IndexDirectory(root, url)
	if err != nil {
		return "", err
	}
	data, err := sigsyaml.Marshal(index)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(root, "index.yaml"), data, 0o644); err != nil {
		return "", err
	}
	srv := &http.Server{Handler: http.FileServer(http.Dir(root))}
	go func() { _ = srv.Serve(l) }()
	go func() { <-ctx.Done(); _ = srv.Close() }()
	return url, nil
}

// seed creates every object in a YAML file, in order.
func seed(ctx context.Context, env *testenv.Env, file, repoURL string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	objs, err := manifest.ParseManifests(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for _, o := range objs {
		if repoURL != "" {
			if err := forLocalFlux(o.Unstructured, repoURL); err != nil {
				return fmt.Errorf("%s: %w", file, err)
			}
		}
		if err := env.Client.Create(ctx, o.Unstructured); err != nil {
			return fmt.Errorf("%s: create %s: %w", file, manifest.RefOf(o.Unstructured), err)
		}
	}
	return nil
}

// forLocalFlux points a HelmRepository at the local repository and stops a
// HelmRelease from waiting for Pods that never run here.
func forLocalFlux(u *unstructured.Unstructured, repoURL string) error {
	switch u.GetKind() {
	case "HelmRepository":
		return unstructured.SetNestedField(u.Object, repoURL, "spec", "url")
	case "HelmRelease":
		for _, action := range []string{"install", "upgrade"} {
			if err := unstructured.SetNestedField(u.Object, true, "spec", action, "disableWait"); err != nil {
				return err
			}
		}
	}
	return nil
}
