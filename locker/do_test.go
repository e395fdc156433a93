package locker_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

func TestDoRunsTheWorkUnderTheLockAndReleasesIt(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	other := w.newLock(t, w.fs.Host("beta"), nil)
	ran := false
	err := l.Do(ctx, func(ctx context.Context) error {
		ran = true
		if !l.IsLocked() {
			t.Error("IsLocked() = false while the work runs, want true")
		}
		if err := other.TryLock(); !errors.Is(err, locker.ErrBusy) {
			t.Errorf("another claimant's TryLock while the work runs: got %v, want ErrBusy", err)
		}
		if err := ctx.Err(); err != nil {
			t.Errorf("the work's context is done while the lock is held: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Do: got %v, want nil", err)
	}
	if !ran {
		t.Fatal("Do returned nil without running the work")
	}
	if l.IsLocked() {
		t.Error("IsLocked() = true after Do returned, want false")
	}
	w.wantFiles(t) // lock file and claim file gone
}

func TestDoKeepsTheLockAliveForLongWork(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	l := w.newLock(t, nil, nil)
	other := w.newLock(t, w.fs.Host("beta"), nil)
	err := l.Do(ctx, func(ctx context.Context) error {
		for i := 0; i < 9; i++ { // three lifetimes, one refresh interval at a time
			step(t, w, locker.DefaultLifetime/3)
			if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil { // refreshed, asleep again
				return err
			}
		}
		w.clk.Advance(locker.DefaultClockSlop)
		if err := other.TryLock(); !errors.Is(err, locker.ErrBusy) {
			t.Errorf("TryLock by another after three lifetimes of work: got %v, want ErrBusy (Do must keep the lock alive)", err)
		}
		return ctx.Err()
	})
	if err != nil {
		t.Fatalf("Do: got %v, want nil", err)
	}
	w.wantFiles(t)
}

func TestDoReturnsTheWorksError(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	errWork := errors.New("the work failed")
	err := l.Do(ctx, func(context.Context) error { return errWork })
	if err != errWork {
		t.Fatalf("Do: got %v, want the work's own error %v, unwrapped", err, errWork)
	}
	w.wantFiles(t)
}

func TestDoReleasesTheLockWhenTheWorkPanics(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	type boom struct{ n int }
	var got any
	func() {
		defer func() { got = recover() }()
		l.Do(ctx, func(context.Context) error { panic(boom{42}) })
		t.Error("Do returned although the work panicked")
	}()
	if got != (boom{42}) {
		t.Fatalf("recovered %v, want the work's panic value %v", got, boom{42})
	}
	if l.IsLocked() {
		t.Error("the lock is still held after the work panicked")
	}
	w.wantFiles(t)
	if err := w.newLock(t, nil, nil).TryLock(); err != nil {
		t.Errorf("TryLock by another after the panic: %v, want nil", err)
	}
}

func TestDoStopsWhenTheCallerCancels(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	cctx, cancel := context.WithCancel(ctx)
	err := l.Do(cctx, func(ctx context.Context) error {
		cancel()
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(10 * time.Second):
			return errors.New("the work's context was not cancelled with the caller's")
		}
	})
	if !errors.Is(err, context.Canceled) || errors.Is(err, locker.ErrLost) {
		t.Fatalf("Do: got %v, want context.Canceled and not ErrLost", err)
	}
	w.wantFiles(t)
}

func TestDoDoesNotRunTheWorkWithoutTheLock(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, w.fs.Host("beta"), nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	l := w.newLock(t, nil, nil, locker.WithTimeout(time.Second))
	err := l.Do(ctx, func(context.Context) error {
		t.Error("the work ran although the lock was busy")
		return nil
	})
	if !errors.Is(err, locker.ErrTimeout) {
		t.Fatalf("Do of a busy lock: got %v, want ErrTimeout", err)
	}
	if !holder.IsLocked() {
		t.Error("the holder lost its lock to a Do that timed out")
	}
}

// TestDoReportsALockLostMidWork: the holder is paused in a refresh past its
// lifetime plus the slop; another process breaks the expired lock and takes
// it. The work's context is cancelled with a cause wrapping ErrLost, Do
// returns an error wrapping ErrLost, and the new holder's lock is left
// alone.
func TestDoReportsALockLostMidWork(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	faults := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, faults)
	var paused atomic.Bool
	resume := make(chan struct{})
	faults.SetHook(func(op memfs.Op, args ...string) {
		if op == memfs.OpChtimes && paused.Load() {
			<-resume
		}
	})
	other := w.newLock(t, w.fs.Host("beta"), nil)
	var cause error
	err := l.Do(ctx, func(ctx context.Context) error {
		paused.Store(true)
		step(t, w, locker.DefaultLifetime/3) // the keep-alive starts a refresh and is paused in it
		w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop)
		if err := other.TryLock(); err != nil {
			return fmt.Errorf("another process could not break the paused holder's expired lock: %w", err)
		}
		paused.Store(false)
		close(resume)
		select {
		case <-ctx.Done():
			cause = context.Cause(ctx)
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return errors.New("the work's context was not cancelled after the lock was broken and taken")
		}
	})
	if !errors.Is(cause, locker.ErrLost) {
		t.Errorf("the work's context ended with cause %v, want ErrLost", cause)
	}
	if !errors.Is(err, locker.ErrLost) || !errors.Is(err, context.Canceled) {
		t.Fatalf("Do: got %v, want ErrLost together with the work's error (context.Canceled)", err)
	}
	if !other.IsLocked() {
		t.Error("Do's release removed the lock of the process that broke it")
	}
	w.wantFiles(t, lockPath, other.ClaimFile())
}

// TestDoReportsALossFoundAtRelease: the lock vanishes while the work runs
// and before the keep-alive's next refresh; the work returns nil, but Do
// still says the lock was lost.
func TestDoReportsALossFoundAtRelease(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	l := w.newLock(t, nil, nil)
	err := l.Do(ctx, func(context.Context) error {
		return w.fs.Remove(lockPath) // someone removes the lock file by hand
	})
	if !errors.Is(err, locker.ErrLost) {
		t.Fatalf("Do: got %v, want ErrLost (the lock was gone when the work ended)", err)
	}
	w.wantFiles(t)
}

// TestDoReportsAFailedRelease: an error releasing the lock is added to the
// work's result, not dropped.
func TestDoReportsAFailedRelease(t *testing.T) {
	w := newWorld(t)
	faults := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, faults)
	err := l.Do(ctx, func(context.Context) error {
		faults.Fail(memfs.OpRemove, 1, syscall.EIO)
		return nil
	})
	if !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "unlock") {
		t.Fatalf("Do with a failing release: got %v, want the release's EIO", err)
	}
}
