//go:build windows

package main

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// jobSignals are the signals run mode passes on to the command: Ctrl-C
// (and Ctrl-Break), and the console's close, logoff and shutdown events,
// which Go delivers as SIGTERM.
var jobSignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

func waitGoesOn(os.Signal) bool { return false }

const terminateName = "TerminateProcess"

// A job is the command run under the lock. Windows has no process groups
// to signal and no death signal: only the command itself is ended, and it
// does not die with nfslock (docs/cli.md, "The job").
type job struct{ cmd *exec.Cmd }

func newJob(cmd *exec.Cmd) *job { return &job{cmd: cmd} }

func (j *job) start(time.Duration) error { return j.cmd.Start() }

// passes: Windows delivers Ctrl-C to every process of the console already.
func (j *job) passes(s os.Signal) bool { return s != os.Interrupt }

// signal: Windows cannot send SIGTERM; the command is terminated.
func (j *job) signal(os.Signal) error {
	if err := j.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (j *job) signalAll(s os.Signal) error { return j.signal(s) }
func (j *job) remaining() bool             { return false }
func (j *job) done()                       {}

const guardEnv = "NFSLOCK_INTERNAL_GUARD"

func guard(string) int { return exitUsage }

func (j *job) setExited() {}
