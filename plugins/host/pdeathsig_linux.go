package host

import (
	"os/exec"
	"syscall"
	"time"
)

// DieWithParent has the kernel kill a child (a plugin, a hook, a build, a
// patch) when cozyhr dies, even by SIGKILL, when no Close can run. The
// child leads a process group of its own, and a cancelled context
// (exec.CommandContext) kills the whole group: a hook that is a shell
// script would otherwise leave its own children running, holding the
// output pipe open, and cozyhr waiting for them after Ctrl-C.
func DieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if cmd.Cancel != nil {
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		// Whatever still holds the pipes once the group is gone.
		cmd.WaitDelay = 5 * time.Second
	}
}
