//go:build !linux

package host

import (
	"os/exec"
	"time"
)

// DieWithParent: only Linux has a parent-death signal; elsewhere children
// end when cozyhr closes them. A cancelled command stops waiting for its
// output pipes soon after its process is killed.
func DieWithParent(cmd *exec.Cmd) {
	if cmd.Cancel != nil {
		cmd.WaitDelay = 5 * time.Second
	}
}
