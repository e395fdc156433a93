package locker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The shared lock (RWLock) and the semaphore (Semaphore) are made of
// exclusive locks, each an ordinary lock file with its claim files, its
// lifetime and its race-free breaking, so that every file they use is a
// lease that any host can break once its holder is dead:
//
//   - a gate, the lock file at the path the user gave, which every process
//     takes to enter (a writer holds it for as long as it writes);
//   - slots, <path>.reader.<k> or <path>.slot.<k>, one per reader inside
//     or per semaphore holder;
//   - a count file, <path>.readers or <path>.slots, changed only under the
//     gate: how many reader slots a writer must pass, or the semaphore's
//     number of slots.
//
// The rules are in docs/algorithm.md, "Shared locks and semaphores".

// countTempSuffix names the file a gate holder writes, next to its claim
// file, before renaming it over a count file; a breaker of the gate removes
// a dead holder's (see dropFenceTemp).
const countTempSuffix = ".count-tmp"

// withoutFencing turns fencing off for a part that needs no tokens (a
// reader's pass through the gate).
func withoutFencing() Option { return func(c *config) { c.fencing = false } }

// parts makes the exclusive locks of one shared lock or semaphore, all with
// the options the user gave.
type parts struct {
	path string
	fsys FS
	opts []Option
	gate *Lock // made first; the others take its host name and pid
}

// newParts makes the gate at path, and the parts that will make the rest.
func newParts(path string, fsys FS, opts []Option, extra ...Option) (parts, error) {
	p := parts{path: path, fsys: fsys, opts: opts}
	gate, err := p.newPart(path, extra...)
	if err != nil {
		return parts{}, err
	}
	p.gate = gate
	return p, nil
}

// newPart returns a Lock on name with the user's options, then extra, and
// the gate's host name and pid (found once, when the gate was made).
//
// The gate serves its waiters in order unless the user's options say
// otherwise (and the backend can list directories, which the queue needs);
// a slot, for which no one queues, never does.
func (p parts) newPart(name string, extra ...Option) (*Lock, error) {
	var opts []Option
	if _, ok := p.fsys.(DirReader); ok && name == p.path {
		opts = append(opts, WithFairness(true))
	}
	opts = append(append(opts, p.opts...), extra...)
	if name != p.path {
		opts = append(opts, WithFairness(false))
	}
	if p.gate != nil {
		opts = append(opts, WithHostname(p.gate.hostname), WithPID(p.gate.pid))
	}
	l, err := New(name, p.fsys, opts...)
	if err != nil {
		return nil, err
	}
	if p.gate != nil {
		l.loopbackFQDN = p.gate.loopbackFQDN
	}
	return l, nil
}

// lookAtSlots calls f for each slot of kind below n that may be held, in
// order, until f is done or fails, for a look at who holds them (Status,
// Adopt): the slots whose lock file the directory lists, or every slot
// below n where the backend cannot list a directory. A count file may say
// a million, so a look that has taken the gate's lifetime (by its clock)
// gives up with ErrTimeout: it takes nothing, and must not hang. It is not
// for a writer passing the readers, which must not trust a listing a client
// may have cached.
func (p parts) lookAtSlots(kind string, n int, f func(k int) (done bool, err error)) error {
	gate := p.gate
	var listed []int
	dr, lists := p.fsys.(DirReader)
	if lists {
		names, err := dr.ReadDirNames(gate.dir)
		if err != nil {
			return fmt.Errorf("listing the %s slots: %w", kind, err)
		}
		prefix := filepath.Base(gate.path) + "." + kind + "."
		for _, name := range names {
			digits, ok := strings.CutPrefix(name, prefix)
			if !ok {
				continue
			}
			if k, err := strconv.Atoi(digits); err == nil && k >= 0 && k < n && strconv.Itoa(k) == digits {
				listed = append(listed, k)
			}
		}
		slices.Sort(listed)
		n = len(listed)
	}
	deadline := gate.clock.Now().Add(gate.lifetime)
	for i := range n {
		k := i
		if lists {
			k = listed[i]
		}
		if i > 0 && !gate.clock.Now().Before(deadline) {
			return fmt.Errorf("%w after %v, looking at %s.%d, of %d slots", ErrTimeout, gate.lifetime, kind, k, n)
		}
		if done, err := f(k); done || err != nil {
			return err
		}
	}
	return nil
}

// slotName is the name of slot k of kind ("reader", "slot").
func slotName(path, kind string, k int) string {
	return path + "." + kind + "." + strconv.Itoa(k)
}

// lockBy is Lock, giving up with ErrTimeout at deadline (by the Lock's
// clock) if it is not zero: the timeout of a shared lock or semaphore is
// on its whole wait, made of the waits of its parts.
func (l *Lock) lockBy(ctx context.Context, deadline time.Time) error {
	if !deadline.IsZero() {
		left := deadline.Sub(l.clock.Now())
		if left <= 0 {
			return &Error{Op: "lock", Path: l.path, Err: &timeoutError{after: l.timeout}}
		}
		saved := l.timeout
		l.timeout = left
		defer func() { l.timeout = saved }()
	}
	return l.Lock(ctx)
}

// deadline is when a wait starting now gives up: zero if l has no timeout.
func (l *Lock) deadline() time.Time {
	if l.timeout <= 0 {
		return time.Time{}
	}
	return l.clock.Now().Add(l.timeout)
}

// gateTries is how many times tryGate tries a gate that others hold: with
// the default shortest backoff of 1 ms it waits 2 + 4 + 8 ms in all, time
// for a reader or a slot's taker to pass through on a local or a network
// filesystem, and short beside a writer's hold.
const gateTries = 4

// tryGate takes the gate l without waiting for long: others pass through a
// gate in a moment (a reader entering, a process taking a free slot), so
// it is tried again a few times, the lock's shortest backoff apart, before
// it is reported busy (a writer inside, a process waiting for a slot).
func (l *Lock) tryGate() error {
	var err error
	for try := range gateTries {
		if try > 0 {
			if serr := l.clock.Sleep(context.Background(), l.minWait<<try); serr != nil {
				return serr
			}
		}
		if err = l.TryLock(); !errors.Is(err, ErrBusy) {
			return err
		}
	}
	return err
}

// readCount reads the count file name: 0 if there is none. A file that
// does not hold a count is foreign: an error wrapping ErrForeignFile, the
// file left alone.
func (l *Lock) readCount(name string) (int, error) {
	data, err := l.readRetrying(name)
	switch {
	case isNotExist(err):
		return 0, nil
	case isForeignObject(err):
		return 0, fmt.Errorf("%s: %w", name, asForeign(err))
	case err != nil:
		return 0, fmt.Errorf("reading %s: %w", name, err)
	}
	n, perr := strconv.Atoi(strings.TrimSpace(string(data)))
	if perr != nil || n < 0 || n > maxSlots {
		return 0, fmt.Errorf("%w: %s holds %q, not a count; remove it if no process uses the lock", ErrForeignFile, name, excerpt(string(data)))
	}
	return n, nil
}

// maxSlots bounds a count: a semaphore's slots, the reader slots a writer
// passes.
const maxSlots = 1 << 20

// writeCount replaces the count file name with n while l, a gate, holds
// its lock: it writes a temporary file next to its claim file and renames
// it over name once it has checked that it still holds the lock. A rename
// whose reply was lost, the call sent again finding nothing to move (on the
// first try too: an NFS client sends it again itself), is known done when
// name holds what was written: only a holder of the gate writes it.
func (l *Lock) writeCount(name string, n int) (err error) {
	tmp := l.claim + countTempSuffix
	data := []byte(strconv.Itoa(n) + "\n")
	defer func() {
		if err != nil {
			if rerr := l.removeIfExists(tmp); rerr != nil {
				err = appendErr(err, fmt.Errorf("removing %s: %w", tmp, rerr))
			}
		}
	}()
	// A temporary file that vanishes before the rename was removed by a
	// breaker of the gate (the next look finds the lock lost) or by someone
	// else at work in the directory: it is written again, as nextToken's.
	retry(func(int) bool {
		if err = l.writeFresh(tmp, data); err != nil {
			err = fmt.Errorf("writing %s: %w", tmp, err)
			return true
		}
		if !l.IsLocked() {
			err = fmt.Errorf("%w before %s was written", ErrLost, name)
			return true
		}
		err = l.retryErr(func(int) error {
			err := l.fsys.Rename(tmp, name)
			if isNotExist(err) {
				if got, rerr := l.readRetrying(name); rerr == nil && string(got) == string(data) {
					return nil
				}
			}
			return err
		})
		if err != nil {
			err = fmt.Errorf("renaming %s over %s: %w", tmp, name, err)
		}
		return !isNotExist(err)
	})
	if err != nil && isNotExist(err) {
		err = fmt.Errorf("%w: the temporary file %s was removed each time it was written, %d times: %w", ErrBusy, tmp, maxTries, err)
	}
	return err
}

// releaseAll releases each held lock in ls, and returns their errors.
func releaseAll(ls ...*Lock) error {
	var errs error
	for _, l := range ls {
		if l == nil {
			continue
		}
		if err := l.Unlock(); err != nil && !errors.Is(err, ErrNotLocked) {
			errs = appendErr(errs, err)
		}
	}
	return errs
}

// A SlotDetails describes the holder of one slot of a shared lock (a
// reader) or of a semaphore.
type SlotDetails struct {
	Index int // the slot's number, from 0
	Details
	// Expired is set when the slot's lock has expired: its holder may be
	// dead, and the slot is broken once it has been expired for longer
	// than the clock slop.
	Expired bool
}

// slotDetails lists the held slots among 0..n-1 of kind, looked at with
// Locks on them that take nothing.
func (p parts) slotDetails(look *Lock, kind string, n int) ([]SlotDetails, error) {
	var out []SlotDetails
	err := p.lookAtSlots(kind, n, func(k int) (bool, error) {
		sl, err := p.newPart(slotName(p.path, kind, k))
		if err != nil {
			return false, err
		}
		d, err := sl.Details()
		switch {
		case errors.Is(err, ErrNotLocked):
			return false, nil
		case err != nil:
			return false, err
		}
		out = append(out, SlotDetails{Index: k, Details: d, Expired: d.Expires.Before(look.serverNow())})
		return false, nil
	})
	var e *Error
	switch {
	case err != nil && errors.As(err, &e):
		return nil, err // a slot's Details, naming the slot
	case err != nil:
		return nil, &Error{Op: "status", Path: p.gate.path, Err: err}
	}
	return out, nil
}

// AdoptReader is Adopt for a reader of the RWLock at path: it returns the
// reader slot held in the name of this host and pid (see Adopt), for a
// command-line tool that takes a shared lock for a shell script in one run
// and keeps it alive or releases it in others. It returns an error
// wrapping ErrNotLocked if no reader slot names this host and pid.
func AdoptReader(path string, fsys FS, opts ...Option) (*Lock, error) {
	return adoptSlot(path, "reader", ".readers", fsys, opts)
}

// AdoptSlot is Adopt for a slot of the Semaphore at path: it returns the
// slot held in the name of this host and pid (see AdoptReader).
func AdoptSlot(path string, fsys FS, opts ...Option) (*Lock, error) {
	return adoptSlot(path, "slot", ".slots", fsys, opts)
}

func adoptSlot(path, kind, countSuffix string, fsys FS, opts []Option) (*Lock, error) {
	p, err := newParts(path, fsys, opts)
	if err != nil {
		return nil, err
	}
	gate := p.gate
	n, err := gate.readCount(gate.path + countSuffix)
	if err != nil {
		return nil, &Error{Op: "adopt", Path: gate.path, Err: err}
	}
	var held *Lock
	err = p.lookAtSlots(kind, n, func(k int) (bool, error) {
		l, err := Adopt(slotName(gate.path, kind, k), fsys, append(append([]Option(nil), opts...), WithHostname(gate.hostname), WithPID(gate.pid))...)
		switch {
		case err == nil:
			held = l
			return true, nil
		case errors.Is(err, ErrNotLocked):
			return false, nil
		}
		return false, err
	})
	var e *Error
	switch {
	case held != nil:
		return held, nil
	case err != nil && errors.As(err, &e):
		return nil, err // Adopt's, naming the slot
	case err != nil:
		return nil, &Error{Op: "adopt", Path: gate.path, Err: err}
	}
	return nil, &Error{Op: "adopt", Path: gate.path, Err: fmt.Errorf("%w: no %s slot names host %q pid %d", ErrNotLocked, kind, gate.hostname, gate.pid)}
}
