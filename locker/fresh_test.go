package locker_test

import (
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

// TestFreshClaimDatedOnce: a claim linked soon after it was dated (within
// a hundredth of the lifetime, 100 ms at most) is not dated again, and one
// linked later is; either way the holder counts on the date the lock file
// has, never on a later one.
func TestFreshClaimDatedOnce(t *testing.T) {
	tests := []struct {
		lifetime, pause time.Duration
		dates           int
	}{
		{locker.DefaultLifetime, 0, 1},
		{locker.DefaultLifetime, 99 * time.Millisecond, 1},
		{locker.DefaultLifetime, 101 * time.Millisecond, 2},
		{time.Second, 9 * time.Millisecond, 1},
		{time.Second, 11 * time.Millisecond, 2},
		{10 * time.Millisecond, time.Millisecond, 1},
		{10 * time.Millisecond, 2 * time.Millisecond, 2},
	}
	for _, tt := range tests {
		w := newWorld(t)
		w.clk.AutoAdvance(false)
		b := memfs.NewFaultFS(w.host)
		l := w.newLock(t, nil, b, locker.WithLifetime(tt.lifetime))
		dates := 0
		b.SetHook(func(op memfs.Op, args ...string) {
			switch {
			case op == memfs.OpChtimes && args[0] == l.ClaimFile():
				dates++
			case op == memfs.OpLink && args[1] == lockPath:
				w.clk.Advance(tt.pause) // between the date and the link
			}
		})
		if err := l.TryLock(); err != nil {
			t.Fatalf("lifetime %v, %v between date and link: TryLock: %v", tt.lifetime, tt.pause, err)
		}
		b.SetHook(nil)
		if dates != tt.dates {
			t.Errorf("lifetime %v, %v between date and link: the claim was dated %d times, want %d", tt.lifetime, tt.pause, dates, tt.dates)
		}
		fi, err := w.host.Stat(lockPath)
		if err != nil {
			t.Fatal(err)
		}
		if exp, _ := l.Expiration(); !exp.Equal(fi.ModTime) {
			t.Errorf("lifetime %v, %v between date and link: the holder counts on expiry %v, the lock file is dated %v", tt.lifetime, tt.pause, exp, fi.ModTime)
		}
		if err := l.Unlock(); err != nil {
			t.Fatal(err)
		}
	}
}
