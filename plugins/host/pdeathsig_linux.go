package host

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill the plugin when cozyhr dies, even by
// SIGKILL, when no Close can run.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
