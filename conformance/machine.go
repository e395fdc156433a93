package conformance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
	"github.com/nfslock/nfslock/locker/vclock"
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
			"TryLock":     m.tryLock,
			"Lock":        m.lock,
			"Unlock":      m.unlock,
			"Refresh":     m.refresh,
			"KeepAlive":   m.keepAlive,
			"State":       m.state,
			"Break":       m.breakLock,
			"Fault":       m.fault,
			"Crash":       m.crash,
			"CrashDuring": m.crashDuring,
			"Pause":       m.pause,
			"Resume":      m.resume,
			"Advance":     m.advance,
			"":            m.check,
		})
	})
}

// machine is the system under test plus its model.
type machine struct {
	env   *Env
	clk   *vclock.Clock
	path  string
	locks []*machineLock

	// The model: who holds the lock (-1: no one) and until when.
	holder int
	expiry time.Time
	// A break lock left by a lock that crashed while it held it is in the
	// way of breakers until breakLockFree (its expiry plus the slop).
	breakLockFree time.Time
	// strays are claim files of holders whose locks a lock broke before
	// it crashed, before it removed them.
	strays []string

	// granularity is how far below the time a lock wrote the filesystem
	// may store it.
	granularity time.Duration

	tokens *tokenLog // the fencing tokens given, if the locks fence

	pids *unusedPIDs // the pids of the locks' processes, none running
}

type machineLock struct {
	name    string
	l       *locker.Lock
	faults  *faultfs.FS // faults are injected here
	crasher *crashingFS // its backend, over faults: crashes happen here
	crashed bool        // vanished without unlocking; never acts again
	paused  bool        // alive but doing nothing (not refreshing) until resumed
}

// crashingFS is a lock's backend that can crash: from a chosen call on,
// every call fails without reaching the filesystem (nor the faults
// pending below it).
type crashingFS struct {
	locker.FS
	mu      sync.Mutex
	countTo int // crash at this call (0: never)
	calls   int
}

func (c *crashingFS) crashAt(k int) {
	c.mu.Lock()
	c.countTo, c.calls = k, 0
	c.mu.Unlock()
}

func (c *crashingFS) gone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.countTo == 0 {
		return false
	}
	c.calls++
	return c.calls >= c.countTo
}

func (c *crashingFS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	if c.gone() {
		return errCrashed
	}
	return c.FS.WriteFile(name, data, perm)
}

func (c *crashingFS) ReadFile(name string) ([]byte, error) {
	if c.gone() {
		return nil, errCrashed
	}
	return c.FS.ReadFile(name)
}

func (c *crashingFS) Link(oldname, newname string) error {
	if c.gone() {
		return errCrashed
	}
	return c.FS.Link(oldname, newname)
}

func (c *crashingFS) Stat(name string) (locker.FileInfo, error) {
	if c.gone() {
		return locker.FileInfo{}, errCrashed
	}
	return c.FS.Stat(name)
}

func (c *crashingFS) Chtimes(name string, atime, mtime time.Time) error {
	if c.gone() {
		return errCrashed
	}
	return c.FS.Chtimes(name, atime, mtime)
}

func (c *crashingFS) Rename(oldname, newname string) error {
	if c.gone() {
		return errCrashed
	}
	return c.FS.Rename(oldname, newname)
}

func (c *crashingFS) Remove(name string) error {
	if c.gone() {
		return errCrashed
	}
	return c.FS.Remove(name)
}

func (c *crashingFS) ReadDirNames(dir string) ([]string, error) {
	if c.gone() {
		return nil, errCrashed
	}
	return c.FS.(locker.DirReader).ReadDirNames(dir)
}

func (c *crashingFS) ProcessAlive(host string, pid int) (bool, error) {
	return c.FS.(locker.ProcessChecker).ProcessAlive(host, pid)
}

func newMachine(outer *testing.T, t *rapid.T, b Backend, fencing bool) *machine {
	env := b.New(outer)
	clk := env.Clock
	if clk == nil {
		clk = vclock.New(virtualStart)
	}
	m := &machine{env: env, clk: clk, path: filepath.Join(env.Dir, "x.lock"), holder: -1, granularity: max(b.TimeGranularity, time.Microsecond)}
	if fencing {
		m.tokens = &tokenLog{}
	}
	hosts := rapid.IntRange(1, 3).Draw(t, "hosts")
	n := rapid.IntRange(3, 4).Draw(t, "locks")
	m.pids = newUnusedPIDs(env.FS)
	for i := range n {
		name := fmt.Sprintf("L%d@h%d", i, i%hosts)
		host := fmt.Sprintf("h%d", i%hosts)
		opts := append(clockOptions(env, clk, true),
			locker.WithHostname(host), locker.WithPID(m.pids.next(t, host)),
			locker.WithLifetime(propLifetime), locker.WithClockSlop(propSlop), locker.WithTimeout(machineTimeout))
		if fencing {
			opts = append(opts, locker.WithFencing())
		}
		faults := faultfs.New(env.FS)
		crasher := &crashingFS{FS: faults}
		l, err := locker.New(m.path, crasher, opts...)
		if err != nil {
			t.Fatalf("locker.New: %v", err)
		}
		m.locks = append(m.locks, &machineLock{name: name, l: l, faults: faults, crasher: crasher})
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

// blocked reports whether a break lock left by a crashed lock keeps
// breakers out now.
func (m *machine) blocked() bool { return !m.clk.Now().After(m.breakLockFree) }

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
	case m.holder < 0 || m.breakable() && !m.blocked():
		wantErr(t, ml, "TryLock", err, nil, "the lock is free or breakable")
		m.take(t, i)
	case m.breakable():
		wantErr(t, ml, "TryLock", err, locker.ErrBusy, fmt.Sprintf("the break lock left by a crashed lock keeps breakers out until %v", m.breakLockFree.Sub(virtualStart)))
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
	case m.holder < 0 || start.After(m.expiry.Add(propSlop)) && start.After(m.breakLockFree):
		wantErr(t, ml, "Lock", err, nil, "the lock is free or breakable")
		if now.Sub(start) > locker.DefaultMaxBackoff {
			t.Fatalf("%s: Lock of a free or breakable lock waited %v, more than one backoff step (%v; one attempt may fail with ESTALE)", ml.name, now.Sub(start), locker.DefaultMaxBackoff)
		}
		m.take(t, i)
		return
	}
	// Busy: it may be broken once expiry + slop has passed (and a break
	// lock left by a crashed lock has expired too), which a waiter notices
	// within one backoff step; or the wait times out first.
	breakAt := m.expiry.Add(propSlop)
	if m.breakLockFree.After(breakAt) {
		breakAt = m.breakLockFree
	}
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
	m.clk.AutoAdvance(true) // an expired holder may wait for a crashed lock's break lock
	err := ml.l.Unlock()
	m.clk.AutoAdvance(false)
	if m.holder == i {
		wantErr(t, ml, "Unlock", err, nil, "it holds the lock")
		m.holder = -1
	} else {
		wantErr(t, ml, "Unlock", err, locker.ErrNotLocked, "it does not hold the lock")
	}
}

func (m *machine) refresh(t *rapid.T) {
	i, ml := m.pick(t, active)
	m.clk.AutoAdvance(true) // an expired holder may wait for a crashed lock's break lock
	err := ml.l.Refresh()
	m.clk.AutoAdvance(false)
	if m.holder == i {
		wantErr(t, ml, "Refresh", err, nil, "it holds the lock")
		m.expiry = m.storedExpiry(t, i, m.clk.Now().Add(propLifetime))
	} else {
		wantErr(t, ml, "Refresh", err, locker.ErrNotLocked, "it does not hold the lock")
	}
}

// keepAlive starts a KeepAlive, lets it refresh once (a third of the
// lifetime on), and stops it.
func (m *machine) keepAlive(t *rapid.T) {
	i, ml := m.pick(t, active)
	if m.holder == i && m.blocked() {
		t.Skip("a crashed lock's break lock is in the way of an expired holder's refresh")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ka, err := ml.l.KeepAlive(ctx)
	if m.holder != i {
		wantErr(t, ml, "KeepAlive", err, locker.ErrNotLocked, "it does not hold the lock")
		return
	}
	wantErr(t, ml, "KeepAlive", err, nil, "it holds the lock")
	defer ka.Stop()
	if err := m.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatalf("%s: the KeepAlive did not wait for its first refresh", ml.name)
	}
	m.clk.Advance(propLifetime / 3)
	refreshed := m.clk.Now()
	asleep := make(chan error, 1)
	go func() { asleep <- m.clk.BlockUntilSleepers(ctx, 1) }()
	select {
	case <-ka.Lost():
		t.Fatalf("%s: the KeepAlive declared the lock lost (%v), which it holds (model: expiry %v, clock %v)", ml.name, ka.Err(), m.expiry.Sub(virtualStart), refreshed.Sub(virtualStart))
	case err := <-asleep:
		if err != nil {
			t.Fatalf("%s: the KeepAlive neither refreshed and waited again nor declared the lock lost", ml.name)
		}
	}
	m.expiry = m.storedExpiry(t, i, refreshed.Add(propLifetime))
}

// state compares State with the model.
func (m *machine) state(t *rapid.T) {
	i, ml := m.pick(t, active)
	got, err := ml.l.State()
	var want locker.State
	switch {
	case m.holder < 0:
		want = locker.Unlocked
	case m.holder == i && m.expiry.Before(m.clk.Now()):
		want = locker.OursExpired
	case m.holder == i:
		want = locker.Ours
	case m.locks[m.holder].l.Hostname() == ml.l.Hostname():
		want = locker.Stale // the model's pids run no process (unusedPIDs)
	default:
		want = locker.Unknown
	}
	if err != nil || got != want {
		t.Fatalf("%s: State() = %v (%v), want %v (model: holder %s, expiry %v, clock %v)", ml.name, got, err, want, m.holderName(), m.expiry.Sub(virtualStart), m.clk.Now().Sub(virtualStart))
	}
}

// breakLock is an operator's Break (a Lock of its own, as the command
// line's break makes).
func (m *machine) breakLock(t *rapid.T) {
	if m.blocked() {
		t.Skip("a crashed lock's break lock is in the way")
	}
	op, err := locker.New(m.path, m.env.FS, append(clockOptions(m.env, m.clk, true),
		locker.WithHostname("operator"), locker.WithPID(m.pids.next(t, "operator")), locker.WithLifetime(propLifetime), locker.WithClockSlop(propSlop))...)
	if err != nil {
		t.Fatalf("locker.New: %v", err)
	}
	ml := &machineLock{name: "operator", l: op}
	d, err := ml.l.Break()
	switch {
	case m.holder < 0:
		wantErr(t, ml, "Break", err, locker.ErrNotLocked, "no one holds the lock")
	case m.breakable():
		wantErr(t, ml, "Break", err, nil, "the lock has expired for longer than the slop")
		if h := m.locks[m.holder].l; d.PID != h.PID() || d.Hostname != h.Hostname() {
			t.Fatalf("%s: Break returned holder %+v, want %s", ml.name, d, m.holderName())
		}
		m.holder = -1
	default:
		wantErr(t, ml, "Break", err, locker.ErrBusy, "the lock has not expired for longer than the slop")
	}
}

// fault makes the next call of some kind by one lock go wrong in a way the
// lock must see through: a link, remove or create whose reply is lost (it
// was done, and the retried request finds it done), or a link that fails
// with ESTALE (and is retried). The model does not change.
func (m *machine) fault(t *rapid.T) {
	_, ml := m.pick(t, func(*machineLock) bool { return true })
	switch rapid.IntRange(0, 3).Draw(t, "fault") {
	case 0:
		ml.faults.LoseReply(faultfs.OpLink, 1, syscall.EEXIST)
	case 1:
		ml.faults.LoseReply(faultfs.OpRemove, 1, syscall.ENOENT)
	case 2:
		ml.faults.LoseReply(faultfs.OpWriteFile, 1, syscall.EEXIST)
	case 3:
		ml.faults.Fail(faultfs.OpLink, 1, locker.Transient(syscall.ESTALE))
	}
}

// crashDuring crashes a lock in the middle of an operation: before its
// k-th backend call, it and every later call fail without reaching the
// filesystem. The model then learns from the lock file what the crash
// left, and checks that it is something the operation could have left.
func (m *machine) crashDuring(t *rapid.T) {
	i, ml := m.pick(t, active)
	op := rapid.SampledFrom([]string{"TryLock", "Lock", "Unlock", "Refresh", "Break"}).Draw(t, "operation")
	k := rapid.IntRange(1, 16).Draw(t, "crash before call")
	ml.crasher.crashAt(k)
	old := m.holder
	m.clk.AutoAdvance(true)
	switch op {
	case "TryLock":
		ml.l.TryLock()
	case "Lock":
		ml.l.Lock(context.Background())
	case "Unlock":
		ml.l.Unlock()
	case "Refresh":
		ml.l.Refresh()
	case "Break":
		ml.l.Break()
	}
	m.clk.AutoAdvance(false)
	ml.crashed = true

	holder := -1
	data, err := m.env.FS.ReadFile(m.path)
	if err == nil {
		holder = slices.IndexFunc(m.locks, func(o *machineLock) bool { return o.l.ClaimFile() == string(data) })
		if holder < 0 {
			t.Fatalf("%s crashed in %s before its call %d: the lock file holds %q, no lock's claim", ml.name, op, k, data)
		}
	}
	switch {
	case holder == old:
	case holder == i && (old < 0 || m.breakable()) && (op == "TryLock" || op == "Lock"):
	case holder < 0 && (old == i && op == "Unlock" || m.breakable()):
	default:
		t.Fatalf("%s crashed in %s before its call %d, and the lock passed from %s to %s (model: expiry %v, clock %v)",
			ml.name, op, k, m.holderName(), m.nameOf(holder), m.expiry.Sub(virtualStart), m.clk.Now().Sub(virtualStart))
	}
	if old >= 0 && old != i && holder < 0 {
		m.strays = append(m.strays, m.locks[old].l.ClaimFile())
	}
	m.holder = holder
	if holder >= 0 {
		fi, err := m.env.FS.Stat(m.path)
		if err != nil {
			t.Fatalf("%s's lock after a crash: %v", m.nameOf(holder), err)
		}
		m.expiry = fi.ModTime
	}
	m.tokens.crashed() // it may have moved the counter and never returned its token
	if data, err := m.env.FS.ReadFile(m.path + ".break"); err == nil && string(data) == breakClaimOf(ml.l) {
		fi, err := m.env.FS.Stat(m.path + ".break")
		if err != nil {
			t.Fatal(err)
		}
		m.breakLockFree = fi.ModTime.Add(propSlop)
	}
}

// breakClaimOf returns l's claim name for the break lock.
func breakClaimOf(l *locker.Lock) string {
	return l.LockFile() + ".break" + strings.TrimPrefix(l.ClaimFile(), l.LockFile())
}

// debris returns the names a crashed lock may leave behind: its claim
// file, what it moved aside (and the claim file linked to that), its
// temporary token file, its break claim, the break lock it held, and the
// claim file of a holder whose lock it broke.
func (m *machine) debris() []string {
	names := slices.Clone(m.strays)
	for _, ml := range m.locks {
		if !ml.crashed {
			continue
		}
		claim := ml.l.ClaimFile()
		names = append(names, claim, claim+".moved", claim+".moved.look", claim+".fence-tmp", breakClaimOf(ml.l))
		for _, aside := range []string{claim + ".moved", claim + ".moved.look"} {
			if data, err := m.env.FS.ReadFile(aside); err == nil {
				names = append(names, string(data))
			}
		}
		if data, err := m.env.FS.ReadFile(m.path + ".break"); err == nil && string(data) == breakClaimOf(ml.l) {
			names = append(names, m.path+".break")
		}
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

func (m *machine) nameOf(i int) string {
	if i < 0 {
		return "none"
	}
	return m.locks[i].name
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
		if fi, err := m.env.FS.Stat(m.path); err != nil || !fi.ModTime.Equal(m.expiry) {
			t.Fatalf("lock expires %v (%v), model says %v", fi.ModTime.Sub(virtualStart), err, m.expiry.Sub(virtualStart))
		}
	}
	if v := m.tokens.checkCounter(m.env.FS, m.path); v != "" {
		t.Fatal(v)
	}
	want = m.tokens.withCounter(want, m.path)
	slices.Sort(want)
	debris := append(m.debris(), m.tokens.mayHaveCounter(m.path)...)
	extra := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(want, n) || slices.Contains(debris, n) })
	missing := slices.DeleteFunc(slices.Clone(want), func(n string) bool { return slices.Contains(names, n) })
	if len(extra) > 0 || len(missing) > 0 {
		t.Fatalf("directory holds %q, want %q, and perhaps what crashed locks left, %q (no claim or temporary file may remain beside the lock and its holder's claim, and the counter of fencing tokens if the locks fence)", names, want, debris)
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
