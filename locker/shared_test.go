package locker_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

// The shared lock and the semaphore, one process each on the world's host;
// the conformance suite runs them on every backend (conformance/shared*.go).

func (w *world) newRW(t *testing.T, h *memfs.Host, opts ...locker.Option) (*locker.RWLock, *memfs.Process) {
	t.Helper()
	if h == nil {
		h = w.host
	}
	p := h.Spawn()
	rw, err := locker.NewRWLock(lockPath, h, append(p.Options(), opts...)...)
	if err != nil {
		t.Fatalf("NewRWLock: %v", err)
	}
	return rw, p
}

func (w *world) newSem(t *testing.T, n int, opts ...locker.Option) (*locker.Semaphore, *memfs.Process) {
	t.Helper()
	p := w.host.Spawn()
	s, err := locker.NewSemaphore(lockPath, n, w.host, append(p.Options(), opts...)...)
	if err != nil {
		t.Fatalf("NewSemaphore: %v", err)
	}
	return s, p
}

func TestRWLockReadersShareWritersExclude(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	r1, _ := w.newRW(t, nil)
	r2, _ := w.newRW(t, nil)
	wr, _ := w.newRW(t, nil, locker.WithFencing())
	if err := r1.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r2.TryRLock(); err != nil {
		t.Fatalf("a second reader: %v, want it in beside the first", err)
	}
	if err := wr.TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Fatalf("TWO HOLDERS: writer's TryLock with two readers inside: %v, want ErrBusy", err)
	}
	st, err := r1.Status()
	if err != nil || len(st.Readers) != 2 || st.Gate != nil {
		t.Fatalf("Status with two readers: %+v, %v; want two readers, no gate holder", st, err)
	}
	if err := r1.RUnlock(); err != nil {
		t.Fatal(err)
	}
	if err := r2.RUnlock(); err != nil {
		t.Fatal(err)
	}
	if err := wr.Lock(ctx); err != nil {
		t.Fatalf("writer's Lock once the readers left: %v", err)
	}
	// (Its TryLock above took a token too, with the gate.)
	if wr.Token() == 0 {
		t.Errorf("writer's token 0, want one with WithFencing")
	}
	if err := r1.TryRLock(); !errors.Is(err, locker.ErrBusy) {
		t.Fatalf("TWO HOLDERS: a reader's TryRLock while the writer writes: %v, want ErrBusy", err)
	}
	if err := wr.Unlock(); err != nil {
		t.Fatal(err)
	}
	// Left: the count of reader slots (0) and the fencing counter.
	w.wantFiles(t, dir+"/resource.lock.fence", dir+"/resource.lock.readers")
}

func TestRWLockWaitingWriterStopsNewReaders(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	ctx := context.Background()
	r1, _ := w.newRW(t, nil)
	r2, _ := w.newRW(t, nil)
	wr, _ := w.newRW(t, nil)
	if err := r1.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- wr.Lock(ctx) }()
	// The writer takes the gate, then waits for the reader.
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for !gateHeld(t, r2) {
		w.clk.Advance(time.Millisecond)
	}
	// TryRLock sleeps a little between its tries of the gate.
	tried := make(chan error, 1)
	go func() { tried <- r2.TryRLock() }()
	var err error
	for waiting := true; waiting; {
		select {
		case err = <-tried:
			waiting = false
		case <-time.After(time.Millisecond):
			w.clk.Advance(time.Millisecond)
		}
	}
	if !errors.Is(err, locker.ErrBusy) {
		t.Fatalf("a new reader while a writer waits: %v, want ErrBusy (writer preference)", err)
	}
	if err := r1.RUnlock(); err != nil {
		t.Fatal(err)
	}
	w.clk.AutoAdvance(true)
	if err := <-done; err != nil {
		t.Fatalf("the waiting writer: %v", err)
	}
	if err := wr.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func gateHeld(t *testing.T, rw *locker.RWLock) bool {
	st, err := rw.Status()
	if err != nil {
		t.Fatal(err)
	}
	return st.Gate != nil
}

func TestRWLockWriterBreaksDeadReader(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	dead, p := w.newRW(t, w.fs.Host("beta"), locker.WithLifetime(5*time.Second), locker.WithClockSlop(time.Second))
	if err := dead.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	p.Kill()
	start := w.clk.Now()
	wr, _ := w.newRW(t, nil, locker.WithLifetime(5*time.Second), locker.WithClockSlop(time.Second))
	if err := wr.Lock(ctx); err != nil {
		t.Fatalf("writer with a dead reader inside: %v", err)
	}
	if waited := w.clk.Now().Sub(start); waited < 6*time.Second {
		t.Errorf("TWO HOLDERS POSSIBLE: the writer broke the dead reader's slot after %v, before lifetime + slop (6s)", waited)
	}
	if err := dead.RUnlock(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("the evicted reader's RUnlock: %v, want ErrNotLocked", err)
	}
	if err := wr.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestRWLockDo(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	rw, _ := w.newRW(t, nil)
	ran := false
	if err := rw.RDo(ctx, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("RDo: %v, ran %v", err, ran)
	}
	ran = false
	if err := rw.Do(ctx, func(context.Context) error { ran = true; return nil }); err != nil || !ran {
		t.Fatalf("Do: %v, ran %v", err, ran)
	}
	w.wantFiles(t, dir+"/resource.lock.readers")
}

func TestSemaphoreSlots(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a, _ := w.newSem(t, 2, locker.WithFencing())
	b, _ := w.newSem(t, 2, locker.WithFencing())
	c, _ := w.newSem(t, 2, locker.WithFencing())
	sa, err := a.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.TryAcquire()
	if err != nil {
		t.Fatal(err)
	}
	if sa.Index == sb.Index {
		t.Fatalf("TWO HOLDERS: both hold slot %d", sa.Index)
	}
	if _, err := c.TryAcquire(); !errors.Is(err, locker.ErrBusy) {
		t.Fatalf("TOO MANY HOLDERS: a third TryAcquire of 2 slots: %v, want ErrBusy", err)
	}
	st, err := c.Status()
	if err != nil || st.Slots != 2 || len(st.Holders) != 2 {
		t.Fatalf("Status: %+v, %v; want 2 slots, both held", st, err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	sc, err := c.Acquire(ctx)
	if err != nil || sc.Index != sa.Index || sc.Token != 2 {
		t.Fatalf("Acquire after a release: %+v, %v; want slot %d, token 2", sc, err, sa.Index)
	}
	for _, s := range []*locker.Semaphore{b, c} {
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
	}
	w.wantFiles(t, dir+"/resource.lock.slot.0.fence", dir+"/resource.lock.slot.1.fence", dir+"/resource.lock.slots")
}

func TestSemaphoreOtherN(t *testing.T) {
	w := newWorld(t)
	a, _ := w.newSem(t, 4)
	if _, err := a.TryAcquire(); err != nil {
		t.Fatal(err)
	}
	b, _ := w.newSem(t, 3)
	_, err := b.TryAcquire()
	if !errors.Is(err, locker.ErrInvalid) || !strings.Contains(err.Error(), "4") || !strings.Contains(err.Error(), "3") {
		t.Fatalf("a semaphore of 3 where one of 4 is: %v, want ErrInvalid naming both", err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	w.wantFiles(t, dir+"/resource.lock.slots")
	if _, err := locker.NewSemaphore(lockPath, 0, w.host); !errors.Is(err, locker.ErrInvalid) {
		t.Errorf("NewSemaphore with 0 slots: %v, want ErrInvalid", err)
	}
}

func TestAdoptReaderAndSlot(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	p := w.host.Spawn()
	rw, err := locker.NewRWLock(lockPath, w.host, p.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := w.newRW(t, nil)
	if err := other.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := rw.RLock(ctx); err != nil {
		t.Fatal(err)
	}
	l, err := locker.AdoptReader(lockPath, w.host, p.Options()...)
	if err != nil {
		t.Fatalf("AdoptReader: %v", err)
	}
	if l.LockFile() != lockPath+".reader.1" {
		t.Errorf("adopted %s, want the second reader slot", l.LockFile())
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := locker.AdoptReader(lockPath, w.host, p.Options()...); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("AdoptReader once released: %v, want ErrNotLocked", err)
	}
	s, err := locker.NewSemaphore(lockPath+"2", 3, w.host, p.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if l, err = locker.AdoptSlot(lockPath+"2", w.host, p.Options()...); err != nil || l.LockFile() != lockPath+"2.slot.0" {
		t.Fatalf("AdoptSlot: %v, %v", l, err)
	}
}

// A count file that says a million readers are inside, as a co-tenant or a
// corruption could leave it, makes a writer pass a million free slots. On a
// filesystem where each call takes a millisecond that is hours: Lock must
// give up at its timeout or when its context ends, and TryLock, which has
// neither, once it has taken the gate's lifetime; each with the documented
// error, leaving the gate free and no file of its own behind.
func TestRWLockWriterGivesUpPassingAHugeCount(t *testing.T) {
	const huge = "1048576\n" // maxSlots, the largest count the locker reads
	for _, tc := range []struct {
		name        string
		opts        []locker.Option
		cancelAfter int // calls, then the context is canceled (0: never)
		do          func(ctx context.Context, rw *locker.RWLock) error
		want        error
	}{
		{"LockWithTimeout", []locker.Option{locker.WithTimeout(2 * time.Second)}, 0,
			func(ctx context.Context, rw *locker.RWLock) error { return rw.Lock(ctx) }, locker.ErrTimeout},
		{"LockUntilCanceled", nil, 3000,
			func(ctx context.Context, rw *locker.RWLock) error { return rw.Lock(ctx) }, context.Canceled},
		{"TryLock", []locker.Option{locker.WithLifetime(3 * time.Second)}, 0,
			func(_ context.Context, rw *locker.RWLock) error { return rw.TryLock() }, locker.ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.clk.AutoAdvance(false) // time passes with the calls alone
			w.leave(t, lockPath+".readers", huge, w.clk.Now())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			// Every call takes a millisecond of the world's clock.
			slow := memfs.NewFaultFS(w.host)
			var calls atomic.Int64
			slow.SetHook(func(memfs.Op, ...string) {
				if n := calls.Add(1); n == int64(tc.cancelAfter) {
					cancel()
				}
				w.clk.Advance(time.Millisecond)
			})
			p := w.host.Spawn()
			rw, err := locker.NewRWLock(lockPath, slow, append(p.Options(), tc.opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			err = tc.do(ctx, rw)
			n := calls.Load()
			if !errors.Is(err, tc.want) {
				t.Fatalf("with a count file of %s: %v after %d calls, want an error wrapping %v", strings.TrimSpace(huge), err, n, tc.want)
			}
			t.Logf("%v after %d calls", err, n)
			if n > 20_000 {
				t.Errorf("%d calls to give up: the pass went on long past its deadline", n)
			}
			w.wantFiles(t, lockPath+".readers")
			if data, _ := w.host.ReadFile(lockPath + ".readers"); string(data) != huge {
				t.Errorf("the count file holds %q after the writer gave up, want it untouched (%q)", data, huge)
			}
		})
	}
}

// Status and AdoptReader look only at the reader slots the directory lists,
// not at every slot below a count file that may say a million.
func TestRWLockStatusWithAHugeCount(t *testing.T) {
	w := newWorld(t)
	w.leave(t, lockPath+".readers", "1048576\n", w.clk.Now())
	counting := memfs.NewFaultFS(w.host)
	var calls atomic.Int64
	counting.SetHook(func(memfs.Op, ...string) { calls.Add(1) })
	p := w.host.Spawn()
	reader, err := locker.NewRWLock(lockPath, counting, p.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := reader.RLock(context.Background()); err != nil {
		t.Fatalf("a reader's RLock with a count of a million: %v", err)
	}
	calls.Store(0)
	st, err := reader.Status()
	if err != nil || len(st.Readers) != 1 || st.Readers[0].Index != 0 {
		t.Fatalf("Status: %+v, %v; want the one reader, in slot 0", st, err)
	}
	if n := calls.Load(); n > 100 {
		t.Errorf("Status made %d calls to find one reader: it looked at slots no file is at", n)
	}
	calls.Store(0)
	l, err := locker.AdoptReader(lockPath, counting, p.Options()...)
	if err != nil || !strings.HasSuffix(l.LockFile(), ".reader.0") {
		t.Fatalf("AdoptReader: %v, %v; want the reader's slot 0", l, err)
	}
	if n := calls.Load(); n > 100 {
		t.Errorf("AdoptReader made %d calls to find one reader: it looked at slots no file is at", n)
	}
}

// noListing is a backend that cannot list a directory: it hides the
// ReadDirNames of the one it wraps.
type noListing struct{ locker.FS }

// Where the directory cannot be listed, Status and AdoptSlot look at every
// slot below the count, and give up with ErrTimeout once they have taken
// the lock's lifetime: a count file that says a million must not make them
// hang (the attack in the conformance suite found Status hanging on a
// backend without listing).
func TestSharedLooksGiveUpWithoutListing(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false) // time passes with the calls alone
	w.leave(t, lockPath+".slots", "1048576\n", w.clk.Now())
	slow := memfs.NewFaultFS(w.host)
	var calls atomic.Int64
	slow.SetHook(func(memfs.Op, ...string) {
		calls.Add(1)
		w.clk.Advance(time.Millisecond)
	})
	fsys := noListing{slow}
	p := w.host.Spawn()
	opts := append(p.Options(), locker.WithLifetime(3*time.Second))
	sem, err := locker.NewSemaphore(lockPath, 1<<20, fsys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for _, look := range []struct {
		name string
		do   func() error
	}{
		{"Status", func() error { _, err := sem.Status(); return err }},
		{"AdoptSlot", func() error { _, err := locker.AdoptSlot(lockPath, fsys, opts...); return err }},
	} {
		calls.Store(0)
		err := look.do()
		n := calls.Load()
		if !errors.Is(err, locker.ErrTimeout) {
			t.Errorf("%s with a count of a million and no listing: %v after %d calls, want an error wrapping ErrTimeout", look.name, err, n)
			continue
		}
		t.Logf("%s: %v after %d calls", look.name, err, n)
		if n > 20_000 {
			t.Errorf("%s made %d calls before it gave up", look.name, n)
		}
	}
	w.wantFiles(t, lockPath+".slots")
}
