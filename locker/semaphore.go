package locker

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// A Semaphore lets at most N processes, on any hosts sharing a directory,
// hold one of its N slots at a time: "at most 4 jobs download at once".
// Each slot is an exclusive lock, <path>.slot.<k>, with everything an
// exclusive lock has: a lifetime, keep-alive, race-free breaking of a dead
// holder's slot after lifetime + slop by any host, fencing tokens
// (WithFencing, one counter per slot). The lock file at path itself is the
// gate: a process takes it, waits for a free slot while holding it (kept
// alive), takes the slot and lets the gate go, so slots go to waiters in
// the order they pass the gate, not to whoever polls a slot first. N is
// recorded in <path>.slots by the first process to take a slot; one that
// asks for another N gets ErrInvalid, naming both.
//
// A Semaphore value holds at most one slot at a time, like a Lock; use one
// per goroutine that takes a slot. The files and their rules are in
// docs/algorithm.md, "Shared locks and semaphores".
type Semaphore struct {
	p         parts
	n         int
	countPath string

	mu      sync.Mutex
	slots   []*Lock // made as they are first tried
	held    int     // the slot held, or -1
	checked bool    // the recorded N was found to be n
}

// A Slot is the slot of a Semaphore that Acquire took.
type Slot struct {
	Index int    // from 0 to N-1
	Token uint64 // its fencing token (WithFencing), or 0
}

// NewSemaphore returns a Semaphore of n slots at path, with the options of
// New, which apply to the gate and to each slot. It takes nothing and
// touches no file; n must be between 1 and 1 048 576.
func NewSemaphore(path string, n int, fsys FS, opts ...Option) (*Semaphore, error) {
	if n < 1 || n > maxSlots {
		return nil, &Error{Op: "new", Path: path, Err: invalidf("a semaphore has 1 to %d slots, not %d", maxSlots, n)}
	}
	p, err := newParts(path, fsys, opts, withoutFencing())
	if err != nil {
		return nil, err
	}
	return &Semaphore{p: p, n: n, countPath: p.gate.path + ".slots", slots: make([]*Lock, n), held: -1}, nil
}

// Gate returns the lock at the path the Semaphore was made with, which
// processes take in turn to wait for a slot.
func (s *Semaphore) Gate() *Lock { return s.p.gate }

// N returns the number of slots.
func (s *Semaphore) N() int { return s.n }

// slot returns the Lock on slot k, made on first use.
func (s *Semaphore) slot(k int) (*Lock, error) {
	if s.slots[k] == nil {
		l, err := s.p.newPart(slotName(s.p.gate.path, "slot", k))
		if err != nil {
			return nil, err
		}
		s.slots[k] = l
	}
	return s.slots[k], nil
}

// Acquire waits for a slot and takes it, until ctx is done or the timeout
// of WithTimeout has passed (ErrTimeout). It returns an error wrapping
// ErrAlreadyLocked if this Semaphore holds a slot, and one wrapping
// ErrInvalid if the semaphore was made with another number of slots.
func (s *Semaphore) Acquire(ctx context.Context) (Slot, error) {
	return s.acquire(ctx, false)
}

// TryAcquire takes a free slot without waiting for one. It returns an
// error wrapping ErrBusy if every slot is held, or if another process is
// waiting for a slot (it would be served first).
func (s *Semaphore) TryAcquire() (Slot, error) {
	return s.acquire(context.Background(), true)
}

func (s *Semaphore) acquire(ctx context.Context, try bool) (slot Slot, err error) {
	op := "acquire"
	if try {
		op = "tryacquire"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	gate := s.p.gate
	if s.held >= 0 {
		return Slot{}, &Error{Op: op, Path: gate.path, Err: fmt.Errorf("%w: slot %d", ErrAlreadyLocked, s.held)}
	}
	deadline := gate.deadline()
	if try {
		err = gate.tryGate()
	} else {
		err = gate.lockBy(ctx, deadline)
	}
	if err != nil {
		return Slot{}, err
	}
	defer func() {
		if uerr := gate.Unlock(); uerr != nil && err == nil {
			// Lost while this process waited (paused past its
			// lifetime): the slot it took is still its own.
			gate.log.Warn("the semaphore's gate was lost while waiting for a slot", "path", gate.path, "err", uerr)
		}
	}()
	if err := s.checkN(op); err != nil {
		return Slot{}, err
	}
	// The gate is kept alive while this process waits for a slot, from
	// the first time it finds them all held.
	var ka *KeepAlive
	defer func() {
		if ka != nil {
			ka.Stop()
		}
	}()
	wait := backoff{min: gate.minWait, max: gate.maxWait}
	for {
		k, err := s.takeFree()
		if err != nil {
			return Slot{}, &Error{Op: op, Path: gate.path, Err: err}
		}
		if k >= 0 {
			s.held = k
			return Slot{Index: k, Token: s.slots[k].Token()}, nil
		}
		if try {
			return Slot{}, &Error{Op: op, Path: gate.path, Err: fmt.Errorf("%w: all %d slots are held", ErrBusy, s.n)}
		}
		if ka == nil {
			if ka, err = gate.KeepAlive(ctx); err != nil {
				return Slot{}, err
			}
		}
		d := wait.next()
		if !deadline.IsZero() {
			left := deadline.Sub(gate.clock.Now())
			if left <= 0 {
				return Slot{}, &Error{Op: op, Path: gate.path, Err: &timeoutError{after: gate.timeout}}
			}
			d = min(d, left)
		}
		if err := gate.clock.Sleep(ka.Context(), d); err != nil {
			if cause := context.Cause(ka.Context()); errors.Is(cause, ErrLost) && ctx.Err() == nil {
				return Slot{}, &Error{Op: op, Path: gate.path, Err: fmt.Errorf("the gate, while waiting for a slot: %w", cause)}
			}
			return Slot{}, &Error{Op: op, Path: gate.path, Err: asTimeout(err)}
		}
	}
}

// checkN compares the recorded number of slots with the Semaphore's,
// recording it if no one has, under the gate.
func (s *Semaphore) checkN(op string) error {
	if s.checked {
		return nil
	}
	gate := s.p.gate
	recorded, err := gate.readCount(s.countPath)
	switch {
	case err != nil:
		return &Error{Op: op, Path: gate.path, Err: err}
	case recorded == 0:
		if err := gate.writeCount(s.countPath, s.n); err != nil {
			return &Error{Op: op, Path: gate.path, Err: err}
		}
	case recorded != s.n:
		return &Error{Op: op, Path: gate.path, Err: invalidf("the semaphore has %d slots (recorded in %s), not the %d asked for", recorded, s.countPath, s.n)}
	}
	s.checked = true
	return nil
}

// takeFree tries each slot once, from the first, and returns the one it
// took, or -1 if all are held. Trying a slot whose holder has been expired
// for longer than the slop breaks it.
func (s *Semaphore) takeFree() (int, error) {
	for k := range s.n {
		l, err := s.slot(k)
		if err != nil {
			return -1, err
		}
		err = l.TryLock()
		switch {
		case err == nil:
			return k, nil
		case !errors.Is(err, ErrBusy):
			return -1, err
		}
	}
	return -1, nil
}

// Release lets the held slot go. It returns an error wrapping ErrNotLocked
// if this Semaphore holds no slot, or if the slot was lost.
func (s *Semaphore) Release() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held < 0 {
		return &Error{Op: "release", Path: s.p.gate.path, Err: ErrNotLocked}
	}
	l := s.slots[s.held]
	s.held = -1
	return l.Unlock()
}

// Held returns the Lock of the slot this Semaphore holds, or nil: for its
// Refresh, IsLocked, Token, Expiration.
func (s *Semaphore) Held() *Lock {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held < 0 {
		return nil
	}
	return s.slots[s.held]
}

// KeepAlive keeps the held slot alive in the background and tells when it
// is lost (see Lock.KeepAlive).
func (s *Semaphore) KeepAlive(ctx context.Context) (*KeepAlive, error) {
	l := s.Held()
	if l == nil {
		return nil, &Error{Op: "keepalive", Path: s.p.gate.path, Err: ErrNotLocked}
	}
	return l.KeepAlive(ctx)
}

// Do takes a slot, runs fn while keeping it alive, and releases it, as
// Lock.Do does for a lock.
func (s *Semaphore) Do(ctx context.Context, fn func(ctx context.Context, slot Slot) error) error {
	slot, err := s.Acquire(ctx)
	if err != nil {
		return err
	}
	return s.Held().doHeld(ctx, func(ctx context.Context) error { return fn(ctx, slot) }, s.Release)
}

// SemaphoreStatus is what Status found.
type SemaphoreStatus struct {
	// Slots is the recorded number of slots, 0 if none is recorded yet.
	Slots int
	// Holders are the held slots.
	Holders []SlotDetails
	// Next is the process holding the gate, about to take a slot or
	// waiting for one; nil if none.
	Next *Details
}

// Status looks at the semaphore: its recorded number of slots, who holds
// which slot, who is next. It takes nothing.
func (s *Semaphore) Status() (SemaphoreStatus, error) {
	gate := s.p.gate
	var st SemaphoreStatus
	n, err := gate.readCount(s.countPath)
	if err != nil {
		return st, &Error{Op: "status", Path: gate.path, Err: err}
	}
	st.Slots = n
	if st.Holders, err = s.p.slotDetails(gate, "slot", max(n, s.n)); err != nil {
		return st, err
	}
	if d, err := gate.Details(); err == nil {
		st.Next = &d
	} else if !errors.Is(err, ErrNotLocked) {
		return st, err
	}
	return st, nil
}
