package locker_test

import (
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/afero"
)

const fencePath = lockPath + ".fence"

// wantToken fails the test unless l's token is want and the counter file
// holds it.
func (w *world) wantToken(t *testing.T, name string, l *locker.Lock, want uint64) {
	t.Helper()
	if got := l.Token(); got != want {
		t.Errorf("%s: Token() = %d, want %d", name, got, want)
	}
	if got := strings.TrimSpace(w.read(t, fencePath)); got != strconv.FormatUint(want, 10) {
		t.Errorf("%s: the counter %s holds %q, want %d", name, fencePath, got, want)
	}
}

func TestFencingTokensIncreaseWithEveryAcquisition(t *testing.T) {
	w := newWorld(t)
	a := w.newLock(t, nil, nil, locker.WithFencing())
	b := w.newLock(t, w.fs.Host("beta"), nil, locker.WithFencing())
	if got := a.FenceFile(); got != fencePath {
		t.Errorf("FenceFile() = %q, want %q", got, fencePath)
	}
	if got := a.Token(); got != 0 {
		t.Errorf("Token() before any acquisition = %d, want 0", got)
	}
	want := uint64(0)
	for i, l := range []*locker.Lock{a, b, a, a, b} {
		if i%2 == 0 {
			if err := l.Lock(ctx); err != nil {
				t.Fatal(err)
			}
		} else if err := l.TryLock(); err != nil {
			t.Fatal(err)
		}
		want++
		w.wantToken(t, l.Hostname(), l, want)
		// The counter is the only file the lock leaves on purpose.
		w.wantFiles(t, lockPath, l.ClaimFile(), fencePath)
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
		w.wantFiles(t, fencePath)
		if got := l.Token(); got != want {
			t.Errorf("Token() after Unlock = %d, want it unchanged, %d", got, want)
		}
	}
}

func TestNoFencingNoCounter(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if got := l.Token(); got != 0 {
		t.Errorf("Token() without WithFencing = %d, want 0", got)
	}
	if got := l.FenceFile(); got != "" {
		t.Errorf("FenceFile() without WithFencing = %q, want \"\"", got)
	}
	w.wantFiles(t, lockPath, l.ClaimFile())
	l.Unlock()
	w.wantFiles(t)
}

// TestFencingBreakerGetsTheGreaterToken: a holder that stops refreshing has
// its lock broken; the breaker's token is greater, and the broken holder
// learns it lost the lock.
func TestFencingBreakerGetsTheGreaterToken(t *testing.T) {
	w := newWorld(t)
	old := w.newLock(t, nil, nil, locker.WithFencing())
	if err := old.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop + time.Second)
	breaker := w.newLock(t, w.fs.Host("beta"), nil, locker.WithFencing())
	if err := breaker.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if old.Token() >= breaker.Token() {
		t.Errorf("the broken holder's token %d is not smaller than its breaker's, %d", old.Token(), breaker.Token())
	}
	w.wantToken(t, "breaker", breaker, 2)
	if err := old.Refresh(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Refresh by the broken holder: got %v, want ErrNotLocked", err)
	}
}

// pauseAt returns a backend for a lock of host h that stops at the first
// call of op on a name ending in suffix until the returned resume is
// called, and a channel closed when it has stopped there: a holder that
// stalls or crashes in the middle of taking the lock.
func pauseAt(h *memfs.Host, op memfs.Op, suffix string) (b *memfs.FaultFS, stopped <-chan struct{}, resume func()) {
	b = memfs.NewFaultFS(h)
	stop, cont := make(chan struct{}), make(chan struct{})
	done := false
	b.SetHook(func(o memfs.Op, args ...string) {
		if o != op || done || !strings.HasSuffix(args[len(args)-1], suffix) {
			return
		}
		done = true
		close(stop)
		<-cont
	})
	return b, stop, func() { close(cont) }
}

// TestFencingHolderStalledBeforeTheCounterWrite: a holder takes the lock
// and stalls (or crashes) before it reads the counter. Its lock is broken;
// the breaker's token is one more than the last given. When the stalled
// holder runs again, it finds it lost the lock, and neither returns a
// token nor moves the counter.
func TestFencingHolderStalledBeforeTheCounterWrite(t *testing.T) {
	for _, tc := range []struct {
		name   string
		op     memfs.Op
		suffix string
	}{
		{"BeforeReading", memfs.OpReadFile, ".fence"},
		{"BeforeRenaming", memfs.OpRename, ".fence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			first := w.newLock(t, nil, nil, locker.WithFencing())
			if err := first.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			first.Unlock()

			b, stopped, resume := pauseAt(w.host, tc.op, tc.suffix)
			stalled := w.newLock(t, nil, b, locker.WithFencing())
			res := make(chan error)
			go func() { res <- stalled.TryLock() }()
			<-stopped
			w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop + time.Second)
			breaker := w.newLock(t, w.fs.Host("beta"), nil, locker.WithFencing())
			if err := breaker.TryLock(); err != nil {
				t.Fatalf("breaking the stalled holder's lock: %v", err)
			}
			w.wantToken(t, "breaker", breaker, 2)
			// The breaker removed the stalled holder's claim and temporary
			// files with its lock.
			w.wantFiles(t, lockPath, breaker.ClaimFile(), fencePath)

			resume()
			err := <-res
			if err == nil {
				t.Fatalf("the stalled holder's TryLock succeeded with token %d after its lock was broken", stalled.Token())
			}
			t.Logf("the stalled holder's TryLock: %v", err)
			if got := stalled.Token(); got != 0 {
				t.Errorf("the stalled holder's Token() = %d, want 0 (no token given)", got)
			}
			w.wantToken(t, "breaker", breaker, 2)
			w.wantFiles(t, lockPath, breaker.ClaimFile(), fencePath)
			if !breaker.IsLocked() {
				t.Error("the breaker lost its lock")
			}
		})
	}
}

// failOn is a backend that makes the first call of op on the counter or
// the temporary counter file fail with err, before performing it or (lose)
// after.
func failOn(h *memfs.Host, op memfs.Op, lose bool, err error) *memfs.FaultFS {
	b := memfs.NewFaultFS(h)
	done := false
	b.SetHook(func(o memfs.Op, args ...string) {
		if o != op || done || !strings.Contains(args[0], ".fence") {
			return
		}
		done = true
		if lose {
			b.LoseReply(op, 1, err)
		} else {
			b.Fail(op, 1, err)
		}
	})
	return b
}

// TestFencingCounterFailureFailsTheAcquisitionCleanly: whichever step of the
// counter's update fails, the acquisition fails with that error, the lock
// is released, no claim or temporary file is left, and the next
// acquisition's token is greater than every token given (and than the
// counter, if the failed update moved it).
func TestFencingCounterFailureFailsTheAcquisitionCleanly(t *testing.T) {
	for _, tc := range []struct {
		name      string
		op        memfs.Op
		lose      bool
		err       error
		nextToken uint64 // the token the next acquisition gets; one was given before
	}{
		{"ReadCounter", memfs.OpReadFile, false, syscall.EIO, 2},
		{"WriteTemp", memfs.OpWriteFile, false, syscall.ENOSPC, 2},
		{"WriteTempReplyLost", memfs.OpWriteFile, true, syscall.EIO, 2},
		{"Rename", memfs.OpRename, false, syscall.EIO, 2},
		{"RenameReplyLost", memfs.OpRename, true, syscall.EIO, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			for _, lock := range []bool{false, true} {
				first := w.newLock(t, nil, nil, locker.WithFencing())
				if err := first.TryLock(); err != nil {
					t.Fatal(err)
				}
				first.Unlock()
				wantCounter := w.read(t, fencePath)

				l := w.newLock(t, nil, failOn(w.host, tc.op, tc.lose, tc.err), locker.WithFencing())
				var err error
				if lock {
					err = l.Lock(ctx)
				} else {
					err = l.TryLock()
				}
				if !errors.Is(err, tc.err) {
					t.Fatalf("Lock=%v: got %v, want an error wrapping %v", lock, err, tc.err)
				}
				if !strings.Contains(err.Error(), "fencing token") {
					t.Errorf("Lock=%v: error %q does not say it is about the fencing token", lock, err)
				}
				if l.IsLocked() || l.Token() != 0 {
					t.Errorf("Lock=%v: after the failure IsLocked() = %v, Token() = %d; want false, 0", lock, l.IsLocked(), l.Token())
				}
				w.wantFiles(t, fencePath)
				if !tc.lose || tc.op != memfs.OpRename {
					if got := w.read(t, fencePath); got != wantCounter {
						t.Errorf("Lock=%v: the failed update changed the counter from %q to %q", lock, wantCounter, got)
					}
				}

				next := w.newLock(t, nil, nil, locker.WithFencing())
				if err := next.TryLock(); err != nil {
					t.Fatalf("Lock=%v: the next acquisition: %v", lock, err)
				}
				if next.Token() <= first.Token() {
					t.Errorf("Lock=%v: the next token %d is not greater than the one given before, %d", lock, next.Token(), first.Token())
				}
				if !lock && next.Token() != tc.nextToken {
					t.Errorf("the next token is %d, want %d", next.Token(), tc.nextToken)
				}
				next.Unlock()
				w.fs.Remove(fencePath) // start again with Lock
			}
		})
	}
}

// TestFencingForeignCounter: a counter that does not hold a number fails
// the acquisition, untouched, and leaves no claim.
func TestFencingForeignCounter(t *testing.T) {
	for _, contents := range []string{"", "hello\n", "-3", "18446744073709551616"} {
		w := newWorld(t)
		if err := afero.WriteFile(w.fs, fencePath, []byte(contents), 0o644); err != nil {
			t.Fatal(err)
		}
		l := w.newLock(t, nil, nil, locker.WithFencing())
		err := l.Lock(ctx)
		if !errors.Is(err, locker.ErrForeignFile) {
			t.Errorf("counter %q: Lock got %v, want ErrForeignFile", contents, err)
		}
		if got := w.read(t, fencePath); got != contents {
			t.Errorf("counter %q: changed to %q", contents, got)
		}
		w.wantFiles(t, fencePath)
	}
}

// TestFencingCounterAtItsLargest: the counter cannot go beyond the largest
// uint64; the acquisition fails instead of wrapping to a smaller token.
func TestFencingCounterAtItsLargest(t *testing.T) {
	w := newWorld(t)
	afero.WriteFile(w.fs, fencePath, []byte("18446744073709551615\n"), 0o644)
	l := w.newLock(t, nil, nil, locker.WithFencing())
	if err := l.TryLock(); !errors.Is(err, locker.ErrForeignFile) || l.Token() != 0 {
		t.Fatalf("TryLock with the counter at its largest: got %v and token %d, want ErrForeignFile", err, l.Token())
	}
	w.wantFiles(t, fencePath)
}

// TestFencingTempFileInTheWay: a file already at the Lock's temporary name
// (left by an earlier failure) does not stop the update, and is gone after.
func TestFencingTempFileInTheWay(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil, locker.WithFencing())
	tmp := l.ClaimFile() + ".fence-tmp"
	if err := afero.WriteFile(w.fs, tmp, []byte("99\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.wantToken(t, "l", l, 1)
	w.wantFiles(t, lockPath, l.ClaimFile(), fencePath)
	if _, err := w.fs.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the temporary file is still there: %v", err)
	}
}

// TestBreakerRemovesTheHoldersTempFiles: a holder that dies between
// writing its temporary token file (or, at a shared lock's gate, its
// temporary count file) and renaming it leaves it behind under a name only
// it knew. Whoever breaks its lock removes both, whatever its own options:
// a Lock without fencing, as `nfslock break` is, too.
func TestBreakerRemovesTheHoldersTempFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []locker.Option
	}{
		{"FencingBreaker", []locker.Option{locker.WithFencing()}},
		{"PlainBreaker", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			holder := w.newLock(t, nil, nil, locker.WithFencing())
			if err := holder.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			temps := []string{holder.ClaimFile() + ".fence-tmp", holder.ClaimFile() + ".count-tmp"}
			for _, tmp := range temps {
				if err := afero.WriteFile(w.fs, tmp, []byte("2\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop + time.Second)
			breaker := w.newLock(t, w.fs.Host("beta"), nil, tc.opts...)
			if err := breaker.TryLock(); err != nil {
				t.Fatalf("breaking the dead holder's lock: %v", err)
			}
			w.wantFiles(t, lockPath, breaker.ClaimFile(), fencePath)
			if err := breaker.Unlock(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
