// Command devcluster runs a local kube-apiserver and etcd with the Flux CRDs
// as a throwaway development cluster, for make demo. It writes a kubeconfig,
// prints its path, and stops the cluster on SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cozyhr/cozyhr/test/testenv"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "devcluster:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: devcluster KUBECONFIG_DIR")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := testenv.Start(os.Args[1])
	if err != nil {
		return err
	}
	fmt.Println(env.Kubeconfig)
	<-ctx.Done()
	return env.Stop()
}
