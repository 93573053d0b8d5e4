package main

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
)

// The first signal cancels the run and is kept for the exit code; the
// second exits at once with its own code.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	for _, c := range []struct {
		first, second os.Signal
		code          int
	}{
		{syscall.SIGINT, syscall.SIGINT, 130},
		{syscall.SIGTERM, syscall.SIGTERM, 143},
		{syscall.SIGINT, syscall.SIGTERM, 143},
	} {
		ctx, cancel := context.WithCancel(context.Background())
		signals, first := make(chan os.Signal, 2), make(chan os.Signal, 1)
		exited := make(chan int, 1)
		var stderr strings.Builder
		go watchSignals(signals, cancel, first, &stderr, func(code int) { exited <- code })
		signals <- c.first
		<-ctx.Done()
		if got := <-first; got != c.first {
			t.Errorf("first signal kept as %v, want %v", got, c.first)
		}
		select {
		case code := <-exited:
			t.Fatalf("exited (%d) at the first signal", code)
		default:
		}
		signals <- c.second
		if code := <-exited; code != c.code {
			t.Errorf("%v then %v: exit %d, want %d", c.first, c.second, code, c.code)
		}
		if !strings.Contains(stderr.String(), "again: exiting now") {
			t.Errorf("the second signal said %q", stderr.String())
		}
	}
}
