package locker_test

import (
	"context"
	"errors"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

// step lets the keep-alive goroutine reach its sleep, then moves the clock.
func step(t *testing.T, w *world, d time.Duration) {
	t.Helper()
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(d)
}

func TestKeepAliveHoldsTheLockAcrossLifetimes(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	holder := w.newLock(t, nil, nil)
	if _, err := holder.KeepAlive(ctx); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("KeepAlive of an unheld lock: got %v, want ErrNotLocked", err)
	}
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	ka, err := holder.KeepAlive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := holder.KeepAlive(ctx); err == nil {
		t.Error("a second KeepAlive started")
	}
	breaker := w.newLock(t, nil, nil)
	for i := 0; i < 9; i++ { // three lifetimes
		step(t, w, locker.DefaultLifetime/3)
		if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil { // refreshed, asleep again
			t.Fatal(err)
		}
		if err := breaker.TryLock(); !errors.Is(err, locker.ErrBusy) {
			t.Fatalf("after %d refresh intervals, TryLock by another: got %v, want ErrBusy (a refreshed lock must never be broken)", i+1, err)
		}
	}
	if !holder.IsLocked() {
		t.Fatal("holder lost a kept-alive lock")
	}
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ka.Context().Done():
	default:
		t.Fatal("KeepAlive's context not done after Unlock")
	}
	select {
	case <-ka.Lost():
		t.Fatal("Lost closed by a plain Unlock")
	default:
	}
	if ka.Err() != nil || errors.Is(context.Cause(ka.Context()), locker.ErrLost) {
		t.Errorf("after Unlock: Err() = %v, cause %v; want nil and not ErrLost", ka.Err(), context.Cause(ka.Context()))
	}
	w.wantFiles(t)
}

// TestKeepAliveReportsLossOfPausedHolder: the holder is paused past its
// lifetime in the middle of a refresh (alive, but not running); another
// process breaks the expired lock and takes it; when the holder runs again
// its keep-alive reports the loss.
func TestKeepAliveReportsLossOfPausedHolder(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	faults := memfs.NewFaultFS(w.host)
	holder := w.newLock(t, nil, faults)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	var paused atomic.Bool
	resume := make(chan struct{})
	faults.SetHook(func(op memfs.Op, args ...string) {
		if op == memfs.OpChtimes && paused.Load() {
			<-resume
		}
	})
	ka, err := holder.KeepAlive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paused.Store(true)
	step(t, w, locker.DefaultLifetime/3) // the keep-alive starts a refresh and is paused in it
	w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop)

	other := w.newLock(t, nil, nil)
	if err := other.TryLock(); err != nil {
		t.Fatalf("another process could not break the paused holder's expired lock: %v", err)
	}
	select {
	case <-ka.Lost():
		t.Fatal("Lost closed while the holder was still paused")
	default:
	}
	paused.Store(false)
	close(resume)
	select {
	case <-ka.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("the paused holder's Lost channel did not close after its lock was broken and taken")
	}
	if err := ka.Err(); !errors.Is(err, locker.ErrLost) {
		t.Errorf("Err() = %v, want ErrLost", err)
	}
	if cause := context.Cause(ka.Context()); !errors.Is(cause, locker.ErrLost) {
		t.Errorf("context cause = %v, want ErrLost", cause)
	}
	if holder.IsLocked() || !other.IsLocked() {
		t.Errorf("holder.IsLocked=%v other.IsLocked=%v, want false, true", holder.IsLocked(), other.IsLocked())
	}
	if err := holder.Unlock(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("the lost holder's Unlock: got %v, want ErrNotLocked", err)
	}
	if !other.IsLocked() {
		t.Error("the lost holder's Unlock released the new holder's lock")
	}
}

func TestKeepAliveRetriesPassingErrors(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	faults := memfs.NewFaultFS(w.host)
	holder := w.newLock(t, nil, faults)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	ka, err := holder.KeepAlive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for call := 1; call <= 4; call++ { // a refresh tries an ESTALE four times at once
		faults.Fail(memfs.OpChtimes, call, locker.Transient(syscall.ESTALE))
	}
	faults.Fail(memfs.OpChtimes, 5, syscall.EIO)
	step(t, w, locker.DefaultLifetime/3) // fails with ESTALE
	step(t, w, locker.DefaultMaxBackoff) // fails with EIO
	step(t, w, locker.DefaultMaxBackoff) // succeeds
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if ka.Err() != nil || !holder.IsLocked() {
		t.Fatalf("after two passing refresh errors: Err() = %v, IsLocked = %v; want nil, true", ka.Err(), holder.IsLocked())
	}
	if exp, _ := holder.Expiration(); !exp.Equal(w.clk.Now().Add(locker.DefaultLifetime)) {
		t.Errorf("lock expires %v, want a lifetime from the last (successful) refresh %v", exp, w.clk.Now().Add(locker.DefaultLifetime))
	}
	ka.Stop()
	ka.Stop()
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
}

func TestKeepAliveLostWhenRefreshFailsUntilExpiry(t *testing.T) {
	w := newWorld(t)
	faults := memfs.NewFaultFS(w.host)
	holder := w.newLock(t, nil, faults)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 1000; i++ {
		faults.Fail(memfs.OpChtimes, i, syscall.EIO)
	}
	w.clk.AutoAdvance(true) // the keep-alive's sleeps move the clock
	ka, err := holder.KeepAlive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-ka.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("Lost did not close though every refresh failed past the lock's expiry")
	}
	if err := ka.Err(); !errors.Is(err, locker.ErrLost) || !errors.Is(err, syscall.EIO) {
		t.Errorf("Err() = %v, want ErrLost caused by EIO", err)
	}
	if exp, _ := holder.Expiration(); w.clk.Now().Before(exp) {
		t.Errorf("declared lost at %v, before the lock expired at %v", w.clk.Now(), exp)
	}
}

// TestKeepAliveLostAtOnceWhenLockRemoved: the lock file disappears while the
// lock is still unexpired (a flufl.lock process broke it): the next refresh
// reports the loss at once, without waiting for the lock to expire.
func TestKeepAliveLostAtOnceWhenLockRemoved(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	ka, err := holder.KeepAlive(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.fs.Remove(lockPath); err != nil {
		t.Fatal(err)
	}
	step(t, w, locker.DefaultLifetime/3)
	select {
	case <-ka.Lost():
	case <-time.After(10 * time.Second):
		t.Fatal("Lost did not close after the refresh found the lock file gone")
	}
	if !errors.Is(ka.Err(), locker.ErrNotLocked) {
		t.Errorf("Err() = %v, want ErrLost caused by ErrNotLocked", ka.Err())
	}
}
