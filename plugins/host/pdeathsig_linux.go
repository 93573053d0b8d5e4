package host

import (
	"os/exec"
	"syscall"
)

// DieWithParent has the kernel kill a child (a plugin, a hook, a build, a
// patch) when cozyhr dies, even by SIGKILL, when no Close can run.
func DieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
