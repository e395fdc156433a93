package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nfslock/nfslock/locker"
)

// The three ways the command holds LOCKFILE (docs/cli.md, "Shared locks
// and semaphores"):
//
//   - by default, as the writer of an RWLock at LOCKFILE: it takes the lock
//     file, the RWLock's gate, as flufl.lock and the exclusive locks do, then
//     waits for any readers inside to leave. It decides whether there are
//     readers while it holds the gate: deciding before taking it would let
//     a reader enter in between. With no readers this costs one read of
//     LOCKFILE.readers, which does not exist.
//   - with -s, as a reader of that RWLock;
//   - with --slots N, holding one slot of a semaphore of N slots at LOCKFILE.

type mode int

const (
	modeExclusive mode = iota
	modeShared
	modeSemaphore
)

func (o *options) mode() mode {
	switch {
	case o.shared:
		return modeShared
	case o.slotsSet:
		return modeSemaphore
	}
	return modeExclusive
}

// slotKind names the slot files of a mode, LOCKFILE.<kind>.<k>, and what
// messages call one.
func (m mode) slotKind() (kind, countSuffix, noun string) {
	if m == modeSemaphore {
		return "slot", ".slots", "slot"
	}
	return "reader", ".readers", "reader slot"
}

// A holding is LOCKFILE to be held, or held, in one mode in the name of one
// process: the run mode's and the lock subcommand's lock.
type holding struct {
	gate      *locker.Lock // the lock file at LOCKFILE
	what      string       // how it is held, for messages: "", " as a reader", ...
	try       func() error
	lock      func(ctx context.Context) error
	release   func() error
	keepAlive func(ctx context.Context) (*locker.KeepAlive, error)
	env       func() []string // what COMMAND is told, once it is held
	// waitingFor describes what a wait is for, for -v: a key that changes
	// when the holders do, and a line.
	waitingFor func() (key, line string)
}

// name is what is held, for messages.
func (h *holding) name() string { return h.gate.LockFile() + h.what }

// slotEnv passes the semaphore slot's index to COMMAND (with --slots).
const slotEnv = "NFSLOCK_SLOT"

// newHolding returns LOCKFILE at path, held in the mode the options say by
// pid, not yet taken.
func newHolding(path string, fsys backend, o *options, pid int) (*holding, error) {
	opts := lockOptions(o, pid)
	switch o.mode() {
	case modeShared:
		rw, err := locker.NewRWLock(path, fsys, opts...)
		if err != nil {
			return nil, err
		}
		look, err := locker.NewRWLock(path, fsys, opts...)
		if err != nil {
			return nil, err
		}
		gate := rw.Gate()
		return &holding{
			gate: gate, what: " (as a reader)",
			try: rw.TryRLock, lock: rw.RLock, release: rw.RUnlock, keepAlive: rw.KeepAlive,
			env: func() []string { return nil },
			waitingFor: func() (string, string) {
				d, err := gate.Details()
				if err != nil {
					return "", "the writer just left"
				}
				st, _ := look.Status()
				if len(st.Readers) > 0 {
					return detailsKey(d), "held by a writer waiting for the readers to leave, " + holderText(d, gate.ClockOffset(), o.slop)
				}
				return detailsKey(d), "held by the writer, " + holderText(d, gate.ClockOffset(), o.slop)
			},
		}, nil
	case modeSemaphore:
		sem, err := locker.NewSemaphore(path, o.slots, fsys, opts...)
		if err != nil {
			return nil, err
		}
		look, err := locker.NewSemaphore(path, o.slots, fsys, opts...)
		if err != nil {
			return nil, err
		}
		var slot locker.Slot
		gate := sem.Gate()
		return &holding{
			gate: gate, what: " (a slot)",
			try:       func() (err error) { slot, err = sem.TryAcquire(); return err },
			lock:      func(ctx context.Context) (err error) { slot, err = sem.Acquire(ctx); return err },
			release:   sem.Release,
			keepAlive: sem.KeepAlive,
			env: func() []string {
				env := []string{fmt.Sprintf("%s=%d", slotEnv, slot.Index)}
				if o.fencing {
					env = append(env, fmt.Sprintf("%s=%d", tokenEnv, slot.Token))
				}
				return env
			},
			waitingFor: func() (string, string) {
				d, err := gate.Details()
				if err == nil && !isOurs(gate, d) {
					return detailsKey(d), "next in line: " + holderText(d, gate.ClockOffset(), o.slop)
				}
				st, err := look.Status()
				if err != nil {
					return "", err.Error()
				}
				return slotsKey(st.Holders), fmt.Sprintf("%d of %d slots held%s", len(st.Holders), o.slots, slotsText(st.Holders, gate, o))
			},
		}, nil
	}
	rw, err := locker.NewRWLock(path, fsys, opts...)
	if err != nil {
		return nil, err
	}
	look, err := locker.NewRWLock(path, fsys, opts...)
	if err != nil {
		return nil, err
	}
	gate := rw.Gate()
	return &holding{
		gate: gate,
		try:  rw.TryLock, lock: rw.Lock, release: rw.Unlock, keepAlive: rw.KeepAlive,
		env: func() []string {
			if !o.fencing {
				return nil
			}
			// The protected storage compares it with the last token it
			// saw and refuses the writes of a holder that lost the lock.
			return []string{fmt.Sprintf("%s=%d", tokenEnv, rw.Token())}
		},
		waitingFor: func() (string, string) {
			d, err := gate.Details()
			switch {
			case err != nil:
				return "", "just released"
			case !isOurs(gate, d):
				return detailsKey(d), "held by " + holderText(d, gate.ClockOffset(), o.slop)
			}
			st, err := look.Status()
			if err != nil {
				return "", err.Error()
			}
			return slotsKey(st.Readers), fmt.Sprintf("waiting for %d readers to leave%s", len(st.Readers), slotsText(st.Readers, gate, o))
		},
	}, nil
}

// isOurs reports whether d, the holder of gate, is gate's own claim.
func isOurs(gate *locker.Lock, d locker.Details) bool {
	return d.Hostname == gate.Hostname() && d.PID == gate.PID()
}

func detailsKey(d locker.Details) string {
	return fmt.Sprintf("%s %d %s", d.Hostname, d.PID, d.LockFile)
}

func slotsKey(ss []locker.SlotDetails) string {
	var b strings.Builder
	for _, s := range ss {
		fmt.Fprintf(&b, "%d:%s;", s.Index, detailsKey(s.Details))
	}
	return b.String()
}

// slotsText lists the holders of slots ss, for -v, the first three.
func slotsText(ss []locker.SlotDetails, gate *locker.Lock, o *options) string {
	var b strings.Builder
	for i, s := range ss {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more", len(ss)-i)
			break
		}
		fmt.Fprintf(&b, "; slot %d: %s", s.Index, holderText(s.Details, gate.ClockOffset(), o.slop))
	}
	if b.Len() > 0 {
		return ":" + b.String()[1:]
	}
	return ""
}

// adoptHeld returns the lock held in the name of pid in the mode the
// options say: LOCKFILE itself, or the reader or semaphore slot whose
// claim names pid.
func adoptHeld(path string, fsys backend, o *options, pid int) (*locker.Lock, error) {
	opts := lockOptions(o, pid)
	switch o.mode() {
	case modeShared:
		return locker.AdoptReader(path, fsys, opts...)
	case modeSemaphore:
		if err := checkSlots(path, fsys, o); err != nil {
			return nil, err
		}
		return locker.AdoptSlot(path, fsys, opts...)
	}
	return locker.Adopt(path, fsys, opts...)
}

// checkSlots compares --slots=N, if given, with the number recorded in
// LOCKFILE.slots, as a semaphore does when it takes a slot.
func checkSlots(path string, fsys backend, o *options) error {
	if o.slots == 0 {
		return nil
	}
	sem, err := locker.NewSemaphore(path, o.slots, fsys, locker.WithSeparator(o.separator))
	if err != nil {
		return err
	}
	st, err := sem.Status()
	if err != nil {
		return err
	}
	if st.Slots != 0 && st.Slots != o.slots {
		return fmt.Errorf("%w: the semaphore %s has %d slots (recorded in %s.slots), not the %d given",
			locker.ErrInvalid, sem.Gate().LockFile(), st.Slots, sem.Gate().LockFile(), o.slots)
	}
	return nil
}

// slotsArg lets a subcommand whose --slots takes no N be given one the
// way run mode and lock take it, "--slots 4 LOCKFILE": with --slots and
// exactly two arguments, a number first, the number is N.
func slotsArg(o *options, args []string) []string {
	if o.slotsSet && o.slots == 0 && len(args) == 2 {
		if n, err := strconv.Atoi(args[0]); err == nil && n > 0 {
			o.slots = n
			return args[1:]
		}
	}
	return args
}

// notHeldHint says, when no lock was found in the name of a pid, where
// one may be instead: a reader slot taken with -s, a semaphore slot taken
// with --slots.
func notHeldHint(path string, fsys backend, o *options) string {
	if o.mode() != modeExclusive {
		return ""
	}
	for _, f := range []struct{ suffix, flag string }{{".readers", "-s"}, {".slots", "--slots"}} {
		if _, err := fsys.Stat(path + f.suffix); err == nil {
			return fmt.Sprintf(" (%s%s exists: a slot taken with %s is released with %s too)", path, f.suffix, f.flag, f.flag)
		}
	}
	return ""
}
