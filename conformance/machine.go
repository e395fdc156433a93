package conformance

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
	"pgregory.net/rapid"
)

// machineTimeout is how long Lock waits in the state machine's "Lock" action.
const machineTimeout = 20 * time.Second

// runStateMachine runs random sequences of actions by several locks on
// several simulated hosts, and after every action compares the backend with
// a model of what flufl.lock's rules say must have happened.
func runStateMachine(t *testing.T, b Backend) { runMachine(t, b, false) }

// runMachine runs the state machine; with fencing, every lock fences and
// its tokens are checked too (see fencing.go).
func runMachine(t *testing.T, b Backend, fencing bool) {
	check(t, b, 1, func(rt *rapid.T) {
		m := newMachine(t, rt, b, fencing)
		rt.Repeat(map[string]func(*rapid.T){
			"TryLock": m.tryLock,
			"Lock":    m.lock,
			"Unlock":  m.unlock,
			"Refresh": m.refresh,
			"Crash":   m.crash,
			"Pause":   m.pause,
			"Resume":  m.resume,
			"Advance": m.advance,
			"":        m.check,
		})
	})
}

// machine is the system under test plus its model.
type machine struct {
	env   *Env
	clk   *memfs.Clock
	path  string
	locks []*machineLock

	// The model: who holds the lock (-1: no one) and until when.
	holder int
	expiry time.Time

	// granularity is how far below the time a lock wrote the filesystem
	// may store it.
	granularity time.Duration

	tokens *tokenLog // the fencing tokens given, if the locks fence
}

type machineLock struct {
	name    string
	l       *locker.Lock
	crashed bool // vanished without unlocking; never acts again
	paused  bool // alive but doing nothing (not refreshing) until resumed
}

func newMachine(outer *testing.T, t *rapid.T, b Backend, fencing bool) *machine {
	env := b.New(outer)
	clk := env.Clock
	if clk == nil {
		clk = memfs.NewClock(virtualStart)
	}
	m := &machine{env: env, clk: clk, path: filepath.Join(env.Dir, "x.lock"), holder: -1, granularity: max(b.TimeGranularity, time.Microsecond)}
	if fencing {
		m.tokens = &tokenLog{}
	}
	hosts := rapid.IntRange(1, 3).Draw(t, "hosts")
	n := rapid.IntRange(2, 4).Draw(t, "locks")
	for i := range n {
		name := fmt.Sprintf("L%d@h%d", i, i%hosts)
		opts := append(clockOptions(env, clk, true),
			locker.WithHostname(fmt.Sprintf("h%d", i%hosts)), locker.WithPID(100+i),
			locker.WithLifetime(propLifetime), locker.WithClockSlop(propSlop), locker.WithTimeout(machineTimeout))
		if fencing {
			opts = append(opts, locker.WithFencing())
		}
		l, err := locker.New(m.path, env.FS, opts...)
		if err != nil {
			t.Fatalf("locker.New: %v", err)
		}
		m.locks = append(m.locks, &machineLock{name: name, l: l})
	}
	return m
}

// pick draws a lock that can act; it skips the action if none can.
func (m *machine) pick(t *rapid.T, ok func(*machineLock) bool) (int, *machineLock) {
	var ids []int
	for i, ml := range m.locks {
		if !ml.crashed && ok(ml) {
			ids = append(ids, i)
		}
	}
	if len(ids) == 0 {
		t.Skip("no lock can act")
	}
	i := rapid.SampledFrom(ids).Draw(t, "lock")
	return i, m.locks[i]
}

func active(ml *machineLock) bool { return !ml.paused }

// breakable reports whether the model's lock may be broken now.
func (m *machine) breakable() bool {
	return m.holder >= 0 && m.clk.Now().After(m.expiry.Add(propSlop))
}

// take records that lock i now holds the lock, expiring a lifetime from
// now. The model keeps the expiry the filesystem stored, which may be
// rounded down to its timestamp granularity (100 ns on NTFS).
func (m *machine) take(t *rapid.T, i int) {
	m.holder = i
	m.expiry = m.storedExpiry(t, i, m.clk.Now().Add(propLifetime))
	m.tokens.record(m.locks[i].name, m.locks[i].l.Token())
	if v := m.tokens.failure(); v != "" {
		t.Fatal(v)
	}
}

// storedExpiry returns lock i's expiry as stored, after checking that it is
// want, give or take the filesystem's timestamp granularity.
func (m *machine) storedExpiry(t *rapid.T, i int, want time.Time) time.Time {
	exp, err := m.locks[i].l.Expiration()
	if err != nil || exp.After(want) || exp.Before(want.Add(-m.granularity)) {
		t.Fatalf("%s: lock expires %v (%v), want now + lifetime = %v (to the filesystem's granularity, %v)", m.locks[i].name, exp.Sub(virtualStart), err, want.Sub(virtualStart), m.granularity)
	}
	return exp
}

func (m *machine) tryLock(t *rapid.T) {
	i, ml := m.pick(t, active)
	err := ml.l.TryLock()
	switch {
	case m.holder == i:
		wantErr(t, ml, "TryLock", err, locker.ErrAlreadyLocked, "it holds the lock")
	case m.holder < 0 || m.breakable():
		wantErr(t, ml, "TryLock", err, nil, "the lock is free or breakable")
		m.take(t, i)
	default:
		wantErr(t, ml, "TryLock", err, locker.ErrBusy, fmt.Sprintf("%s holds the lock until %v", m.locks[m.holder].name, m.expiry.Sub(virtualStart)))
	}
}

// lock waits, on a clock that moves on by itself while the lock sleeps.
func (m *machine) lock(t *rapid.T) {
	i, ml := m.pick(t, active)
	start := m.clk.Now()
	m.clk.AutoAdvance(true)
	err := ml.l.Lock(context.Background())
	m.clk.AutoAdvance(false)
	now := m.clk.Now()
	switch {
	case m.holder == i:
		wantErr(t, ml, "Lock", err, locker.ErrAlreadyLocked, "it holds the lock")
		return
	case m.holder < 0 || start.After(m.expiry.Add(propSlop)):
		wantErr(t, ml, "Lock", err, nil, "the lock is free or breakable")
		if !now.Equal(start) {
			t.Fatalf("%s: Lock of a free or breakable lock waited %v", ml.name, now.Sub(start))
		}
		m.take(t, i)
		return
	}
	// Busy: it may be broken once expiry + slop has passed, which a waiter
	// notices within one backoff step; or the wait times out first.
	breakAt := m.expiry.Add(propSlop)
	deadline := start.Add(machineTimeout)
	switch {
	case err == nil:
		if !now.After(breakAt) || now.After(breakAt.Add(locker.DefaultMaxBackoff)) {
			t.Fatalf("%s: Lock took the lock at %v; it could be broken only after %v, and should have been within one backoff step (%v) of that",
				ml.name, now.Sub(virtualStart), breakAt.Sub(virtualStart), locker.DefaultMaxBackoff)
		}
		m.take(t, i)
	case errors.Is(err, locker.ErrTimeout):
		if breakAt.Before(deadline.Add(-locker.DefaultMaxBackoff)) {
			t.Fatalf("LIVENESS: %s: Lock timed out at %v (%v), but the lock could be broken from %v, well before the %v timeout ended",
				ml.name, now.Sub(virtualStart), err, breakAt.Sub(virtualStart), machineTimeout)
		}
		if now.Before(deadline) {
			t.Fatalf("%s: Lock timed out after %v, before its %v timeout", ml.name, now.Sub(start), machineTimeout)
		}
	default:
		t.Fatalf("%s: Lock: unexpected error %v", ml.name, err)
	}
}

func (m *machine) unlock(t *rapid.T) {
	i, ml := m.pick(t, active)
	err := ml.l.Unlock()
	if m.holder == i {
		wantErr(t, ml, "Unlock", err, nil, "it holds the lock")
		m.holder = -1
	} else {
		wantErr(t, ml, "Unlock", err, locker.ErrNotLocked, "it does not hold the lock")
	}
}

func (m *machine) refresh(t *rapid.T) {
	i, ml := m.pick(t, active)
	err := ml.l.Refresh()
	if m.holder == i {
		wantErr(t, ml, "Refresh", err, nil, "it holds the lock")
		m.expiry = m.storedExpiry(t, i, m.clk.Now().Add(propLifetime))
	} else {
		wantErr(t, ml, "Refresh", err, locker.ErrNotLocked, "it does not hold the lock")
	}
}

func (m *machine) crash(t *rapid.T) {
	_, ml := m.pick(t, func(*machineLock) bool { return true })
	ml.crashed = true
}

func (m *machine) pause(t *rapid.T) {
	_, ml := m.pick(t, active)
	ml.paused = true
}

func (m *machine) resume(t *rapid.T) {
	_, ml := m.pick(t, func(ml *machineLock) bool { return ml.paused })
	ml.paused = false
}

func (m *machine) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{time.Millisecond, time.Second, 5 * time.Second, propSlop, propLifetime, propLifetime + propSlop}).Draw(t, "advance")
	m.clk.Advance(d)
}

// check compares the backend with the model after every action.
func (m *machine) check(t *rapid.T) {
	holders := 0
	for i, ml := range m.locks {
		if ml.crashed {
			continue
		}
		got := ml.l.IsLocked()
		if got {
			holders++
		}
		if want := m.holder == i; got != want {
			t.Fatalf("%s: IsLocked() = %v, want %v (model: holder %s, expiry %v, clock %v)",
				ml.name, got, want, m.holderName(), m.expiry.Sub(virtualStart), m.clk.Now().Sub(virtualStart))
		}
	}
	if holders > 1 {
		t.Fatalf("%s: %d locks report IsLocked() = true", mutexViolation, holders)
	}
	names, err := m.env.List()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	var want []string
	if m.holder >= 0 {
		h := m.locks[m.holder].l
		want = []string{filepath.Base(h.ClaimFile()), filepath.Base(m.path)}
		slices.Sort(want)
		b, err := m.env.FS.ReadFile(m.path)
		if err != nil || string(b) != h.ClaimFile() {
			t.Fatalf("lock file holds %q (%v), want the holder %s's claim name", b, err, m.holderName())
		}
		if exp, err := h.Expiration(); err != nil || !exp.Equal(m.expiry) {
			t.Fatalf("lock expires %v (%v), model says %v", exp.Sub(virtualStart), err, m.expiry.Sub(virtualStart))
		}
	}
	if v := m.tokens.checkCounter(m.env.FS, m.path); v != "" {
		t.Fatal(v)
	}
	want = m.tokens.withCounter(want, m.path)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("directory holds %q, want %q (no claim or temporary file may remain beside the lock and its holder's claim, and the counter of fencing tokens if the locks fence)", names, want)
	}
}

func (m *machine) holderName() string {
	if m.holder < 0 {
		return "none"
	}
	return m.locks[m.holder].name
}

// wantErr fails t unless err is want (nil meaning success).
func wantErr(t *rapid.T, ml *machineLock, op string, err, want error, why string) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: %s returned %v, want %v because %s", ml.name, op, err, want, why)
	}
}
