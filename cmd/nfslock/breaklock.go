package main

import (
	"errors"
	"fmt"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/pflag"
)

func breakCommand() subcommand {
	return subcommand{
		name:     "break",
		synopsis: "break [--force] [-s|--slots] LOCKFILE",
		brief:    "break a dead holder's expired lock",
		summary: `Break the lock if it has been expired for longer than --slop, as a waiting
nfslock would, taking turns with other breakers through LOCKFILE.break so
that no two break at once; remove its holder's claim file. Exit 0 if it was
broken or there was no lock, 1 if it is live (and left alone), 65 if the
lock path holds a file that is not a lock (never touched). With --force,
break a live lock, after saying whose: for an operator who knows the holder
is gone for good (a holder still running loses its lock, and nfslock
running a command under it stops the command). With -s, also break the
expired reader slots of the shared lock at LOCKFILE; with --slots, the
expired slots of the semaphore there (and, with --force, live ones).
`,
		flags: func(o *options) *pflag.FlagSet {
			fs := newFlagSet("break")
			fs.BoolVar(&o.force, "force", false, "break the lock even if it has not expired")
			addShared(fs, o, "and the shared lock's reader slots", "and the semaphore's slots; `N` is checked", false)
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
	code = e.breakOne(path, o)
	if o.mode() == modeExclusive || code > exitConflict {
		return code
	}
	slots, err := e.heldSlots(path, o)
	if err != nil {
		return e.fail(e.code(err, exitConflict), "cannot read the slots of "+path, err)
	}
	_, _, noun := o.mode().slotKind()
	if len(slots) == 0 && !o.quiet {
		e.say("no %s of %s is held: nothing more to break", noun, path)
	}
	for _, name := range slots {
		// A live slot left alone is exit 1, as the gate's; any worse
		// status wins.
		if c := e.breakOne(name, o); c > code {
			code = c
		}
	}
	return code
}

// heldSlots lists the files of the reader slots (-s) or semaphore slots
// (--slots) of LOCKFILE that are held.
func (e *env) heldSlots(path string, o *options) ([]string, error) {
	opts := []locker.Option{locker.WithClockSlop(o.slop), locker.WithSeparator(o.separator)}
	var held []locker.SlotDetails
	kind, _, _ := o.mode().slotKind()
	if o.mode() == modeShared {
		rw, err := locker.NewRWLock(path, e.fsys, opts...)
		if err != nil {
			return nil, err
		}
		st, err := rw.Status()
		if err != nil {
			return nil, err
		}
		held = st.Readers
	} else {
		if err := checkSlots(path, e.fsys, o); err != nil {
			return nil, err
		}
		sem, err := locker.NewSemaphore(path, 1, e.fsys, opts...)
		if err != nil {
			return nil, err
		}
		st, err := sem.Status()
		if err != nil {
			return nil, err
		}
		held = st.Holders
	}
	var names []string
	for _, s := range held {
		names = append(names, fmt.Sprintf("%s.%s.%d", path, kind, s.Index))
	}
	return names, nil
}

// breakOne breaks the lock at path as the options say, and returns the
// exit status.
func (e *env) breakOne(path string, o *options) int {
	opts := []locker.Option{locker.WithClockSlop(o.slop), locker.WithSeparator(o.separator)}
	if _, err := e.fsys.Stat(path + ".fence"); err == nil {
		// So that the break also removes a crashed holder's temporary
		// token file.
		opts = append(opts, locker.WithFencing())
	}
	what := "cannot break the lock " + path
	l, err := locker.New(path, e.fsys, opts...)
	if err != nil {
		return e.fail(e.code(err, exitConflict), what, err)
	}
	if _, err := l.MeasureClockOffset(); err != nil {
		return e.fail(e.code(err, exitConflict), what, err)
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
		return e.fail(e.code(err, exitConflict), what, err)
	}
	d, err := l.Details()
	switch {
	case errors.Is(err, locker.ErrNotLocked):
		if !o.quiet {
			e.say("%s is not locked: nothing to break", l.LockFile())
		}
		return exitOK
	case err != nil:
		return e.fail(e.code(err, exitConflict), what, err)
	}
	// -q makes even a forced break silent, as an operator's script that
	// has decided to break asks.
	if !o.quiet {
		e.say("breaking the lock %s of %s", l.LockFile(), holderText(d, l.ClockOffset(), o.slop))
		if d.Hostname == l.Hostname() {
			if alive, err := e.fsys.ProcessAlive(d.Hostname, d.PID); err == nil && alive {
				e.say("warning: pid %d is still running on this host", d.PID)
			}
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
		if !o.quiet {
			e.say("%s was released meanwhile: nothing to break", l.LockFile())
		}
		return exitOK
	case errors.Is(err, locker.ErrBusy) && errors.As(err, &le) && le.Holder != nil:
		if !o.quiet {
			e.say("%s changed hands meanwhile, now held by %s: not broken", l.LockFile(), holderText(*le.Holder, l.ClockOffset(), o.slop))
		}
		return exitConflict
	}
	return e.fail(e.code(err, exitConflict), what, err)
}
