package conformance

import (
	"os"
	"os/exec"
	"syscall"
)

// inOwnHost makes cmd start in a UTS namespace of its own, where it can set
// a host name of its own, like a process on another machine; it reports
// whether it could (that takes root).
func inOwnHost(cmd *exec.Cmd) bool {
	if os.Geteuid() != 0 {
		return false
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUTS}
	return true
}

// setHostname sets the host name of this process's UTS namespace.
func setHostname(name string) error { return syscall.Sethostname([]byte(name)) }
