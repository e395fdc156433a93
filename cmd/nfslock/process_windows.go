//go:build windows

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// forwardedSignals are the signals nfslock passes on to its command:
// Ctrl-C (and Ctrl-Break), and the console's close, logoff and shutdown
// events, which Go delivers as SIGTERM.
var forwardedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// forward passes s to p. Windows delivers Ctrl-C to every process of the
// console already, and has no way to send SIGTERM: p is terminated.
func forward(p *os.Process, s os.Signal) error {
	if s == os.Interrupt {
		return nil
	}
	return p.Kill()
}

// terminate ends p when the lock was lost. Windows cannot ask a process
// to end, so it is terminated at once.
func terminate(p *os.Process) error { return p.Kill() }

const terminateName = "TerminateProcess"

// exitStatus is the exit code of the process.
func exitStatus(ps *os.ProcessState) int { return ps.ExitCode() }

// shellArgv runs command with %ComSpec% /C.
func shellArgv(command string) []string {
	sh := os.Getenv("ComSpec")
	if sh == "" {
		sh = "cmd.exe"
	}
	return []string{sh, "/C", command}
}

// detachedProcess is DETACHED_PROCESS: the process has no console.
const detachedProcess = 0x00000008

// detach makes cmd a background process with no console.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP | detachedProcess}
}
