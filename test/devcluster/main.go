// Command devcluster runs a local kube-apiserver and etcd with the Flux CRDs
// as a throwaway development cluster, for make demo. It creates the objects
// in the YAML files given after the directory, writes a kubeconfig, prints
// its path, and stops the cluster on SIGINT or SIGTERM.
//
//	devcluster KUBECONFIG_DIR [objects.yaml ...]
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cozyhr/cozyhr/core"
	"github.com/cozyhr/cozyhr/test/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devcluster:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) < 2 {
		return fmt.Errorf("usage: devcluster KUBECONFIG_DIR [objects.yaml ...]")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := testenv.Start(os.Args[1])
	if err != nil {
		return err
	}
	for _, file := range os.Args[2:] {
		if err := seed(ctx, env, file); err != nil {
			_ = env.Stop()
			return err
		}
	}
	fmt.Println(env.Kubeconfig)
	<-ctx.Done()
	return env.Stop()
}

// seed creates every object in a YAML file, in order.
func seed(ctx context.Context, env *testenv.Env, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	objs, err := core.ParseManifests(data)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o.Unstructured); err != nil {
			return fmt.Errorf("%s: create %s: %w", file, core.RefOf(o.Unstructured), err)
		}
	}
	return nil
}
