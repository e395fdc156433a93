package locker_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// TestSkewedClocks: hosts whose clocks are a minute off the file server's
// neither break a live, refreshed lock nor fail to see it held; without the
// server-time estimate (as flufl.lock works) they do break it.
func TestSkewedClocks(t *testing.T) {
	for _, tt := range []struct {
		name                  string
		holderSkew, otherSkew time.Duration
		serverTime            bool
		wantBroken            bool
	}{
		{"fast breaker", 0, time.Minute, true, false},
		{"slow holder", -time.Minute, 0, true, false},
		{"fast breaker, local time", 0, time.Minute, false, true},
		{"slow holder, local time", -time.Minute, 0, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.clk.AutoAdvance(false)
			alpha, beta := w.fs.Host("alpha"), w.fs.Host("beta")
			alpha.SetClockOffset(tt.holderSkew)
			beta.SetClockOffset(tt.otherSkew)
			opt := locker.WithServerTime(tt.serverTime)
			holder := w.newLock(t, alpha, nil, opt)
			other := w.newLock(t, beta, nil, opt)
			if err := holder.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			broken := false
			for i := 0; i < 6 && !broken; i++ {
				w.clk.Advance(locker.DefaultLifetime / 3)
				if err := holder.Refresh(); err != nil {
					t.Logf("refresh %d: %v", i, err)
					broken = true
					break
				}
				err := other.TryLock()
				switch {
				case err == nil:
					broken = true
				case !errors.Is(err, locker.ErrBusy):
					t.Fatalf("TryLock by the other host: %v", err)
				}
			}
			if broken != tt.wantBroken {
				t.Errorf("holder (clock %+v) refreshing every lifetime/3, other host (clock %+v): lock broken = %v, want %v",
					tt.holderSkew, tt.otherSkew, broken, tt.wantBroken)
			}
			if tt.serverTime {
				for _, l := range []*locker.Lock{holder, other} {
					if want := -map[*locker.Lock]time.Duration{holder: tt.holderSkew, other: tt.otherSkew}[l]; l.ClockOffset() != want {
						t.Errorf("%s's ClockOffset() = %v, want %v", l.Hostname(), l.ClockOffset(), want)
					}
				}
			}
		})
	}
}

// secondsFS keeps file times in whole seconds, as sshfs and some NFS
// servers do.
type secondsFS struct{ locker.FS }

func (f secondsFS) Stat(name string) (locker.FileInfo, error) {
	fi, err := f.FS.Stat(name)
	fi.ModTime = fi.ModTime.Truncate(time.Second)
	return fi, err
}

func TestLifetimeTooShortForWholeSeconds(t *testing.T) {
	for _, tt := range []struct {
		lifetime time.Duration
		ok       bool
	}{
		{time.Second, false},
		{2 * time.Second, false},
		{3 * time.Second, true},
		{15 * time.Second, true},
	} {
		t.Run(fmt.Sprint(tt.lifetime), func(t *testing.T) {
			w := newWorld(t)
			w.clk.Advance(1234 * time.Millisecond) // a time with a fraction of a second
			l := w.newLock(t, nil, secondsFS{w.host}, locker.WithLifetime(tt.lifetime))
			err := l.TryLock()
			if tt.ok && err != nil {
				t.Errorf("TryLock with lifetime %v on a whole-seconds filesystem: %v", tt.lifetime, err)
			}
			if !tt.ok {
				if !errors.Is(err, locker.ErrInvalid) {
					t.Errorf("TryLock with lifetime %v on a whole-seconds filesystem: got %v, want ErrInvalid", tt.lifetime, err)
				}
				w.wantFiles(t)
			}
		})
	}
}
