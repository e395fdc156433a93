package locker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// An RWLock is a lock that many readers, or one writer, hold at a time,
// across processes and hosts sharing a directory, with writer preference:
// a writer that waits stops new readers from entering, then waits for the
// readers inside to leave.
//
// It is made of exclusive locks (docs/algorithm.md, "Shared locks and
// semaphores"), so every file it uses is a lease that any host breaks once
// its holder has been dead for lifetime + slop, by the race-free breaking
// of the exclusive lock:
//
//   - the gate, the lock file at path: a writer holds it from the time it
//     starts to wait until it unlocks; a reader holds it only to enter;
//   - a slot per reader inside, <path>.reader.<k>, taken under the gate;
//   - <path>.readers, written under the gate: the number of reader slots
//     in use, which a writer holding the gate passes one by one, waiting
//     for each reader to leave (or breaking a dead one's slot).
//
// A reader checks, after it has taken its slot, that the gate was still its
// own: a reader that stalled with the gate past its lifetime, while a writer
// broke the gate and passed the slots, gives its slot back and enters
// again. A writer keeps the gate alive while it waits, and checks it is
// still its own once every reader is out.
//
// An RWLock value is one holder, in one mode at a time; use one per
// goroutine. Writers get fencing tokens with WithFencing (the gate's
// counter, <path>.fence); readers get none. A flufl.lock process pointed at
// path takes the gate as a writer would, but without waiting for readers:
// do not mix them.
type RWLock struct {
	p         parts
	entry     *Lock // the readers' pass through the gate: no fencing
	countPath string

	mu       sync.Mutex
	mode     rwMode
	slots    []*Lock // reader slots below keptSlots, made as they are first used
	readSlot *Lock   // the slot held while reading
}

type rwMode int

const (
	rwNone rwMode = iota
	rwRead
	rwWrite
)

// NewRWLock returns an RWLock at path, with the options of New, which apply
// to the gate and to every reader slot. It takes nothing and touches no
// file.
func NewRWLock(path string, fsys FS, opts ...Option) (*RWLock, error) {
	p, err := newParts(path, fsys, opts)
	if err != nil {
		return nil, err
	}
	entry, err := p.newPart(p.gate.path, withoutFencing())
	if err != nil {
		return nil, err
	}
	return &RWLock{p: p, entry: entry, countPath: p.gate.path + ".readers"}, nil
}

// Gate returns the writer's lock at the path the RWLock was made with: its
// Token, Expiration, Refresh while writing.
func (rw *RWLock) Gate() *Lock { return rw.p.gate }

// slot returns the Lock on reader slot k, made on first use and kept for
// the next if k is below keptSlots.
func (rw *RWLock) slot(k int) (*Lock, error) {
	if k < len(rw.slots) && rw.slots[k] != nil {
		return rw.slots[k], nil
	}
	l, err := rw.p.newPart(slotName(rw.p.gate.path, "reader", k), withoutFencing())
	if err != nil {
		return nil, err
	}
	if k < keptSlots {
		for len(rw.slots) <= k {
			rw.slots = append(rw.slots, nil)
		}
		rw.slots[k] = l
	}
	return l, nil
}

// keptSlots bounds the reader slots an RWLock keeps a Lock for: the count
// a writer passes is whatever the count file says, up to maxSlots, and a
// count file holding a million (a co-tenant's, or a corrupt one) must not
// make a million Locks live on. A reader's own slot, above it, is kept in
// readSlot while it reads.
const keptSlots = 64

// RLock waits until no writer holds or waits for the lock, and takes it as
// a reader, until ctx is done or the timeout of WithTimeout has passed.
func (rw *RWLock) RLock(ctx context.Context) error { return rw.rlock(ctx, false) }

// TryRLock takes the lock as a reader without waiting for a writer: it
// returns an error wrapping ErrBusy if a writer holds the lock or waits for
// it. (It may wait a few milliseconds for other readers entering.)
func (rw *RWLock) TryRLock() error { return rw.rlock(context.Background(), true) }

func (rw *RWLock) rlock(ctx context.Context, try bool) error {
	op := "rlock"
	if try {
		op = "tryrlock"
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.mode != rwNone {
		return &Error{Op: op, Path: rw.p.gate.path, Err: ErrAlreadyLocked}
	}
	deadline := rw.entry.deadline()
	for {
		var err error
		if try {
			err = rw.entry.tryGate()
		} else {
			err = rw.entry.lockBy(ctx, deadline)
		}
		if err != nil {
			return err
		}
		k, l, err := rw.enter()
		uerr := rw.entry.Unlock()
		switch {
		case errors.Is(err, ErrLost), err == nil && k < 0:
			// The gate was lost before the count was written or the
			// slot was taken: a writer may have passed it. Nothing is
			// held; enter again.
			rw.entry.log.Warn("the gate was lost while entering as a reader; entering again", "path", rw.p.gate.path)
			continue
		case err != nil:
			return &Error{Op: op, Path: rw.p.gate.path, Err: appendErr(err, uerr)}
		}
		rw.mode, rw.readSlot = rwRead, l
		return nil
	}
}

// enter takes a reader slot while the entry holds the gate: the first free
// one below the count, or the next above it, raising the count first. It
// returns the slot's number and its Lock, or -1, holding nothing, if the
// gate was lost by the time the slot was taken.
func (rw *RWLock) enter() (int, *Lock, error) {
	gate := rw.entry
	n, err := gate.readCount(rw.countPath)
	if err != nil {
		return -1, nil, err
	}
	for k := 0; ; k++ {
		if k >= n {
			// Every slot a writer must pass is below the count.
			if err := gate.writeCount(rw.countPath, k+1); err != nil {
				return -1, nil, err
			}
			n = k + 1
		}
		l, err := rw.slot(k)
		if err != nil {
			return -1, nil, err
		}
		switch err := l.TryLock(); {
		case errors.Is(err, ErrBusy):
			continue
		case err != nil:
			return -1, nil, err
		}
		if !gate.IsLocked() {
			return -1, nil, l.Unlock()
		}
		return k, l, nil
	}
}

// RUnlock releases the lock held as a reader. It returns an error wrapping
// ErrNotLocked if this RWLock does not read, or if its reader slot was lost.
func (rw *RWLock) RUnlock() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.mode != rwRead {
		return &Error{Op: "runlock", Path: rw.p.gate.path, Err: ErrNotLocked}
	}
	rw.mode = rwNone
	l := rw.readSlot
	rw.readSlot = nil
	return l.Unlock()
}

// Lock takes the lock as the writer: it takes the gate, which stops new
// readers, then waits for each reader inside to leave, until ctx is done
// or the timeout of WithTimeout has passed.
func (rw *RWLock) Lock(ctx context.Context) error { return rw.lock(ctx, false) }

// TryLock takes the lock as the writer without waiting: it returns an error
// wrapping ErrBusy if another writer holds or waits for it, or a reader
// holds it or is entering.
func (rw *RWLock) TryLock() error { return rw.lock(context.Background(), true) }

func (rw *RWLock) lock(ctx context.Context, try bool) (err error) {
	op := "lock"
	if try {
		op = "trylock"
	}
	rw.mu.Lock()
	defer rw.mu.Unlock()
	gate := rw.p.gate
	if rw.mode != rwNone {
		return &Error{Op: op, Path: gate.path, Err: ErrAlreadyLocked}
	}
	deadline := gate.deadline()
	if try {
		// Busy whoever holds the gate: a writer, or a reader entering,
		// which is as good as inside.
		err = gate.TryLock()
	} else {
		err = gate.lockBy(ctx, deadline)
	}
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if uerr := gate.Unlock(); uerr != nil && !errors.Is(uerr, ErrNotLocked) {
				err = appendErr(err, uerr)
			}
		}
	}()
	if err := rw.passReaders(ctx, deadline, try); err != nil {
		return err
	}
	rw.mode = rwWrite
	return nil
}

// passReaders waits, holding the gate and keeping it alive, for the reader
// in each slot below the count to leave, takes each slot for a moment (a
// dead reader's is broken after lifetime + slop), and sets the count to 0.
//
// The count is whatever the count file says, up to maxSlots, so passing
// free slots may itself take long: the pass gives up at the deadline or
// when ctx is done, as a wait would, and a TryLock's pass, which has
// neither, gives up with ErrTimeout once it has taken the gate's lifetime.
// The gate is kept alive from the first reader found inside, or from a
// third of its lifetime into the pass, when a holder would refresh it.
func (rw *RWLock) passReaders(ctx context.Context, deadline time.Time, try bool) error {
	gate := rw.p.gate
	op := "lock"
	if try {
		op = "trylock"
	}
	n, err := gate.readCount(rw.countPath)
	if err != nil {
		return &Error{Op: op, Path: gate.path, Err: err}
	}
	if n == 0 {
		return nil
	}
	start := gate.clock.Now()
	if try {
		deadline = start.Add(gate.lifetime)
	}
	var ka *KeepAlive
	defer func() {
		if ka != nil {
			ka.Stop()
		}
	}()
	keepAlive := func() error {
		if ka != nil {
			return nil
		}
		var err error
		ka, err = gate.KeepAlive(ctx)
		return err
	}
	for k := range n {
		if err := ctx.Err(); err != nil {
			return &Error{Op: op, Path: gate.path, Err: fmt.Errorf("%w, passing reader slot %d of %d", asTimeout(err), k, n)}
		}
		now := gate.clock.Now()
		if !deadline.IsZero() && !now.Before(deadline) {
			return &Error{Op: op, Path: gate.path, Err: fmt.Errorf("%w after %v, passing reader slot %d of %d", ErrTimeout, now.Sub(start).Round(time.Millisecond), k, n)}
		}
		if ka != nil {
			if cause := context.Cause(ka.Context()); cause != nil {
				return &Error{Op: op, Path: gate.path, Err: fmt.Errorf("the gate, while passing reader slots: %w", cause)}
			}
		}
		if now.Sub(start) >= gate.lifetime/3 {
			if err := keepAlive(); err != nil {
				return err
			}
		}
		l, err := rw.slot(k)
		if err != nil {
			return err
		}
		err = l.TryLock()
		if errors.Is(err, ErrBusy) && !try {
			if err := keepAlive(); err != nil {
				return err
			}
			err = l.lockBy(ka.Context(), deadline)
		}
		if err != nil {
			if ka != nil {
				if cause := context.Cause(ka.Context()); errors.Is(cause, ErrLost) {
					return &Error{Op: op, Path: gate.path, Err: fmt.Errorf("the gate, while waiting for readers to leave: %w", cause)}
				}
			}
			if errors.Is(err, ErrBusy) {
				return &Error{Op: op, Path: gate.path, Err: fmt.Errorf("%w: a reader holds it (slot %d)", ErrBusy, k)}
			}
			return err
		}
		if err := l.Unlock(); err != nil {
			return err
		}
	}
	if ka != nil {
		// The keep-alive stops before the count is written: where links
		// are not counted, writeCount's look at the gate (IsLocked)
		// compares the dates of the lock and claim files, which a refresh
		// between its two stats would set apart.
		ka.Stop()
		if err := ka.Err(); err != nil {
			return err
		}
	}
	if err := gate.writeCount(rw.countPath, 0); err != nil {
		return &Error{Op: op, Path: gate.path, Err: err}
	}
	return nil
}

// Unlock releases the lock held as the writer. It returns an error wrapping
// ErrNotLocked if this RWLock does not write, or if the gate was lost.
func (rw *RWLock) Unlock() error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	if rw.mode != rwWrite {
		return &Error{Op: "unlock", Path: rw.p.gate.path, Err: ErrNotLocked}
	}
	rw.mode = rwNone
	return rw.p.gate.Unlock()
}

// held returns the Lock this RWLock holds in its mode (the gate while
// writing, its slot while reading), or nil.
func (rw *RWLock) held() *Lock {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	switch rw.mode {
	case rwRead:
		return rw.readSlot
	case rwWrite:
		return rw.p.gate
	}
	return nil
}

// KeepAlive keeps the lock alive in the background in whichever mode it is
// held, and tells when it is lost (see Lock.KeepAlive).
func (rw *RWLock) KeepAlive(ctx context.Context) (*KeepAlive, error) {
	l := rw.held()
	if l == nil {
		return nil, &Error{Op: "keepalive", Path: rw.p.gate.path, Err: ErrNotLocked}
	}
	return l.KeepAlive(ctx)
}

// IsLocked reports whether this RWLock holds the lock, in either mode, and
// it is still its own.
func (rw *RWLock) IsLocked() bool {
	l := rw.held()
	return l != nil && l.IsLocked()
}

// Token returns the fencing token of the latest write (see WithFencing), 0
// without fencing.
func (rw *RWLock) Token() uint64 { return rw.p.gate.Token() }

// Do takes the lock as the writer, runs fn while keeping it alive, and
// releases it, as Lock.Do does.
func (rw *RWLock) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := rw.Lock(ctx); err != nil {
		return err
	}
	return rw.p.gate.doHeld(ctx, fn, rw.Unlock)
}

// RDo takes the lock as a reader, runs fn while keeping it alive, and
// releases it, as Lock.Do does.
func (rw *RWLock) RDo(ctx context.Context, fn func(ctx context.Context) error) error {
	if err := rw.RLock(ctx); err != nil {
		return err
	}
	return rw.held().doHeld(ctx, fn, rw.RUnlock)
}

// RWStatus is what Status found.
type RWStatus struct {
	// Gate is the holder of the gate: the writer, one waiting for the
	// readers to leave, or a reader entering; nil if none.
	Gate *Details
	// Readers are the readers inside.
	Readers []SlotDetails
}

// Status looks at the lock: who holds the gate and who reads. It takes
// nothing.
func (rw *RWLock) Status() (RWStatus, error) {
	gate := rw.p.gate
	var st RWStatus
	n, err := gate.readCount(rw.countPath)
	if err != nil {
		return st, &Error{Op: "status", Path: gate.path, Err: err}
	}
	if st.Readers, err = rw.p.slotDetails(gate, "reader", n); err != nil {
		return st, err
	}
	if d, err := gate.Details(); err == nil {
		st.Gate = &d
	} else if !errors.Is(err, ErrNotLocked) {
		return st, err
	}
	return st, nil
}
