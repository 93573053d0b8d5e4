//go:build unix

package lock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ProcessGone reports whether process pid has ended on this machine: it
// does not exist, or it is a zombie, killed but not yet reaped by its
// parent (Linux shows that state in /proc).
func ProcessGone(pid int) bool {
	if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (command) state ...: the command may hold spaces and parentheses.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
