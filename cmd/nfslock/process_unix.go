//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
)

// forwardedSignals are the signals nfslock passes on to its command.
var forwardedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// forward passes the signal s, which nfslock received, to p.
func forward(p *os.Process, s os.Signal) error { return p.Signal(s) }

// terminate asks p to end, when the lock was lost: SIGTERM.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

const terminateName = "SIGTERM"

// exitStatus is the status a shell reports for a process that ended as ps
// says: its exit code, or 128 + the signal that ended it.
func exitStatus(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// shellArgv runs command with $SHELL -c, as flock(1) -c does.
func shellArgv(command string) []string {
	sh := os.Getenv("SHELL")
	if sh == "" {
		sh = "/bin/sh"
	}
	return []string{sh, "-c", command}
}

// detach makes cmd a background process that outlives the terminal
// session and holds no directory in use.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = "/"
}
