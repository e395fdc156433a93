//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// jobSignals are the signals run mode passes on to the job. Notifying
// SIGQUIT also keeps the Go runtime from dumping nfslock's stacks on it.
var jobSignals = []os.Signal{
	syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
	syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGWINCH,
}

// terminalSignals are those a terminal sends to its whole foreground
// process group: a job in that group has had them already.
var terminalSignals = map[os.Signal]bool{syscall.SIGINT: true, syscall.SIGQUIT: true, syscall.SIGWINCH: true}

// waitGoesOn reports whether a wait for the lock ignores s, as flock(1)
// ignores a resized terminal.
func waitGoesOn(s os.Signal) bool { return s == syscall.SIGWINCH }

const terminateName = "SIGTERM"

// A job is the command run under the lock with every process it starts
// (docs/cli.md, "The job"). It has a process group of its own, so that it
// is signalled as a whole, unless nfslock is in the terminal's foreground
// group: then the job stays in nfslock's group, where the terminal can
// reach it (it may read the terminal, Ctrl-C and Ctrl-Z act on it), and
// only its processes found as nfslock's descendants are signalled.
type job struct {
	cmd    *exec.Cmd
	pgid   int  // the job's own process group; 0 in the terminal's foreground
	fg     bool // nfslock is in the terminal's foreground process group
	exited bool // the command itself has exited and been reaped
	guard  *exec.Cmd
	tell   *os.File // the guard's stdin: a byte when the job is over, EOF when nfslock dies
}

func newJob(cmd *exec.Cmd) *job {
	j := &job{cmd: cmd, fg: inForeground()}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: !j.fg}
	setDeathSignal(cmd.SysProcAttr)
	return j
}

// start starts the command and, for a job in a group of its own, the guard
// that ends the group if nfslock dies before it.
func (j *job) start(killAfter time.Duration) error {
	becomeSubreaper()
	if err := startDying(j.cmd); err != nil {
		return err
	}
	if !j.fg {
		j.pgid = j.cmd.Process.Pid
		j.startGuard(killAfter)
	}
	return nil
}

// passes reports whether nfslock passes s, which it received, to the job.
func (j *job) passes(s os.Signal) bool { return !(j.fg && terminalSignals[s]) }

// signal sends s to the job: to its process group, or in the terminal's
// foreground to the command itself.
func (j *job) signal(s os.Signal) error {
	sig := s.(syscall.Signal)
	if j.pgid != 0 {
		if err := syscall.Kill(-j.pgid, sig); err != nil && err != syscall.ESRCH {
			return err
		}
		return nil
	}
	if j.exited {
		return nil
	}
	if err := j.cmd.Process.Signal(s); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

// signalAll sends s to the job and to every other process descended from
// nfslock (on Linux, where nfslock is their subreaper): those that left the
// job's group, or all of them when it has none of its own.
func (j *job) signalAll(s os.Signal) error {
	ds := descendants(j.guardPID())
	var err error
	if j.pgid != 0 || len(ds) == 0 {
		err = j.signal(s)
	}
	for _, d := range ds {
		if j.pgid == 0 || d.pgrp != j.pgid {
			syscall.Kill(d.pid, s.(syscall.Signal))
		}
	}
	return err
}

// remaining reports whether any process of the job is still there, after
// reaping those of them that were re-parented to nfslock and have exited.
func (j *job) remaining() bool {
	reapOrphans(j.guardPID())
	if len(descendants(j.guardPID())) > 0 {
		return true
	}
	return j.pgid != 0 && syscall.Kill(-j.pgid, 0) == nil
}

// done tells the guard that the job is over, and waits for it.
func (j *job) done() {
	if j.guard == nil {
		return
	}
	j.tell.Write([]byte{'.'})
	j.tell.Close()
	j.guard.Wait()
	j.guard = nil
}

func (j *job) guardPID() int {
	if j.guard == nil {
		return 0
	}
	return j.guard.Process.Pid
}

// guardEnv, in the environment of nfslock, makes it the guard of a job.
const guardEnv = "NFSLOCK_INTERNAL_GUARD"

// startGuard starts the guard: nfslock itself, in a process group of its
// own, reading a pipe from this nfslock. If the pipe ends without a word
// (nfslock died, even of SIGKILL) the guard sends the job's group SIGTERM,
// and SIGKILL after killAfter: the job dies with nfslock, whose lock it can
// no longer rely on. If the guard cannot start, the command itself still
// dies with nfslock (setDeathSignal), but not the processes it started.
func (j *job) startGuard(killAfter time.Duration) {
	self, err := os.Executable()
	if err != nil {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	defer r.Close()
	g := &exec.Cmd{
		Path:        self,
		Args:        []string{"nfslock"},
		Env:         []string{fmt.Sprintf("%s=%d %d", guardEnv, j.pgid, killAfter)},
		Stdin:       r,
		Dir:         "/",
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := g.Start(); err != nil {
		w.Close()
		return
	}
	j.guard, j.tell = g, w
}

// guard is the life of a guard process (see startGuard); spec is the
// value of guardEnv: the job's process group and --kill-after.
func guard(spec string) int {
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP)
	f := strings.Fields(spec)
	if len(f) != 2 {
		return exitUsage
	}
	pgid, err1 := strconv.Atoi(f[0])
	killAfter, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil || pgid <= 1 {
		return exitUsage
	}
	if n, _ := os.Stdin.Read(make([]byte, 1)); n == 1 {
		return exitOK // nfslock saw the job end
	}
	if syscall.Kill(-pgid, syscall.SIGTERM) != nil {
		return exitOK
	}
	deadline := time.Now().Add(time.Duration(killAfter))
	for time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		if syscall.Kill(-pgid, 0) != nil {
			return exitOK
		}
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
	return exitOK
}

// inForeground reports whether nfslock is in the foreground process group
// of its controlling terminal, which sends that group Ctrl-C (SIGINT),
// Ctrl-\ (SIGQUIT), Ctrl-Z (SIGTSTP) and SIGWINCH.
func inForeground() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false // no controlling terminal
	}
	defer tty.Close()
	pgrp, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && pgrp == syscall.Getpgrp()
}

// setExited records that the command itself has been reaped: its pid may
// now be another process's.
func (j *job) setExited() { j.exited = true }
