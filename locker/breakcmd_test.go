package locker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

func TestBreakOnlyAfterExpiryPlusSlop(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	op := w.newLock(t, nil, nil)
	if _, err := op.Break(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Break with no lock file: got %v, want ErrNotLocked", err)
	}
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{0, locker.DefaultLifetime + locker.DefaultClockSlop} {
		w.clk.Advance(d)
		_, err := op.Break()
		var le *locker.Error
		if !errors.Is(err, locker.ErrBusy) || !errors.As(err, &le) || le.Holder == nil || le.Holder.PID != holder.PID() {
			t.Fatalf("Break %v after locking: got %v, want ErrBusy naming pid %d", w.clk.Now().Sub(time.Time{}), err, holder.PID())
		}
		w.wantFiles(t, lockPath, holder.ClaimFile())
	}
	w.clk.Advance(time.Nanosecond)
	d, err := op.Break()
	if err != nil {
		t.Fatalf("Break just after expiry + slop: %v", err)
	}
	if d.PID != holder.PID() || d.Hostname != holder.Hostname() {
		t.Errorf("Break returned holder %+v, want host %q pid %d", d, holder.Hostname(), holder.PID())
	}
	w.wantFiles(t) // the holder's claim file and the break lock's files are gone too
	if err := holder.Refresh(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Refresh by the broken holder: got %v, want ErrNotLocked", err)
	}
	if op.IsLocked() {
		t.Error("Break took the lock; it must only break it")
	}
}

// TestBreakWaitsForAnotherBreaker: a break lock left by a breaker that
// crashed holds a Break up only until it has expired past the slop.
func TestBreakWaitsForAnotherBreaker(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop + time.Second)
	crashed := lockPath + ".break|alpha|999|1"
	if err := w.fs.WriteFile(lockPath+".break", []byte(crashed), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.fs.Chtimes(lockPath+".break", w.clk.Now().Add(time.Second), w.clk.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	start := w.clk.Now()
	if _, err := w.newLock(t, nil, nil).Break(); err != nil {
		t.Fatalf("Break with a crashed breaker's break lock in the way: %v", err)
	}
	if waited := w.clk.Now().Sub(start); waited <= time.Second+locker.DefaultClockSlop {
		t.Errorf("Break went ahead after %v, before the other break lock had expired past the slop (%v)", waited, time.Second+locker.DefaultClockSlop)
	}
	w.wantFiles(t)
}

func TestForceBreak(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	op := w.newLock(t, nil, nil)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := op.Details()
	if err != nil {
		t.Fatal(err)
	}
	if err := op.ForceBreak(d); err != nil {
		t.Fatalf("ForceBreak of a live lock: %v", err)
	}
	w.wantFiles(t)
	if err := holder.Refresh(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Refresh by the holder whose lock was broken: got %v, want ErrNotLocked", err)
	}
	if err := op.ForceBreak(d); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("ForceBreak with no lock: got %v, want ErrNotLocked", err)
	}

	// The lock changed hands between the operator's look and the break.
	next := w.newLock(t, nil, nil)
	if err := next.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	err = op.ForceBreak(d)
	var le *locker.Error
	if !errors.Is(err, locker.ErrBusy) || !errors.As(err, &le) || le.Holder == nil || le.Holder.PID != next.PID() {
		t.Errorf("ForceBreak of a lock now held by pid %d, asked to break pid %d's: got %v, want ErrBusy naming the new holder", next.PID(), d.PID, err)
	}
	if !next.IsLocked() {
		t.Error("ForceBreak broke the lock of a holder it was not asked to break")
	}
	w.wantFiles(t, lockPath, next.ClaimFile())
}

func TestBreakNeverTouchesAForeignFile(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	if err := w.fs.WriteFile(lockPath, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Hour)
	op := w.newLock(t, nil, nil)
	if _, err := op.Break(); !errors.Is(err, locker.ErrForeignFile) {
		t.Errorf("Break: got %v, want ErrForeignFile", err)
	}
	if err := op.ForceBreak(locker.Details{}); !errors.Is(err, locker.ErrForeignFile) {
		t.Errorf("ForceBreak: got %v, want ErrForeignFile", err)
	}
	w.wantFiles(t, lockPath)
	if got := w.read(t, lockPath); got != "precious" {
		t.Errorf("the foreign file now holds %q", got)
	}
}
