//go:build unix

package lock

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// A holder killed but not yet reaped by its parent (a zombie, as after
// SIGKILL from another shell) has ended: its lock may be taken over.
func TestProcessGoneSeesZombies(t *testing.T) {
	if ProcessGone(os.Getpid()) {
		t.Fatal("this process is reported gone")
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Skip("no sleep:", err)
	}
	pid := cmd.Process.Pid
	if ProcessGone(pid) {
		t.Fatal("a running child is reported gone")
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !ProcessGone(pid) { // a zombie until Wait below reaps it
		if time.Now().After(deadline) {
			t.Fatal("a killed, unreaped child is not reported gone")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = cmd.Wait()
	if !ProcessGone(pid) {
		t.Error("a reaped child is not reported gone")
	}
}
