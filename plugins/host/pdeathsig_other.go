//go:build !linux

package host

import "os/exec"

// DieWithParent: only Linux has a parent-death signal; elsewhere children
// end when cozyhr closes them.
func DieWithParent(*exec.Cmd) {}
