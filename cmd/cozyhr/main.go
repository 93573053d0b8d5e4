// Command cozyhr develops Helm charts that Flux delivers.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/cozyhr/cozyhr/cmd"
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	first := make(chan os.Signal, 1)
	go watchSignals(signals, cancel, first, os.Stderr, os.Exit)
	// After an interruption, Execute says in one line what was left.
	err := cmd.Execute(ctx, os.Args[1:], cmd.IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	code := cmd.ExitCode(err)
	if code == cmd.ExitInterrupted {
		select {
		case sig := <-first:
			code = exitCode(sig)
		default:
		}
	}
	os.Exit(code)
}

// watchSignals stops the run at the first SIGINT or SIGTERM, by cancelling
// its context: every long step stops, revision trees and locks are
// removed, and Helm marks an in-flight release failed instead of leaving
// it pending, so that the next apply repairs it. The signal is handed to
// first. A second signal exits at once, through exit.
func watchSignals(signals <-chan os.Signal, cancel context.CancelFunc, first chan<- os.Signal, stderr io.Writer, exit func(int)) {
	sig := <-signals
	first <- sig
	cancel()
	sig = <-signals
	fmt.Fprintf(stderr, "cozyhr: %s again: exiting now, without cleaning up\n", sig)
	exit(exitCode(sig))
}

// exitCode is the shell's code for a process a signal ended: 128 and the
// signal's number (130 for SIGINT, 143 for SIGTERM).
func exitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return cmd.ExitInterrupted
}
