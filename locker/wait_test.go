package locker_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

// TestUncontendedCycleCalls pins the file operations of a Lock and Unlock
// of a free lock: write the claim, date it, link it; then a stat of the
// claim file checks ownership before the two removals. The lock file is
// not read, and the claim is dated once.
func TestUncontendedCycleCalls(t *testing.T) {
	w := newWorld(t)
	faults := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, faults)
	cycle := func() {
		t.Helper()
		if err := l.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	cycle() // the first learns the clock offset and whether links are counted
	before := callCounts(faults)
	cycle()
	got := callCounts(faults)
	for op, n := range before {
		got[op] -= n
	}
	want := map[memfs.Op]int{memfs.OpWriteFile: 1, memfs.OpChtimes: 1, memfs.OpLink: 1, memfs.OpStat: 1, memfs.OpRemove: 2}
	for op := range memfs.Op(numOps) {
		if got[op] != want[op] {
			t.Errorf("an uncontended Lock and Unlock made %d %v calls, want %d (all: %v)", got[op], op, want[op], got)
		}
	}
	w.wantFiles(t)
}

// numOps is one more than the last memfs.Op.
const numOps = memfs.OpReadDirNames + 1

func callCounts(f *memfs.FaultFS) map[memfs.Op]int {
	m := map[memfs.Op]int{}
	for op := range memfs.Op(numOps) {
		m[op] = f.Calls(op)
	}
	return m
}

// TestUnlockOfAnExpiredLockTakesTheBreakLock: once a lock may have
// expired, a breaker may be at work on it, so Unlock removes it under the
// break lock, whether its own clock says so or the lock file's time does
// (someone set it back behind the holder's back).
func TestUnlockOfAnExpiredLockTakesTheBreakLock(t *testing.T) {
	for _, tt := range []struct {
		name   string
		expire func(w *world, l *locker.Lock)
	}{
		{"the clock passed the expiry", func(w *world, l *locker.Lock) { w.clk.Advance(l.Lifetime()) }},
		{"the lock file's time was set back", func(w *world, l *locker.Lock) {
			past := w.clk.Now().Add(-time.Second)
			if err := w.fs.Chtimes(l.ClaimFile(), past, past); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			faults := memfs.NewFaultFS(w.host)
			l := w.newLock(t, nil, faults)
			if err := l.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			tt.expire(w, l)
			var mu sync.Mutex
			var breakLinks int
			faults.SetHook(func(op memfs.Op, args ...string) {
				if op == memfs.OpLink && args[1] == lockPath+".break" {
					mu.Lock()
					breakLinks++
					mu.Unlock()
				}
			})
			if err := l.Unlock(); err != nil {
				t.Fatalf("Unlock of an expired lock, not broken: %v", err)
			}
			if breakLinks == 0 {
				t.Errorf("Unlock of an expired lock did not take the break lock")
			}
			w.wantFiles(t)
		})
	}
}

// contendedHolder returns a lock that took the lock after finding it busy
// and now holds it, on a world whose clock moves only when told.
func contendedHolder(t *testing.T, w *world, opts ...locker.Option) *locker.Lock {
	t.Helper()
	first := w.newLock(t, nil, nil, opts...)
	if err := first.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	l := w.newLock(t, nil, nil, opts...)
	done, _ := goLock(t, l)
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := first.Unlock(); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultMaxBackoff)
	if err := <-done; err != nil {
		t.Fatalf("Lock after a wait: %v", err)
	}
	return l
}

// TestReleaserLeavesTheTurnToAWaiter: a Lock that saw the lock busy lately
// and has since taken it several times in a row at once, while another
// claimant waits for it without a watcher, leaves the next turn to that
// waiter.
func TestReleaserLeavesTheTurnToAWaiter(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	noWatch := locker.WithWatcher(false)
	a := contendedHolder(t, w, noWatch)
	b := w.newLock(t, nil, nil, noWatch)
	bDone, _ := goLock(t, b)
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	// The releaser takes it back at once, while the waiter sleeps.
	for i := range locker.TurnStreak {
		if err := a.Unlock(); err != nil {
			t.Fatal(err)
		}
		if err := a.Lock(ctx); err != nil { // a wait would block: the clock stands still
			t.Fatalf("Lock %d of %d of a releaser taking the lock back: %v", i+1, locker.TurnStreak, err)
		}
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	aDone, _ := goLock(t, a)
	// The waiter polls within a millisecond; the releaser stays away
	// longer.
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slept := make(chan error, 1)
	go func() { slept <- w.clk.BlockUntilSleepers(bctx, 2) }()
	select {
	case err := <-slept:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-aDone:
		t.Fatalf("the releaser's Lock returned (%v) at once, while another claimant waited", err)
	}
	w.clk.Advance(locker.DefaultMinBackoff)
	if err := <-bDone; err != nil {
		t.Fatalf("the waiter's Lock: %v", err)
	}
	select {
	case err := <-aDone:
		t.Fatalf("the releaser's Lock returned (%v) before the waiter could take the lock", err)
	default:
	}
	if !b.IsLocked() {
		t.Fatal("the waiter's Lock returned nil but it does not hold the lock")
	}
	// The releaser now waits its turn like anyone.
	if err := b.Unlock(); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Second)
	if err := <-aDone; err != nil {
		t.Fatalf("the releaser's Lock once the waiter let go: %v", err)
	}
	if err := a.Unlock(); err != nil {
		t.Fatal(err)
	}
	w.wantFiles(t)
}

// TestFreeLockIsTakenAtOnce: a Lock of a free lock that nobody else claims
// takes it at once, even right after a release of a lock it had to wait
// for.
func TestFreeLockIsTakenAtOnce(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	for _, watch := range []bool{true, false} {
		a := contendedHolder(t, w, locker.WithWatcher(watch))
		if err := a.Unlock(); err != nil {
			t.Fatal(err)
		}
		w.clk.AutoAdvance(true) // a wait would move the clock
		start := w.clk.Now()
		if err := a.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if waited := w.clk.Now().Sub(start); waited != 0 {
			t.Errorf("WithWatcher(%v): Lock of a free, unclaimed lock, just after a contended release, waited %v", watch, waited)
		}
		w.clk.AutoAdvance(false)
		if err := a.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
	w.wantFiles(t)
}

// TestWaiterGlances: a Lock waiting for a lock held all along reads the
// lock file about once per second, and otherwise judges it by a stat.
func TestWaiterGlances(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Second) // so that the waiter's claim is not dated like the lock (see glance)
	faults := memfs.NewFaultFS(w.host)
	const wait = 10 * time.Second
	waiter := w.newLock(t, nil, faults, locker.WithTimeout(wait), locker.WithWatcher(false), locker.WithSweep(false))
	if err := waiter.Lock(ctx); !errors.Is(err, locker.ErrTimeout) {
		t.Fatalf("Lock of a held lock: got %v, want ErrTimeout", err)
	}
	links, reads := faults.Calls(memfs.OpLink), faults.Calls(memfs.OpReadFile)
	// One read per second, one at the start and one at the end, to name
	// the holder.
	if limit := int(wait/time.Second) + 2; reads > limit {
		t.Errorf("waiting %v made %d links and %d reads of the lock file, want at most %d reads", wait, links, reads, limit)
	}
	if links <= reads {
		t.Errorf("waiting %v made %d links and %d reads of the lock file: it did not glance", wait, links, reads)
	}
}

// TestWaiterReadsAChangedLockFile: a waiter reads the lock file again as
// soon as a stat shows that it changed in a way that might matter, here
// replaced by something no lock makes, and reports it at that poll.
func TestWaiterReadsAChangedLockFile(t *testing.T) {
	// Each object keeps the lock file's link count, unless that is the
	// change, so that only the change tested shows.
	cases := []struct {
		name    string
		replace func(t *testing.T, w *world, holder *locker.Lock)
	}{
		{"symbolic link to the holder's claim (one link fewer)", func(t *testing.T, w *world, holder *locker.Lock) {
			if err := w.fs.SymlinkIfPossible(holder.ClaimFile(), lockPath); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory", func(t *testing.T, w *world, _ *locker.Lock) {
			if err := w.fs.Mkdir(lockPath, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
		{"empty file with two links", func(t *testing.T, w *world, _ *locker.Lock) {
			if err := w.fs.WriteFile(lockPath, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := w.fs.Link(lockPath, dir+"/other"); err != nil {
				t.Fatal(err)
			}
		}},
		{"file longer than any claim, with two links", func(t *testing.T, w *world, _ *locker.Lock) {
			f, err := w.fs.Create(lockPath)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(locker.MaxClaimLen + 1); err != nil {
				t.Fatal(err)
			}
			f.Close()
			if err := w.fs.Link(lockPath, dir+"/other"); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.clk.AutoAdvance(false)
			holder := w.newLock(t, nil, nil)
			if err := holder.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			w.clk.Advance(time.Second) // so that the waiter's claim is not dated like the lock (see glance)
			waiter := w.newLock(t, nil, nil, locker.WithWatcher(false))
			done, _ := goLock(t, waiter)
			if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
				t.Fatal(err)
			}
			w.clk.Advance(locker.DefaultMaxBackoff) // its first glance
			if err, returned := sleepsOrReturns(t, w, done); returned {
				t.Fatalf("Lock of a held lock returned %v", err)
			}
			if err := w.fs.Remove(lockPath); err != nil {
				t.Fatal(err)
			}
			tc.replace(t, w, holder)
			for polls := 1; ; polls++ {
				w.clk.Advance(locker.DefaultMaxBackoff) // one poll
				if err, returned := sleepsOrReturns(t, w, done); returned {
					if !errors.Is(err, locker.ErrForeignFile) {
						t.Fatalf("Lock with a %s put at the lock path while it waited: got %v, want ErrForeignFile", tc.name, err)
					}
					if polls > 1 {
						t.Errorf("the waiter saw the %s after %d polls, want at its first", tc.name, polls)
					}
					return
				}
			}
		})
	}
}

// sleepsOrReturns waits until the Lock whose result done will carry either
// sleeps on the world's clock or returns, and reports which.
func sleepsOrReturns(t *testing.T, w *world, done <-chan error) (err error, returned bool) {
	t.Helper()
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slept := make(chan error, 1)
	go func() { slept <- w.clk.BlockUntilSleepers(bctx, 1) }()
	select {
	case err := <-done:
		return err, true
	case err := <-slept:
		if err != nil {
			t.Fatal(err)
		}
		return nil, false
	}
}

// recordingClock is a locker.Clock that records the waits of Sleep.
type recordingClock struct {
	locker.Clock
	mu     sync.Mutex
	sleeps []time.Duration
}

func (c *recordingClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.mu.Unlock()
	return c.Clock.Sleep(ctx, d)
}

func (c *recordingClock) last() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sleeps[len(c.sleeps)-1]
}

// TestWaiterPollsSteadilyWhileTheLockChangesHands: a waiter backs off while
// one holder keeps the lock, but once its glance shows a new holder it
// polls within 8 ms (eight times the shortest backoff) again.
func TestWaiterPollsSteadilyWhileTheLockChangesHands(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	clk := &recordingClock{Clock: w.clk}
	waiter := w.newLock(t, nil, nil, locker.WithWatcher(false), locker.WithClock(clk), locker.WithSweep(false))
	done, _ := goLock(t, waiter)
	for range 12 { // long enough for the backoff to reach its longest
		if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		w.clk.Advance(clk.last())
	}
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if d := clk.last(); d < locker.DefaultMaxBackoff/2 {
		t.Fatalf("after 12 polls of a lock held all along the waiter sleeps %v, want about the longest backoff %v", d, locker.DefaultMaxBackoff)
	}
	// The lock changes hands before the waiter's next poll.
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	next := w.newLock(t, nil, nil)
	if err := next.TryLock(); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(clk.last())
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if d, limit := clk.last(), 8*locker.DefaultMinBackoff; d > limit {
		t.Errorf("after its poll found a new holder, the waiter sleeps %v, want at most %v", d, limit)
	}
	if err := next.Unlock(); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// countingWatcher is the world's host, counting the directory watches
// started and stopped.
type countingWatcher struct {
	*memfs.Host
	mu      sync.Mutex
	starts  int
	stopped chan struct{} // receives once per watch stopped
}

func (c *countingWatcher) Watch(dir string) (<-chan struct{}, func() error, error) {
	events, stop, err := c.Host.Watch(dir)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	c.starts++
	c.mu.Unlock()
	var once sync.Once
	return events, func() error {
		once.Do(func() { c.stopped <- struct{}{} })
		return stop()
	}, nil
}

func (c *countingWatcher) started() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.starts
}

// TestWatchKeptAndRenewed: a Lock keeps its directory watch from a wait
// that gave up to the next, and starts a new one after a wait that took
// the lock (see retireWatch); every watch is stopped in the end.
func TestWatchKeptAndRenewed(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	cw := &countingWatcher{Host: w.host, stopped: make(chan struct{}, 10)}
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	waiter := w.newLock(t, nil, cw)
	for range 2 {
		done, cancel := goLock(t, waiter)
		if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Lock cancelled while it waited: got %v, want context.Canceled", err)
		}
	}
	if n := cw.started(); n != 1 {
		t.Errorf("two waits that gave up started %d watches, want 1", n)
	}
	for round := range 2 {
		done, _ := goLock(t, waiter)
		if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if err := holder.Unlock(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil { // the watch wakes it: no clock advance
			t.Fatalf("round %d: %v", round, err)
		}
		if err := waiter.Unlock(); err != nil {
			t.Fatal(err)
		}
		if err := holder.Lock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := cw.started(); n != 2 {
		t.Errorf("two waits that took the lock, after the first watch was started, started %d watches in all, want 2", n)
	}
	locker.StopIdleWatchNow(waiter)
	for range cw.started() {
		select {
		case <-cw.stopped:
		case <-time.After(10 * time.Second): // a stop runs on another goroutine
			t.Fatalf("a directory watch was not stopped")
		}
	}
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
}
