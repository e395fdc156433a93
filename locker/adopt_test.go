package locker_test

import (
	"errors"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// TestAdoptTakesOverAClaimOfThisProcess: a lock taken in the name of a
// process by one Lock (one run of a command-line tool) is refreshed and
// released by another Lock for the same process (a later run).
func TestAdoptTakesOverAClaimOfThisProcess(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	p := w.host.Spawn()
	first, err := locker.New(lockPath, w.host, p.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	adopted, err := locker.Adopt(lockPath, w.host, p.Options()...)
	if err != nil {
		t.Fatalf("Adopt of a lock held in this process's name: %v", err)
	}
	if adopted.ClaimFile() != first.ClaimFile() {
		t.Errorf("adopted ClaimFile() = %q, want the original claim %q", adopted.ClaimFile(), first.ClaimFile())
	}
	if !adopted.IsLocked() {
		t.Fatal("adopted Lock: IsLocked = false")
	}
	w.wantFiles(t, lockPath, first.ClaimFile()) // Adopt's clock probe left nothing behind

	w.clk.Advance(10 * time.Second)
	if err := adopted.Refresh(); err != nil {
		t.Fatalf("Refresh of the adopted lock: %v", err)
	}
	if exp, _ := adopted.Expiration(); !exp.Equal(w.clk.Now().Add(locker.DefaultLifetime)) {
		t.Errorf("after Refresh the lock expires at %v, want now + lifetime = %v", exp, w.clk.Now().Add(locker.DefaultLifetime))
	}
	if err := w.newLock(t, nil, nil).TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Errorf("TryLock by another process while adopted: got %v, want ErrBusy", err)
	}
	if err := adopted.Unlock(); err != nil {
		t.Fatalf("Unlock of the adopted lock: %v", err)
	}
	w.wantFiles(t)
}

// TestAdoptAndReleaseAnExpiredLock: a claim of this process that has
// expired past the slop, but that no one broke, can still be released.
func TestAdoptAndReleaseAnExpiredLock(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	p := w.host.Spawn()
	first, _ := locker.New(lockPath, w.host, p.Options()...)
	if err := first.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop + time.Second)
	adopted, err := locker.Adopt(lockPath, w.host, p.Options()...)
	if err != nil {
		t.Fatalf("Adopt of an expired, unbroken claim: %v", err)
	}
	if err := adopted.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	w.wantFiles(t)
}

func TestAdoptRefusesLocksNotOurs(t *testing.T) {
	for _, tt := range []struct {
		name    string
		setup   func(w *world) (opts []locker.Option, keep []string)
		want    error
		holder  bool // the error names the holder
		content string
	}{
		{
			name:  "no lock",
			setup: func(w *world) ([]locker.Option, []string) { return w.host.Spawn().Options(), nil },
			want:  locker.ErrNotLocked,
		},
		{
			name: "another pid",
			setup: func(w *world) ([]locker.Option, []string) {
				l := w.newLock(t, nil, nil)
				if err := l.Lock(ctx); err != nil {
					t.Fatal(err)
				}
				return w.host.Spawn().Options(), []string{lockPath, l.ClaimFile()}
			},
			want: locker.ErrNotLocked, holder: true,
		},
		{
			name: "same pid on another host",
			setup: func(w *world) ([]locker.Option, []string) {
				p := w.fs.Host("beta").Spawn()
				l, _ := locker.New(lockPath, p.Host(), p.Options()...)
				if err := l.Lock(ctx); err != nil {
					t.Fatal(err)
				}
				return append(p.Options(), locker.WithHostname("alpha")), []string{lockPath, l.ClaimFile()}
			},
			want: locker.ErrNotLocked, holder: true,
		},
		{
			name: "claim file removed",
			setup: func(w *world) ([]locker.Option, []string) {
				p := w.host.Spawn()
				l, _ := locker.New(lockPath, w.host, p.Options()...)
				if err := l.Lock(ctx); err != nil {
					t.Fatal(err)
				}
				if err := w.fs.Remove(l.ClaimFile()); err != nil {
					t.Fatal(err)
				}
				return p.Options(), []string{lockPath}
			},
			want: locker.ErrNotLocked, holder: true,
		},
		{
			name: "foreign file",
			setup: func(w *world) ([]locker.Option, []string) {
				if err := w.fs.WriteFile(lockPath, []byte("precious"), 0o644); err != nil {
					t.Fatal(err)
				}
				return w.host.Spawn().Options(), []string{lockPath}
			},
			want: locker.ErrForeignFile, content: "precious",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			opts, keep := tt.setup(w)
			l, err := locker.Adopt(lockPath, w.host, opts...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Adopt: got a Lock: %v, error %v; want an error wrapping %v", l != nil, err, tt.want)
			}
			var le *locker.Error
			if !errors.As(err, &le) || (le.Holder != nil) != tt.holder {
				t.Errorf("Adopt error %#v: want an *Error naming the holder: %v", err, tt.holder)
			}
			w.wantFiles(t, keep...)
			if tt.content != "" {
				if got := w.read(t, lockPath); got != tt.content {
					t.Errorf("the file at the lock path now holds %q, want it untouched (%q)", got, tt.content)
				}
			}
		})
	}
}
