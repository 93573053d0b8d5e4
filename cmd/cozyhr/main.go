// Command cozyhr develops Helm charts that Flux delivers.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/cozyhr/cozyhr/cmd"
)

func main() {
	// Ctrl-C cancels the context: Helm then marks an in-flight release
	// failed instead of leaving it pending, and the next apply repairs it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After Ctrl-C, Execute says in one line what was left and exits 130.
	err := cmd.Execute(ctx, os.Args[1:], cmd.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(cmd.ExitCode(err))
}
