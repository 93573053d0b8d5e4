// Command cozyhr develops Helm charts that Flux delivers.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cozyhr/cozyhr/cmd"
	"github.com/cozyhr/cozyhr/core"
)

func main() {
	// Ctrl-C cancels the context: Helm then marks an in-flight release
	// failed instead of leaving it pending, and the next apply repairs it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cmd.Execute(ctx, os.Args[1:], cmd.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	interrupted := ctx.Err() != nil
	stop()
	if interrupted && err != nil {
		// 128+SIGINT, as shells report it.
		fmt.Fprintln(os.Stderr, "cozyhr: interrupted; nothing more was done. A release left pending or failed is repaired by the next cozyhr apply; a suspended HelmRelease stays suspended until cozyhr resume.")
		os.Exit(130)
	}
	os.Exit(core.ExitCode(err))
}
