package conformance

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/vclock"
	"pgregory.net/rapid"
)

// The property tests of the shared lock and the semaphore: several
// processes, on one to three simulated hosts, take random actions on real
// RWLocks or Semaphores on the backend, driven by a virtual clock: try to
// take the lock, release it, refresh it, crash (stop for ever, holding
// what they hold), let time pass, and recover (every live process lets go;
// a live process must then get in once every crashed holder has been
// expired for longer than the slop, and not before). After every action:
//
//   - never a writer beside a reader, never two writers, never more than N
//     holders of a semaphore's slots, never two holders of one slot,
//     judged by IsLocked, the files themselves, of every process, crashed
//     or not;
//   - no holder loses its lock before it has been expired for longer than
//     the slop;
//   - an attempt to take the lock that nothing unbreakable stands in the
//     way of succeeds, and one that something unbreakable stands in the
//     way of fails with ErrBusy.

// A sharedProc is one process of a property test.
type sharedProc struct {
	name    string
	rw      *locker.RWLock    // in the RWLock test
	sem     *locker.Semaphore // in the Semaphore test
	mode    rwMode            // what it believes it holds: none, read or write
	crashed bool
	expiry  time.Time // of the lock it holds, as the filesystem keeps it
	owns    bool      // it held its lock after the last action (IsLocked)
}

type rwMode int

const (
	modeNone rwMode = iota
	modeRead
	modeWrite
)

// sharedMachine is the processes and the clock of one property check.
type sharedMachine struct {
	env   *Env
	clk   *vclock.Clock
	path  string
	n     int // the semaphore's slots
	procs []*sharedProc
	pids  *unusedPIDs
}

func newSharedMachine(outer *testing.T, t *rapid.T, b Backend, sem bool) *sharedMachine {
	env := b.New(outer)
	clk := env.Clock
	if clk == nil {
		clk = vclock.New(virtualStart)
	}
	clk.AutoAdvance(false)
	m := &sharedMachine{env: env, clk: clk, path: filepath.Join(env.Dir, "x.lock"), pids: newUnusedPIDs(env.FS)}
	hosts := rapid.IntRange(1, 3).Draw(t, "hosts")
	procs := rapid.IntRange(3, 4).Draw(t, "processes")
	if sem {
		m.n = rapid.IntRange(1, 3).Draw(t, "slots")
		procs++
	}
	for i := range procs {
		host := fmt.Sprintf("h%d", i%hosts)
		p := &sharedProc{name: fmt.Sprintf("P%d@%s", i, host)}
		opts := append(clockOptions(env, clk, true),
			locker.WithHostname(host), locker.WithPID(m.pids.next(t, host)),
			locker.WithLifetime(propLifetime), locker.WithClockSlop(propSlop),
			// Short backoffs: a try of a busy gate sleeps a few of them,
			// and run moves the clock by machineStep while anything
			// sleeps, a keep-alive too.
			locker.WithBackoff(machineStep/64, machineStep))
		var err error
		if sem {
			p.sem, err = locker.NewSemaphore(m.path, m.n, env.FS, opts...)
		} else {
			p.rw, err = locker.NewRWLock(m.path, env.FS, opts...)
		}
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		m.procs = append(m.procs, p)
	}
	return m
}

// pick draws a live process for which ok holds; it skips the action if
// there is none.
func (m *sharedMachine) pick(t *rapid.T, ok func(*sharedProc) bool) *sharedProc {
	var live []int
	for i, p := range m.procs {
		if !p.crashed && ok(p) {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		t.Skip("no process can act")
	}
	return m.procs[rapid.SampledFrom(live).Draw(t, "process")]
}

func anyProc(*sharedProc) bool { return true }

// machineStep is how far run moves the clock at a time.
const machineStep = 128 * time.Microsecond

// run calls f, moving the clock on by machineStep at a time while f (or
// its keep-alive) sleeps: a TryRLock, TryLock or TryAcquire tries a busy
// gate a few times, milliseconds apart. It returns the clock before and
// after.
func (m *sharedMachine) run(f func()) (start, end time.Time) {
	start = m.clk.Now()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	for {
		select {
		case <-done:
			return start, m.clk.Now()
		default:
		}
		if m.clk.Sleepers() > 0 {
			m.clk.Advance(machineStep)
		}
		runtime.Gosched()
	}
}

// breakable reports whether p's lock may be broken at time at.
func (p *sharedProc) breakable(at time.Time) bool { return at.After(p.expiry.Add(propSlop)) }

// held returns the lock p holds, or nil: its reader slot, its gate as the
// writer, its semaphore slot.
func (p *sharedProc) held() *locker.Lock {
	if p.sem != nil {
		return p.sem.Held()
	}
	if p.mode == modeWrite {
		return p.rw.Gate()
	}
	return nil
}

// isLocked reports whether p holds its lock, by the files.
func (p *sharedProc) isLocked() bool {
	if p.sem != nil {
		l := p.sem.Held()
		return l != nil && l.IsLocked()
	}
	return p.rw.IsLocked()
}

// blockers returns the processes other than p that own their locks and
// stand in the way of p's attempt (writers only, for a reader).
func (m *sharedMachine) blockers(p *sharedProc, writersOnly bool) []*sharedProc {
	var out []*sharedProc
	for _, q := range m.procs {
		if q != p && q.owns && (!writersOnly || q.mode == modeWrite) {
			out = append(out, q)
		}
	}
	return out
}

// unbreakable counts those of ps that may not be broken at time at.
func unbreakable(ps []*sharedProc, at time.Time) (n int, who string) {
	for _, q := range ps {
		if !q.breakable(at) {
			n++
			who = fmt.Sprintf("%s until %v", q.name, q.expiry.Add(propSlop).Sub(virtualStart))
		}
	}
	return n, who
}

// expectTry checks the outcome of an attempt to take the lock: it must
// succeed when fewer than room of blockers were unbreakable at start,
// and fail with ErrBusy when room or more were unbreakable at end.
func expectTry(t *rapid.T, p *sharedProc, op string, err error, blockers []*sharedProc, room int, start, end time.Time) {
	t.Helper()
	atStart, _ := unbreakable(blockers, start)
	atEnd, who := unbreakable(blockers, end)
	switch {
	case atStart < room && err != nil:
		t.Fatalf("%s: %s returned %v at %v, but nothing unbreakable stood in its way (%d of %d places)", p.name, op, err, end.Sub(virtualStart), atStart, room)
	case atEnd >= room && !errors.Is(err, locker.ErrBusy):
		t.Fatalf("%s: %s returned %v at %v, want ErrBusy: %d holder(s) may not be broken yet (such as %s), %d place(s)", p.name, op, err, end.Sub(virtualStart), atEnd, who, room)
	case err != nil && !errors.Is(err, locker.ErrBusy):
		t.Fatalf("%s: %s returned %v, want success or ErrBusy", p.name, op, err)
	}
}

// took records that p took its lock, with the expiry the files show.
func (m *sharedMachine) took(t *rapid.T, p *sharedProc, mode rwMode) {
	p.mode = mode
	if p.sem != nil {
		exp, err := p.sem.Held().Expiration()
		if err != nil {
			t.Fatalf("%s: Expiration of its slot: %v", p.name, err)
		}
		p.expiry = exp
		return
	}
	if mode == modeWrite {
		exp, err := p.rw.Gate().Expiration()
		if err != nil {
			t.Fatalf("%s: Expiration of the gate: %v", p.name, err)
		}
		p.expiry = exp
		return
	}
	st, err := p.rw.Status()
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	for _, r := range st.Readers {
		if r.PID == p.rw.Gate().PID() && r.Hostname == p.rw.Gate().Hostname() {
			p.expiry = r.Expires
			return
		}
	}
	t.Fatalf("%s: its RLock succeeded, but Status shows readers %+v, not it", p.name, st.Readers)
}

// tryRLock, tryLock: a process that holds nothing tries to take the lock.
func (m *sharedMachine) tryRLock(t *rapid.T) {
	p := m.pick(t, anyProc)
	var err error
	start, end := m.run(func() { err = p.rw.TryRLock() })
	if p.mode != modeNone {
		wantErr2(t, p, "TryRLock", err, locker.ErrAlreadyLocked)
		return
	}
	expectTry(t, p, "TryRLock", err, m.blockers(p, true), 1, start, end)
	if err == nil {
		m.took(t, p, modeRead)
	}
}

func (m *sharedMachine) tryLock(t *rapid.T) {
	p := m.pick(t, anyProc)
	var err error
	start, end := m.run(func() { err = p.rw.TryLock() })
	if p.mode != modeNone {
		wantErr2(t, p, "TryLock", err, locker.ErrAlreadyLocked)
		return
	}
	expectTry(t, p, "TryLock", err, m.blockers(p, false), 1, start, end)
	if err == nil {
		m.took(t, p, modeWrite)
	}
}

func (m *sharedMachine) tryAcquire(t *rapid.T) {
	p := m.pick(t, anyProc)
	var err error
	start, end := m.run(func() { _, err = p.sem.TryAcquire() })
	if p.mode != modeNone {
		wantErr2(t, p, "TryAcquire", err, locker.ErrAlreadyLocked)
		return
	}
	expectTry(t, p, "TryAcquire", err, m.blockers(p, false), m.n, start, end)
	if err == nil {
		m.took(t, p, modeRead)
	}
}

// release lets go of what p holds: nil if its lock is still its own,
// ErrNotLocked if it was broken or p holds nothing.
func (m *sharedMachine) release(t *rapid.T, p *sharedProc) {
	var err error
	var op string
	switch {
	case p.sem != nil:
		op = "Release"
		m.run(func() { err = p.sem.Release() })
	case p.mode == modeRead || p.mode == modeNone && rapid.Bool().Draw(t, "as reader"):
		op = "RUnlock"
		m.run(func() { err = p.rw.RUnlock() })
	default:
		op = "Unlock"
		m.run(func() { err = p.rw.Unlock() })
	}
	want := locker.ErrNotLocked
	if p.owns {
		want = nil
	}
	wantErr2(t, p, op, err, want)
	p.mode = modeNone
}

func (m *sharedMachine) releaseAction(t *rapid.T) { m.release(t, m.pick(t, anyProc)) }

// refresh moves p's expiry on: the writer's gate, or its semaphore slot.
func (m *sharedMachine) refresh(t *rapid.T) {
	p := m.pick(t, func(p *sharedProc) bool { return p.held() != nil })
	l := p.held()
	var err error
	m.run(func() { err = l.Refresh() })
	if !p.owns {
		wantErr2(t, p, "Refresh", err, locker.ErrNotLocked)
		return
	}
	wantErr2(t, p, "Refresh", err, nil)
	exp, err := l.Expiration()
	if err != nil {
		t.Fatalf("%s: Expiration after Refresh: %v", p.name, err)
	}
	p.expiry = exp
}

func (m *sharedMachine) crash(t *rapid.T) {
	p := m.pick(t, anyProc)
	p.crashed = true
}

func (m *sharedMachine) advance(t *rapid.T) {
	d := rapid.SampledFrom([]time.Duration{time.Millisecond, time.Second, 5 * time.Second, propSlop, propLifetime, propLifetime + propSlop}).Draw(t, "advance")
	m.clk.Advance(d)
}

// recover: every live process lets go; then a live process may not get in
// while a crashed holder may not be broken, and must get in once every
// crashed holder has been expired for longer than the slop.
func (m *sharedMachine) recover(t *rapid.T) {
	for _, p := range m.procs {
		if !p.crashed && p.mode != modeNone {
			m.release(t, p)
			p.owns = p.isLocked()
			if p.owns {
				t.Fatalf("%s: IsLocked after letting go", p.name)
			}
		}
	}
	p := m.pick(t, anyProc)
	room := 1
	if p.sem != nil {
		room = m.n
	}
	dead := m.blockers(p, false)
	var last time.Time
	for _, q := range dead {
		if b := q.expiry.Add(propSlop); b.After(last) {
			last = b
		}
	}
	if n, _ := unbreakable(dead, m.clk.Now()); n >= room {
		// Not yet: the attempt must fail.
		m.attempt(t, p, dead, room)
		if p.mode != modeNone {
			return
		}
	}
	if !m.clk.Now().After(last) {
		m.clk.Set(last.Add(time.Millisecond))
	}
	m.attempt(t, p, dead, room)
	if p.mode == modeNone {
		t.Fatalf("LIVENESS: %s could not take the lock at %v, when every crashed holder had been expired for longer than the slop (from %v)", p.name, m.clk.Now().Sub(virtualStart), last.Sub(virtualStart))
	}
}

// attempt makes p try to take the lock as the writer (or a semaphore slot).
func (m *sharedMachine) attempt(t *rapid.T, p *sharedProc, blockers []*sharedProc, room int) {
	var err error
	op := "TryLock"
	var start, end time.Time
	if p.sem != nil {
		op = "TryAcquire"
		start, end = m.run(func() { _, err = p.sem.TryAcquire() })
	} else {
		start, end = m.run(func() { err = p.rw.TryLock() })
	}
	expectTry(t, p, op+" after every live process let go", err, blockers, room, start, end)
	if err == nil {
		mode := modeWrite
		if p.sem != nil {
			mode = modeRead
		}
		m.took(t, p, mode)
		p.owns = true
	}
}

// check judges the files after every action.
func (m *sharedMachine) check(t *rapid.T) {
	now := m.clk.Now()
	var writers, readers []string
	slots := map[string]string{}
	for _, p := range m.procs {
		owned := p.owns
		p.owns = p.isLocked()
		if p.owns && p.mode == modeNone {
			t.Fatalf("%s: IsLocked = true, but it holds nothing", p.name)
		}
		if owned && !p.owns && p.mode != modeNone && !p.breakable(now) {
			t.Fatalf("%s lost its lock at %v, before it had been expired for longer than the slop (expiry %v, slop %v)", p.name, now.Sub(virtualStart), p.expiry.Sub(virtualStart), propSlop)
		}
		if !p.owns {
			continue
		}
		switch {
		case p.sem != nil:
			f := p.sem.Held().LockFile()
			if q, ok := slots[f]; ok {
				t.Fatalf("%s: %s and %s both hold %s", semViolation, q, p.name, filepath.Base(f))
			}
			slots[f] = p.name
			readers = append(readers, p.name)
		case p.mode == modeWrite:
			writers = append(writers, p.name)
		default:
			readers = append(readers, p.name)
		}
	}
	switch {
	case m.n == 0 && len(writers) > 1:
		t.Fatalf("%s: two writers hold the lock: %s", rwViolation, strings.Join(writers, ", "))
	case m.n == 0 && len(writers) > 0 && len(readers) > 0:
		t.Fatalf("%s: writer %s holds the lock beside readers %s", rwViolation, writers[0], strings.Join(readers, ", "))
	case m.n > 0 && len(readers) > m.n:
		t.Fatalf("%s: %d processes hold slots of %d: %s", semViolation, len(readers), m.n, strings.Join(readers, ", "))
	}
}

// wantErr2 fails t unless err is want (nil meaning success).
func wantErr2(t *rapid.T, p *sharedProc, op string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: %s returned %v, want %v", p.name, op, err, want)
	}
}

// runRWMachine is the property test of the shared lock.
func runRWMachine(t *testing.T, b Backend) {
	check(t, b, 1, func(rt *rapid.T) {
		m := newSharedMachine(t, rt, b, false)
		rt.Repeat(map[string]func(*rapid.T){
			"TryRLock": m.tryRLock,
			"TryLock":  m.tryLock,
			"Release":  m.releaseAction,
			"Refresh":  m.refresh,
			"Crash":    m.crash,
			"Advance":  m.advance,
			"Recover":  m.recover,
			"":         m.check,
		})
	})
}

// runSemMachine is the property test of the semaphore.
func runSemMachine(t *testing.T, b Backend) {
	check(t, b, 1, func(rt *rapid.T) {
		m := newSharedMachine(t, rt, b, true)
		rt.Repeat(map[string]func(*rapid.T){
			"TryAcquire": m.tryAcquire,
			"Release":    m.releaseAction,
			"Refresh":    m.refresh,
			"Crash":      m.crash,
			"Advance":    m.advance,
			"Recover":    m.recover,
			"":           m.check,
		})
	})
}
