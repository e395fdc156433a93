//go:build windows

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// forwardedSignals are the signals that end a wait for the lock: Ctrl-C
// (and Ctrl-Break), and the console's close, logoff and shutdown events,
// which Go delivers as SIGTERM.
var forwardedSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

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
