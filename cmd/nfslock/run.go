package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/pflag"
)

// runFlags are the options of run mode: flock(1)'s where their meaning
// carries over, and the lease's.
func runFlags(o *options) *pflag.FlagSet {
	fs := newFlagSet("nfslock")
	addWait(fs, o)
	addLifetime(fs, o)
	addSlop(fs, o)
	addFair(fs, o)
	o.killAfter = 10 * time.Second
	fs.Var(duration{&o.killAfter}, "kill-after", "when the lock is lost, or COMMAND has exited leaving processes behind, send the job SIGKILL `SECS` after SIGTERM (default 10s)")
	fs.StringVarP(&o.command, "command", "c", "", "run `COMMAND` with $SHELL -c (/bin/sh if unset), as flock -c; given right after LOCKFILE, as in flock(1), or before it")
	addSeparator(fs, o, locker.DefaultSeparator)
	fs.BoolVar(&o.fencing, "fencing", false, "take a fencing token with the lock (a number greater than any given before for LOCKFILE, counted in LOCKFILE.fence) and pass it to COMMAND as NFSLOCK_TOKEN")
	addVerbose(fs, o, "say who holds the lock while waiting, or when -n or -w gives up (silent otherwise, as flock(1)), how long the wait took, and what happens to COMMAND")
	addShared(fs, o, "run COMMAND as one of many readers (see -x)", "run COMMAND holding one of `N` slots", true)
	fs.BoolVarP(&o.exclusive, "exclusive", "x", true, "the writer, excluding -s readers (default; also -e)")
	fs.BoolVarP(&o.exclusive, "exclusive-e", "e", true, "")
	fs.MarkHidden("exclusive-e")
	fs.BoolVarP(&o.closeFD, "close", "o", false, "accepted for flock(1) compatibility: nfslock never passes the lock to COMMAND's children (no descriptor holds it)")
	addHelp(fs, o)
	fs.BoolVarP(&o.version, "version", "V", false, "show the version and exit")
	for _, b := range [][2]string{
		{"nonblock", "fail at once (exit 1) if the lock is held"},
		{"timeout", "give up waiting after SECS (0.5, or 1m30s)"},
		{"conflict-exit-code", "exit N, not 1, when -n or -w gives up"},
		{"command", "run COMMAND with $SHELL -c, as flock -c"},
		{"lifetime", "the lock expires SECS after a refresh (15s)"},
		{"shared", "one of many readers; without -s, the writer"},
		{"slots", "hold one of N slots: a semaphore"},
		{"verbose", "say who holds the lock, and what happens"},
		{"help", "show this help"},
		{"version", "show the version"},
	} {
		brief(fs, b[0], b[1])
	}
	// flock(1)'s options that make no sense here are refused with a reason.
	for _, f := range []struct{ name, short string }{{"unlock", "u"}, {"no-fork", "F"}} {
		fs.BoolP(f.name, f.short, false, "")
		fs.MarkHidden(f.name)
	}
	return fs
}

// runMode is nfslock [options] LOCKFILE COMMAND [ARG...] and
// nfslock [options] LOCKFILE -c COMMAND.
func (e *env) runMode(args []string) int {
	var o options
	fs := runFlags(&o)
	fs.SetInterspersed(false) // options end at LOCKFILE, as in flock(1)
	rest, code, stop := parse(fs, &o, args, func() string { return usage(fs) }, e)
	if stop {
		return code
	}
	o.busyQuiet = true // as flock(1): the exit status says it
	switch {
	case o.version:
		fmt.Fprintln(e.stdout, version())
		return exitOK
	case (o.shared || o.slotsSet) && (fs.Changed("exclusive") || fs.Changed("exclusive-e")):
		return e.usageError("-x excludes -s and --slots")
	case o.shared && o.fencing:
		return e.usageError("-s --fencing: readers get no fencing token (the writer's token fences the storage)")
	case fs.Changed("unlock"):
		return e.usageError("-u: to release a lock taken with 'nfslock lock', use 'nfslock unlock LOCKFILE'")
	case fs.Changed("no-fork"):
		return e.usageError("-F: nfslock must stay to keep the lock alive while the command runs")
	case !o.exclusive && !o.shared && !o.slotsSet:
		return e.usageError("--exclusive=false: give -s for a shared lock")
	}
	var argv []string
	switch {
	case len(rest) == 0:
		return e.usageError("no lock file and command given")
	case len(rest) == 1 && !fs.Changed("command"):
		return e.usageError("no command given to run under %s (to take a lock for a shell script: nfslock lock %s)", rest[0], rest[0])
	case fs.Changed("command"):
		if len(rest) != 1 {
			return e.usageError("with -c %q, give only LOCKFILE; got %q", o.command, rest)
		}
		argv = shellArgv(o.command)
	case rest[1] == "-c" || rest[1] == "--command":
		if len(rest) != 3 {
			return e.usageError("%s takes exactly one argument, the shell command", rest[1])
		}
		argv = shellArgv(rest[2])
	case strings.HasPrefix(rest[1], "-"):
		return e.usageError("%s after the lock file %s: options go before LOCKFILE; only -c follows it", rest[1], rest[0])
	default:
		argv = rest[1:]
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return e.fail(exitUnavailable, "cannot run "+argv[0], e.notFound(rest[0], err))
	}
	h, err := newHolding(rest[0], e.fsys, &o, os.Getpid())
	if err != nil {
		return e.fail(e.code(err, o.conflict), "cannot use the lock "+rest[0], err)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, jobSignals...)
	defer signal.Stop(sigs)
	if held, code := e.acquire(h, &o, sigs); !held {
		return code
	}
	return e.supervise(h, &o, path, argv, sigs)
}

// tokenEnv passes the fencing token to COMMAND (with --fencing).
const tokenEnv = "NFSLOCK_TOKEN"

// lockOptions are the locker options the command-line options give, for
// a claim naming pid.
func lockOptions(o *options, pid int) []locker.Option {
	opts := []locker.Option{
		locker.WithLifetime(o.lifetime),
		locker.WithClockSlop(o.slop),
		locker.WithSeparator(o.separator),
		locker.WithPID(pid),
	}
	if o.timeout > 0 && !o.nonblock {
		opts = append(opts, locker.WithTimeout(o.timeout))
	}
	if o.fencing {
		opts = append(opts, locker.WithFencing())
	}
	if !o.fair {
		// The gates queue their waiters unless told otherwise.
		opts = append(opts, locker.WithFairness(false))
	}
	return opts
}

// supervise runs argv (found at path) as a job (see job) while keeping h
// alive, passes the signals that arrive on sigs to it, and releases h once
// every process of the job has exited: after the command exits, the rest
// are sent SIGTERM, and SIGKILL after --kill-after. It returns the
// command's exit status, or exitLost if the lock was lost meanwhile: then
// the whole job is sent SIGTERM at once, and SIGKILL after --kill-after.
func (e *env) supervise(h *holding, o *options, path string, argv []string, sigs <-chan os.Signal) int {
	ka, err := h.keepAlive(context.Background())
	if err != nil {
		h.release()
		if errors.Is(err, locker.ErrNotLocked) {
			return e.fail(exitLost, "lost the lock "+h.name()+" before "+argv[0]+" could start", err)
		}
		return e.fail(e.code(err, o.conflict), "cannot keep the lock "+h.name()+" alive", err)
	}
	cmd := &exec.Cmd{Path: path, Args: argv, Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	if env := h.env(); len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	j := newJob(cmd)
	err = j.start(o.killAfter)
	if errors.Is(err, syscall.ENOEXEC) {
		// A script without "#!": run it with /bin/sh, as execvp(3) does.
		cmd = &exec.Cmd{Path: "/bin/sh", Args: append([]string{"sh", path}, argv[1:]...), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Env: cmd.Env}
		j = newJob(cmd)
		err = j.start(o.killAfter)
	}
	if err != nil {
		if uerr := h.release(); uerr != nil {
			e.fail(e.code(uerr, o.conflict), "cannot release the lock "+h.name(), uerr)
		}
		code := exitOSErr
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			code = exitUnavailable
		}
		return e.fail(code, "cannot run "+argv[0], err)
	}
	defer j.done()
	name := fmt.Sprintf("%s (pid %d)", argv[0], cmd.Process.Pid)
	if o.verbose {
		e.say("running %s under %s", name, h.name())
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()

	lost := ka.Lost()
	var lostErr error
	var kill <-chan time.Time
	terminating := false
	terminate := func() {
		terminating = true
		if err := j.signalAll(syscall.SIGTERM); err != nil {
			e.say("cannot terminate %s: %v", name, err)
		}
		t := time.NewTimer(o.killAfter)
		kill = t.C
	}
	var poll <-chan time.Time // while processes of the job outlive the command
	var werr error
	exited := false
	for !exited || poll != nil {
		select {
		case s := <-sigs:
			if !j.passes(s) {
				continue // the terminal sent it to the job as well
			}
			if o.verbose {
				e.say("passing %v to %s", s, name)
			}
			if err := j.signal(s); err != nil {
				e.say("cannot pass %v to %s: %v", s, name, err)
			}
		case <-lost:
			lost = nil
			lostErr = ka.Err()
			e.say("LOST THE LOCK %s while %s ran: %s", h.name(), name, e.reason(lostErr))
			e.say("sending %s to %s; SIGKILL in %v if it is still running", terminateName, name, o.killAfter)
			terminate()
		case <-kill:
			kill = nil
			e.say("the job of %s still running %v after %s: sending SIGKILL", name, o.killAfter, terminateName)
			if err := j.signalAll(syscall.SIGKILL); err != nil {
				e.say("cannot kill %s: %v", name, err)
			}
		case werr = <-waited:
			exited = true
			j.setExited()
			if j.remaining() {
				if !terminating {
					if o.verbose {
						e.say("%s exited; sending %s to the processes it left, SIGKILL in %v", name, terminateName, o.killAfter)
					}
					terminate()
				}
				t := time.NewTicker(50 * time.Millisecond)
				defer t.Stop()
				poll = t.C
			}
		case <-poll:
			if !j.remaining() {
				poll = nil
			}
		}
	}
	j.done()
	uerr := h.release()
	if lostErr != nil {
		e.say("%s ended (status %d); exiting with %d: the lock was lost", name, statusOf(cmd, werr), exitLost)
		return exitLost
	}
	status := statusOf(cmd, werr)
	switch {
	case errors.Is(uerr, locker.ErrNotLocked):
		e.say("LOST THE LOCK %s while %s ran (found on release, status %d): %s", h.name(), name, status, e.reason(uerr))
		return exitLost
	case uerr != nil:
		e.fail(e.code(uerr, o.conflict), "cannot release the lock "+h.name()+" after "+name+" ended", uerr)
		if status == 0 {
			return exitIOErr
		}
	case o.verbose:
		e.say("%s exited with status %d; released %s", name, status, h.name())
	}
	return status
}

// statusOf is the exit status of cmd after Wait returned werr.
func statusOf(cmd *exec.Cmd, werr error) int {
	if cmd.ProcessState == nil {
		return exitOSErr
	}
	return exitStatus(cmd.ProcessState)
}
