package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/pflag"
)

// The subcommands for shell scripts: take a lock in one run and release
// it in another, like dotlockfile -l/-u and lockfile-create/-touch/-remove.
// The claim names a process (--pid, by default the calling shell), which
// later runs find again with locker.Adopt.

func lockCommand() subcommand {
	return subcommand{
		name:     "lock",
		synopsis: "lock [options] LOCKFILE",
		brief:    "take the lock in the calling shell's name, and exit",
		summary: `Take the lock in the name of --pid and exit 0 with it held (dotlockfile -l,
lockfile-create). Nothing refreshes it: it expires after --lifetime unless
'nfslock keep' or 'nfslock touch' refreshes it. Release it with
'nfslock unlock'. If the lock is already held in that pid's name, exit 1.
`,
		flags: func(o *options) *pflag.FlagSet {
			fs := newFlagSet("lock")
			addWait(fs, o)
			addLifetime(fs, o)
			addSlop(fs, o)
			addFair(fs, o)
			addSeparator(fs, o, locker.DefaultSeparator)
			addPID(fs, o, "the process the claim names, which holds the lock")
			addShared(fs, o, "take a reader's slot", "take one of `N` slots", true)
			addVerbose(fs, o, "say who holds the lock while waiting, and when it was taken")
			addHelp(fs, o)
			return fs
		},
		run: runLock,
	}
}

func touchCommand() subcommand {
	return subcommand{
		name:     "touch",
		synopsis: "touch [options] LOCKFILE",
		brief:    "refresh a lock taken with lock",
		summary: `Refresh a lock held in the name of --pid on this host: it expires
--lifetime from now (lockfile-touch --oneshot, dotlockfile -t). Exit 1 if
the lock is not held in that pid's name.
`,
		flags: scriptFlags("touch", "the process the lock's claim must name"),
		run:   runTouch,
	}
}

func keepCommand() subcommand {
	return subcommand{
		name:     "keep",
		synopsis: "keep [options] LOCKFILE",
		brief:    "keep a lock taken with lock alive in the background",
		summary: `Keep a lock held in the name of --pid alive in the background: a
detached nfslock process refreshes it every third of --lifetime until that
pid exits (the lock is then left to expire) or the lock is released with
'nfslock unlock' (lockfile-touch). It exits 0 once the keeper runs. A
script that must stop when the lock is lost should run its work under
'nfslock LOCKFILE COMMAND' instead.
`,
		flags: func(o *options) *pflag.FlagSet {
			return scriptFlags("keep", "the process the lock's claim must name; refreshing stops when it exits", func(fs *pflag.FlagSet) {
				fs.BoolVar(&o.foreground, "foreground", false, "refresh in this process instead of a detached one (exit 0 when the pid exits or the lock is released, 76 if it is lost to another holder)")
				fs.BoolVar(&o.readyLine, "ready-line", false, "")
				fs.MarkHidden("ready-line")
			})(o)
		},
		run: runKeep,
	}
}

func unlockCommand() subcommand {
	return subcommand{
		name:     "unlock",
		synopsis: "unlock [options] LOCKFILE",
		brief:    "release a lock taken with lock",
		summary: `Release a lock held in the name of --pid on this host (dotlockfile -u,
lockfile-remove). A lock whose claim names another host or pid is never
touched: exit 1.
`,
		flags: scriptFlags("unlock", "the process the lock's claim must name"),
		run:   runUnlock,
	}
}

// scriptFlags are the options of touch, keep and unlock.
func scriptFlags(name, pidWhat string, more ...func(*pflag.FlagSet)) func(o *options) *pflag.FlagSet {
	return func(o *options) *pflag.FlagSet {
		fs := newFlagSet(name)
		if name != "unlock" {
			addLifetime(fs, o)
		} else {
			o.lifetime = locker.DefaultLifetime // unused: Unlock does not date the lock
		}
		addSlop(fs, o)
		addSeparator(fs, o, locker.DefaultSeparator)
		addPID(fs, o, pidWhat)
		addShared(fs, o, "the reader's slot named by --pid", "the semaphore's slot named by --pid; `N` is checked", false)
		addVerbose(fs, o, "say what was done")
		for _, f := range more {
			f(fs)
		}
		addHelp(fs, o)
		return fs
	}
}

// oneArg returns the single argument a subcommand takes.
func (e *env) oneArg(args []string, what string) (string, int, bool) {
	if len(args) != 1 {
		return "", e.usageError("expected one argument, %s; got %d", what, len(args)), false
	}
	return args[0], 0, true
}

// claimPID is the pid --pid names, by default the parent process.
func (e *env) claimPID(o *options, mustLive bool) (int, int, bool) {
	pid := o.pid
	if pid == 0 {
		pid = os.Getppid()
	}
	if pid <= 0 {
		return 0, e.usageError("--pid %d: not a process id", pid), false
	}
	if mustLive {
		alive, err := e.fsys.ProcessAlive("", pid)
		if err == nil && !alive {
			return 0, e.usageError("--pid %d: no such process on this host", pid), false
		}
	}
	return pid, 0, true
}

func runLock(e *env, o *options, args []string) int {
	path, code, ok := e.oneArg(args, "LOCKFILE")
	if !ok {
		return code
	}
	pid, code, ok := e.claimPID(o, true)
	if !ok {
		return code
	}
	h, err := newHolding(path, e.fsys, o, pid)
	if err != nil {
		return e.fail(e.code(err, o.conflict), "cannot use the lock "+path, err)
	}
	if e.alreadyHeld(h, path, o, pid) {
		if !o.quiet {
			e.say("%s is already held in the name of pid %d of this host", h.name(), pid)
		}
		return o.conflict
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	if held, code := e.acquire(h, o, sigs); !held {
		return code
	}
	if o.verbose {
		e.say("%s is held in the name of pid %d; it expires in %v unless refreshed ('nfslock keep' or 'touch'); release it with 'nfslock unlock'",
			h.name(), pid, o.lifetime)
	}
	return exitOK
}

// alreadyHeld reports whether pid holds LOCKFILE in the options' mode
// already: taking it again would wait for itself (a writer, or the last
// free slot) or hold two slots in one name.
func (e *env) alreadyHeld(h *holding, path string, o *options, pid int) bool {
	if o.mode() == modeExclusive {
		d, err := h.gate.Details()
		return err == nil && isOurs(h.gate, d)
	}
	_, err := adoptHeld(path, e.fsys, o, pid)
	return err == nil
}

// adopt finds the lock held in the name of pid, or says why not.
func (e *env) adopt(path string, o *options, pid int) (*locker.Lock, int) {
	l, err := adoptHeld(path, e.fsys, o, pid)
	if err == nil {
		return l, exitOK
	}
	var le *locker.Error
	switch {
	case errors.Is(err, locker.ErrNotLocked) && o.mode() != modeExclusive:
		if !o.quiet {
			_, _, noun := o.mode().slotKind()
			e.say("no %s of %s is held in the name of pid %d of this host", noun, path, pid)
		}
		return nil, exitConflict
	case errors.Is(err, locker.ErrNotLocked) && errors.As(err, &le) && le.Holder != nil:
		if !o.quiet {
			e.say("%s is held by host %s pid %d, not by pid %d of this host: left alone", le.Path, le.Holder.Hostname, le.Holder.PID, pid)
		}
		return nil, exitConflict
	case errors.Is(err, locker.ErrNotLocked) && errors.As(err, &le):
		if !o.quiet {
			e.say("%s is not locked%s", le.Path, notHeldHint(path, e.fsys, o))
		}
		return nil, exitConflict
	}
	return nil, e.fail(e.code(err, exitConflict), "cannot find the lock "+path+" held by pid "+strconv.Itoa(pid), err)
}

// adoptArg takes over the lock named by the one argument in args, in the
// name of the pid the options give (touch and unlock), or returns nil and
// the exit status.
func (e *env) adoptArg(o *options, args []string) (*locker.Lock, int) {
	path, code, ok := e.oneArg(args, "LOCKFILE")
	if !ok {
		return nil, code
	}
	pid, code, ok := e.claimPID(o, false)
	if !ok {
		return nil, code
	}
	return e.adopt(path, o, pid)
}

func runTouch(e *env, o *options, args []string) int {
	l, code := e.adoptArg(o, args)
	if l == nil {
		return code
	}
	if err := l.Refresh(); err != nil {
		return e.fail(e.code(err, exitConflict), "cannot refresh the lock "+l.LockFile(), err)
	}
	if o.verbose {
		e.say("refreshed %s: it expires in %v", l.LockFile(), o.lifetime)
	}
	return exitOK
}

func runUnlock(e *env, o *options, args []string) int {
	l, code := e.adoptArg(o, args)
	if l == nil {
		return code
	}
	if err := l.Unlock(); err != nil {
		return e.fail(e.code(err, exitConflict), "cannot release the lock "+l.LockFile(), err)
	}
	if o.verbose {
		e.say("released %s", l.LockFile())
	}
	return exitOK
}

func runKeep(e *env, o *options, args []string) int {
	path, code, ok := e.oneArg(args, "LOCKFILE")
	if !ok {
		return code
	}
	pid, code, ok := e.claimPID(o, true)
	if !ok {
		return code
	}
	if o.foreground {
		return e.keep(path, o, pid)
	}
	// Look first, so that a lock that is not ours is reported here.
	l, code := e.adopt(path, o, pid)
	if l == nil {
		return code
	}
	exe, err := os.Executable()
	if err != nil {
		return e.fail(exitOSErr, "cannot start the keeper of "+path+": cannot find this program", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return e.fail(exitUsage, "cannot start the keeper of "+path, err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return e.fail(exitOSErr, "cannot start the keeper of "+path, err)
	}
	defer r.Close()
	args = []string{"keep", "--foreground", "--ready-line",
		"--pid", strconv.Itoa(pid),
		"--lifetime", o.lifetime.String(),
		"--slop", o.slop.String(),
		"--separator", o.separator}
	switch o.mode() {
	case modeShared:
		args = append(args, "--shared")
	case modeSemaphore:
		args = append(args, "--slots")
	}
	cmd := exec.Command(exe, append(args, "--", abs)...)
	// The keeper's stdout is a pipe to us until it is ready; it holds
	// nothing else of ours open, so that "$(nfslock keep f)" returns.
	cmd.Stdout = w
	detach(cmd)
	err = cmd.Start()
	w.Close()
	if err != nil {
		return e.fail(exitOSErr, "cannot start the keeper of "+path, err)
	}
	keeper := cmd.Process.Pid
	cmd.Process.Release()
	report := make([]byte, 4096)
	n, _ := readFull(r, report)
	line := string(report[:n])
	if line == "ready\n" {
		if o.verbose {
			e.say("keeping %s alive for pid %d (keeper pid %d)", abs, pid, keeper)
		}
		return exitOK
	}
	var other int
	if _, err := fmt.Sscanf(line, "kept %d\n", &other); err == nil {
		if o.verbose {
			e.say("%s is kept alive for pid %d already, by keeper pid %d: no second keeper started", abs, pid, other)
		}
		return exitOK
	}
	var status int
	var msg string
	if _, err := fmt.Sscanf(line, "error %d", &status); err != nil {
		status, msg = exitOSErr, fmt.Sprintf("the keeper (pid %d) failed to start: %q", keeper, line)
	} else if i := len(fmt.Sprintf("error %d ", status)); i <= len(line) {
		msg = line[i:]
	}
	if msg != "" && !o.quiet {
		fmt.Fprint(e.stderr, msg)
	}
	return status
}

// readFull reads from r until EOF or buf is full.
func readFull(r *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// keep refreshes the lock held in the name of pid until pid exits, the
// lock is released or lost, or a signal arrives.
func (e *env) keep(path string, o *options, pid int) int {
	var ready func(code int, msg string)
	var readyOut io.WriteCloser
	if o.readyLine {
		// Report the start on stdout, a pipe to 'nfslock keep', and
		// close it: "ready", "kept PID" (another keeper runs), or
		// "error CODE MESSAGE".
		readyOut = nopCloser{e.stdout}
		if c, ok := e.stdout.(io.WriteCloser); ok {
			readyOut = c
		}
		e.stdout = discard{}
		ready = func(code int, msg string) {
			if code == exitOK {
				fmt.Fprint(readyOut, "ready\n")
			} else {
				fmt.Fprintf(readyOut, "error %d %s", code, msg)
			}
			readyOut.Close()
		}
	}
	var captured captureWriter
	stderr := e.stderr
	if ready != nil {
		e.stderr = &captured
	}
	l, code := e.adopt(path, o, pid)
	e.stderr = stderr
	if l == nil {
		if ready != nil {
			ready(code, captured.String())
		}
		return code
	}
	done, other, err := becomeKeeper(l.LockFile(), o.mode(), pid)
	switch {
	case err != nil:
		// Keeping the lock alive matters more than keeping one keeper.
		if o.verbose {
			e.say("cannot tell whether another keeper keeps %s alive: %v", l.LockFile(), err)
		}
	case other != 0 || done == nil:
		if ready != nil {
			fmt.Fprintf(readyOut, "kept %d\n", other)
			readyOut.Close()
			return exitOK
		}
		if !o.quiet {
			e.say("%s is kept alive for pid %d already, by keeper pid %d", l.LockFile(), pid, other)
		}
		return exitOK
	default:
		defer done()
	}
	ka, err := l.KeepAlive(context.Background())
	if err != nil {
		code := e.code(err, exitConflict)
		what := "cannot keep the lock " + l.LockFile() + " alive"
		if ready != nil {
			ready(code, "nfslock: "+what+": "+e.reason(err)+"\n")
		}
		return e.fail(code, what, err)
	}
	defer ka.Stop()
	if ready != nil {
		ready(exitOK, "")
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ka.Lost():
			// Released by 'nfslock unlock', or lost to a breaker.
			if d, err := l.Details(); err == nil {
				e.say("lost %s: it is now held by host %s pid %d", l.LockFile(), d.Hostname, d.PID)
				return exitLost
			}
			if o.verbose {
				e.say("%s was released: stopped refreshing it", l.LockFile())
			}
			return exitOK
		case <-tick.C:
			if alive, err := e.fsys.ProcessAlive(l.Hostname(), pid); err == nil && !alive {
				if o.verbose {
					e.say("pid %d has exited: stopped refreshing %s, which expires in %v unless released", pid, l.LockFile(), o.lifetime)
				}
				return exitOK
			}
		case s := <-sigs:
			return signalStatus(s)
		}
	}
}

// nopCloser is a writer with a Close that does nothing.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// captureWriter keeps what is written to it.
type captureWriter struct{ b []byte }

func (c *captureWriter) Write(p []byte) (int, error) { c.b = append(c.b, p...); return len(p), nil }
func (c *captureWriter) String() string              { return string(c.b) }
