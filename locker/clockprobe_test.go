package locker_test

import (
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// TestMeasureClockOffset: the offset to the file server is learned without
// taking the lock and without leaving a file behind; a held lock is not
// rewritten to measure it.
func TestMeasureClockOffset(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	w.host.SetClockOffset(-time.Minute) // this host's clock is a minute slow
	l := w.newLock(t, nil, nil)
	off, err := l.MeasureClockOffset()
	if err != nil {
		t.Fatal(err)
	}
	if off != time.Minute || l.ClockOffset() != time.Minute {
		t.Errorf("MeasureClockOffset() = %v, ClockOffset() = %v; want the server a minute ahead (1m0s)", off, l.ClockOffset())
	}
	w.wantFiles(t)
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(2 * time.Minute) // due for a new estimate, but the lock is held
	if off, err := l.MeasureClockOffset(); err != nil || off != time.Minute {
		t.Errorf("MeasureClockOffset while holding: %v, %v; want the last estimate (1m0s) and no error", off, err)
	}
	if got := w.read(t, lockPath); got != l.ClaimFile() {
		t.Errorf("lock file holds %q after MeasureClockOffset, want the claim %q", got, l.ClaimFile())
	}
}

// TestAdoptRefreshesInServerTime: a host whose clock is wrong refreshes an
// adopted lock to expire a lifetime from now in the server's clock.
func TestAdoptRefreshesInServerTime(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	p := w.host.Spawn()
	first, _ := locker.New(lockPath, w.host, p.Options()...)
	if err := first.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.host.SetClockOffset(-time.Minute)
	adopted, err := locker.Adopt(lockPath, w.host, p.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := adopted.Refresh(); err != nil {
		t.Fatal(err)
	}
	want := w.clk.Now().Add(locker.DefaultLifetime)
	if exp, _ := adopted.Expiration(); !exp.Equal(want) {
		t.Errorf("refreshed by a host a minute slow: expires %v, want server now + lifetime = %v", exp, want)
	}
}
