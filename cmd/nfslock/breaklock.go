package main

import (
	"errors"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/pflag"
)

func breakCommand() subcommand {
	return subcommand{
		name:     "break",
		synopsis: "break [--force] LOCKFILE",
		summary: `Break the lock if it has been expired for longer than --slop, as a waiting
nfslock would, taking turns with other breakers through LOCKFILE.break so
that no two break at once; remove its holder's claim file. Exit 0 if it was
broken or there was no lock, 1 if it is live (and left alone), 65 if the
lock path holds a file that is not a lock (never touched). With --force,
break a live lock, after saying whose: for an operator who knows the holder
is gone for good (a holder still running loses its lock, and nfslock
running a command under it stops the command).
`,
		flags: func(o *options) *pflag.FlagSet {
			fs := newFlagSet("break")
			fs.BoolVar(&o.force, "force", false, "break the lock even if it has not expired")
			addSlop(fs, o)
			addSeparator(fs, o, locker.DefaultSeparator)
			addVerbose(fs, o, "say what was broken")
			addHelp(fs, o)
			return fs
		},
		run: runBreak,
	}
}

func runBreak(e *env, o *options, args []string) int {
	path, code, ok := e.oneArg(args, "LOCKFILE")
	if !ok {
		return code
	}
	l, err := locker.New(path, e.fsys, locker.WithClockSlop(o.slop), locker.WithSeparator(o.separator))
	if err != nil {
		return e.fail(codeFor(err, exitConflict), err)
	}
	if _, err := l.MeasureClockOffset(); err != nil {
		return e.fail(codeFor(err, exitConflict), err)
	}
	var le *locker.Error
	if !o.force {
		d, err := l.Break()
		switch {
		case err == nil:
			if !o.quiet {
				e.say("broke the lock %s of %s", l.LockFile(), holderText(d, l.ClockOffset(), o.slop))
			}
			return exitOK
		case errors.Is(err, locker.ErrNotLocked):
			if !o.quiet {
				e.say("%s is not locked: nothing to break", l.LockFile())
			}
			return exitOK
		case errors.Is(err, locker.ErrBusy) && errors.As(err, &le) && le.Holder != nil:
			if !o.quiet {
				e.say("%s is held by %s: not broken (--force breaks a live lock)", l.LockFile(), holderText(*le.Holder, l.ClockOffset(), o.slop))
			}
			return exitConflict
		}
		return e.fail(codeFor(err, exitConflict), err)
	}
	d, err := l.Details()
	switch {
	case errors.Is(err, locker.ErrNotLocked):
		if !o.quiet {
			e.say("%s is not locked: nothing to break", l.LockFile())
		}
		return exitOK
	case err != nil:
		return e.fail(codeFor(err, exitConflict), err)
	}
	e.say("breaking the lock %s of %s", l.LockFile(), holderText(d, l.ClockOffset(), o.slop))
	if d.Hostname == l.Hostname() {
		if alive, err := e.fsys.ProcessAlive(d.Hostname, d.PID); err == nil && alive {
			e.say("warning: pid %d is still running on this host", d.PID)
		}
	}
	err = l.ForceBreak(d)
	switch {
	case err == nil:
		if o.verbose {
			e.say("broke it")
		}
		return exitOK
	case errors.Is(err, locker.ErrNotLocked):
		e.say("%s was released meanwhile: nothing to break", l.LockFile())
		return exitOK
	case errors.Is(err, locker.ErrBusy) && errors.As(err, &le) && le.Holder != nil:
		e.say("%s changed hands meanwhile, now held by %s: not broken", l.LockFile(), holderText(*le.Holder, l.ClockOffset(), o.slop))
		return exitConflict
	}
	return e.fail(codeFor(err, exitConflict), err)
}
