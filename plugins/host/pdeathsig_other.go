//go:build !linux

package host

import "os/exec"

// dieWithParent: only Linux has a parent-death signal; elsewhere plugins
// end when cozyhr closes them.
func dieWithParent(*exec.Cmd) {}
