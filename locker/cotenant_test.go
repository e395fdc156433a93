package locker_test

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/afero"
)

// Someone else at work on the lock's names: anyone who can write the
// directory can remove or replace a Lock's files between two of its calls.
// The Lock then fails with one of its documented errors, never with a bare
// error of the filesystem's (see docs/security.md).

// meddle returns a backend for a lock of the world's host that calls
// meddle, on the lock's goroutine, just before each call of op on name;
// each is given the number of the call, from 1.
func (w *world) meddle(op memfs.Op, name string, meddle func(call int)) *memfs.FaultFS {
	b := memfs.NewFaultFS(w.host)
	calls := 0
	b.SetHook(func(o memfs.Op, args ...string) {
		if o == op && args[0] == name {
			calls++
			meddle(calls)
		}
	})
	return b
}

// remove removes name, which must be there.
func (w *world) remove(t *testing.T, name string) {
	t.Helper()
	if err := w.fs.Remove(name); err != nil {
		t.Error(err)
	}
}

// TestClaimRemovedBeforeItIsDated: a claim file removed between its write
// and its date is written again; removed every time, the acquisition fails
// with ErrBusy, not with the date's ENOENT taken for a missing directory.
func TestClaimRemovedBeforeItIsDated(t *testing.T) {
	for _, every := range []bool{false, true} {
		w := newWorld(t)
		b := memfs.NewFaultFS(w.host)
		l := w.newLock(t, nil, b)
		claim := l.ClaimFile()
		calls := 0
		b.SetHook(func(op memfs.Op, args ...string) {
			if op == memfs.OpChtimes && args[0] == claim {
				if calls++; every || calls == 1 {
					w.remove(t, claim)
				}
			}
		})
		for _, try := range []struct {
			name string
			call func() error
		}{{"Lock", func() error { return l.Lock(ctx) }}, {"TryLock", l.TryLock}} {
			calls = 0
			err := try.call()
			switch {
			case every && (!errors.Is(err, locker.ErrBusy) || !errors.Is(err, fs.ErrNotExist)):
				t.Errorf("%s with the claim file removed each time before it is dated: got %v, want ErrBusy, the ENOENT kept", try.name, err)
			case every:
				w.wantFiles(t)
			case err != nil:
				t.Errorf("%s with the claim file removed once before it is dated: got %v, want it written again and the lock taken", try.name, err)
			default:
				if err := l.Unlock(); err != nil {
					t.Error(err)
				}
			}
		}
	}
}

// TestTryLockInconclusiveIsBusy: a TryLock whose every attempt is
// inconclusive (the claim file or the lock file vanishing under it) fails
// with ErrBusy, the last cause kept.
func TestTryLockInconclusiveIsBusy(t *testing.T) {
	w := newWorld(t)
	b := memfs.NewFaultFS(w.host)
	for call := 1; call <= 10; call++ {
		b.Fail(memfs.OpLink, call, syscall.ENOENT)
	}
	l := w.newLock(t, nil, b)
	if err := l.TryLock(); !errors.Is(err, locker.ErrBusy) || !errors.Is(err, syscall.ENOENT) {
		t.Errorf("TryLock whose links all fail with ENOENT: got %v, want ErrBusy, the ENOENT kept", err)
	}
	w.wantFiles(t)
}

// TestBreakClaimRemovedBeforeItIsDated: a break claim removed before it is
// dated means that the break lock is not this Lock's this time, as if it
// were busy: a waiter waits, and Break gives up with ErrTimeout once the
// break lock has stayed busy for as long as one may be held.
func TestBreakClaimRemovedBeforeItIsDated(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(time.Hour)
	b := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, b)
	breakClaim := strings.Replace(l.ClaimFile(), lockPath, lockPath+".break", 1)
	b.SetHook(func(op memfs.Op, args ...string) {
		if op == memfs.OpChtimes && args[0] == breakClaim {
			w.remove(t, breakClaim)
		}
	})
	if err := l.TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Errorf("TryLock of an expired lock whose break claim is removed before it is dated: got %v, want ErrBusy", err)
	}
	if _, err := l.Break(); !errors.Is(err, locker.ErrTimeout) {
		t.Errorf("Break of an expired lock whose break claim is removed before it is dated: got %v, want ErrTimeout", err)
	}
	w.wantFiles(t, lockPath, holder.ClaimFile())
}

// TestBreakLockStaysBusy: a holder whose lock has expired releases and
// refreshes it only under the break lock; if that stays busy for longer
// than one may be held, Unlock and Refresh give up with ErrTimeout.
func TestBreakLockStaysBusy(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultLifetime + time.Second)
	// Someone's break lock, dated far ahead: it never expires while the
	// holder waits.
	other := lockPath + ".break|other.example.org|42|7"
	if err := afero.WriteFile(w.fs, lockPath+".break", []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	later := w.clk.Now().Add(time.Hour)
	if err := w.fs.Chtimes(lockPath+".break", later, later); err != nil {
		t.Fatal(err)
	}
	if err := l.Refresh(); !errors.Is(err, locker.ErrTimeout) {
		t.Errorf("Refresh of an expired lock while the break lock stays busy: got %v, want ErrTimeout", err)
	}
	if err := l.Unlock(); !errors.Is(err, locker.ErrTimeout) {
		t.Errorf("Unlock of an expired lock while the break lock stays busy: got %v, want ErrTimeout", err)
	}
	// The lock file stays, to be broken in its turn.
	w.wantFiles(t, lockPath, lockPath+".break")
}

// TestBreakLockTakenFromUnderARefresh: a holder refreshing its expired lock
// under the break lock finds, each time it is done, that the break lock was
// taken from it meanwhile; after a few rounds it gives up with ErrBusy.
func TestBreakLockTakenFromUnderARefresh(t *testing.T) {
	w := newWorld(t)
	b := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, b)
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultLifetime + time.Second)
	breakPath := lockPath + ".break"
	other := breakPath + "|other.example.org|42|7"
	b.SetHook(func(op memfs.Op, args ...string) {
		switch {
		case op == memfs.OpLink && args[1] == breakPath:
			// Gone when the holder takes the break lock...
			w.fs.Remove(breakPath)
		case op == memfs.OpChtimes && args[0] == l.ClaimFile():
			// ...and someone else's by the time it is done.
			w.fs.Remove(breakPath)
			if err := afero.WriteFile(w.fs, breakPath, []byte(other), 0o644); err != nil {
				t.Error(err)
			}
		}
	})
	if err := l.Refresh(); !errors.Is(err, locker.ErrBusy) {
		t.Errorf("Refresh under a break lock taken from the holder every time: got %v, want ErrBusy", err)
	}
}

// TestFencingTempFileRemovedBeforeTheRename: a temporary token file removed
// before it is renamed over the counter is written again; removed every
// time, the acquisition fails with ErrBusy, the lock released.
func TestFencingTempFileRemovedBeforeTheRename(t *testing.T) {
	for _, every := range []bool{false, true} {
		w := newWorld(t)
		b := memfs.NewFaultFS(w.host)
		l := w.newLock(t, nil, b, locker.WithFencing())
		tmp := l.ClaimFile() + ".fence-tmp"
		calls := 0
		b.SetHook(func(op memfs.Op, args ...string) {
			if op == memfs.OpRename && args[0] == tmp {
				if calls++; every || calls == 1 {
					w.remove(t, tmp)
				}
			}
		})
		err := l.Lock(ctx)
		if !every {
			if err != nil {
				t.Fatalf("Lock with the temporary token file removed once: got %v, want it written again and the lock taken", err)
			}
			w.wantToken(t, "l", l, 1)
			continue
		}
		if !errors.Is(err, locker.ErrBusy) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Lock with the temporary token file removed each time before the rename: got %v, want ErrBusy, the ENOENT kept", err)
		}
		w.wantFiles(t)
	}
}

// TestStateOfALockFileThatKeepsChanging: State describes one lock file; if
// the lock file changes hands between every two reads, it gives up with
// ErrBusy.
func TestStateOfALockFileThatKeepsChanging(t *testing.T) {
	w := newWorld(t)
	n := 0
	b := w.meddle(memfs.OpReadFile, lockPath, func(int) {
		n++
		w.fs.Remove(lockPath)
		claim := lockPath + "|other.example.org|42|" + strings.Repeat("1", n)
		if err := afero.WriteFile(w.fs, lockPath, []byte(claim), 0o644); err != nil {
			t.Error(err)
		}
	})
	l := w.newLock(t, nil, b)
	if _, err := l.State(); !errors.Is(err, locker.ErrBusy) {
		t.Errorf("State of a lock file that changes hands between every two reads: got %v, want ErrBusy", err)
	}
}

// TestSomethingPutBackAtOwnName: a Lock removes what it finds at a name of
// its own before writing its file there; if something is put there again
// each time, it gives up with ErrBusy, the EEXIST kept.
func TestSomethingPutBackAtOwnName(t *testing.T) {
	for _, name := range []string{"ClaimFile", "TokenFile"} {
		w := newWorld(t)
		b := memfs.NewFaultFS(w.host)
		l := w.newLock(t, nil, b, locker.WithFencing())
		at := l.ClaimFile()
		if name == "TokenFile" {
			at += ".fence-tmp"
		}
		b.SetHook(func(op memfs.Op, args ...string) {
			if op == memfs.OpWriteFile && args[0] == at {
				afero.WriteFile(w.fs, at, []byte("again"), 0o644)
			}
		})
		err := l.Lock(ctx)
		if !errors.Is(err, locker.ErrBusy) || !errors.Is(err, fs.ErrExist) {
			t.Errorf("Lock with a file put back at its %s each time it is removed: got %v, want ErrBusy, the EEXIST kept", name, err)
		}
		if l.IsLocked() {
			t.Errorf("Lock failed, but the lock is held")
		}
	}
}

// TestAttributesFailingForAMomentRetried: a date or a look at a file's
// attributes that fails for a moment (FUSE's EIO for a name whose file was
// just replaced by one of another type, NFS's ESTALE) is tried again, not
// reported: by Refresh, and by a holder's look that the lock is its own.
func TestAttributesFailingForAMomentRetried(t *testing.T) {
	w := newWorld(t)
	b := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, b)
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	b.Fail(memfs.OpChtimes, 1, locker.Transient(syscall.EIO))
	if err := l.Refresh(); err != nil {
		t.Errorf("Refresh whose date fails once for a moment: got %v, want nil", err)
	}
	// TryLock by the holder looks at the lock file (a stat), then at its
	// claim file (the second stat from now).
	b.Fail(memfs.OpStat, 2, locker.Transient(syscall.EIO))
	if err := l.TryLock(); !errors.Is(err, locker.ErrAlreadyLocked) {
		t.Errorf("TryLock by the holder whose look at its claim file fails once for a moment: got %v, want ErrAlreadyLocked", err)
	}
}

// TestLinkRefusedForWhatIsAtTheClaimName: a link of the claim file that
// fails with an error that says nothing of the lock file (EPERM) is looked
// into: with the claim file replaced by someone else's file it is as
// inconclusive as a lost race (ErrBusy for TryLock); with something no
// lock makes there, ErrForeignFile; with the claim file intact, the
// filesystem's refusal, reported as it is (no hard links there).
func TestLinkRefusedForWhatIsAtTheClaimName(t *testing.T) {
	tests := []struct {
		name    string
		replace func(w *world, claim string) error
		want    error
	}{
		{"ReplacedByAFile", func(w *world, claim string) error {
			w.fs.Remove(claim)
			return afero.WriteFile(w.fs, claim, []byte("junk"), 0o644)
		}, locker.ErrBusy},
		{"ReplacedByAFIFO", func(w *world, claim string) error {
			w.fs.Remove(claim)
			return w.fs.Mknod(claim, fs.ModeNamedPipe|0o644)
		}, locker.ErrForeignFile},
		{"Intact", func(*world, string) error { return nil }, syscall.EPERM},
	}
	// A directory at the claim name for one link, and a copy of the claim
	// file back by the next: the second link, not refused, takes the lock.
	t.Run("RefusedOnce", func(t *testing.T) {
		w := newWorld(t)
		b := memfs.NewFaultFS(w.host)
		l := w.newLock(t, nil, b)
		b.Fail(memfs.OpLink, 1, syscall.EPERM)
		if err := l.TryLock(); err != nil {
			t.Errorf("TryLock whose first link is refused once (EPERM), its claim file intact: got %v, want the lock taken", err)
		}
		if !l.IsLocked() {
			t.Errorf("after TryLock: IsLocked() = false, want true")
		}
	})
	for _, tt := range tests {
		w := newWorld(t)
		b := memfs.NewFaultFS(w.host)
		l := w.newLock(t, nil, b)
		b.SetHook(func(op memfs.Op, args ...string) {
			if op == memfs.OpLink && args[0] == l.ClaimFile() {
				if err := tt.replace(w, l.ClaimFile()); err != nil {
					t.Error(err)
				}
			}
		})
		for call := 1; call <= 10; call++ {
			b.Fail(memfs.OpLink, call, syscall.EPERM)
		}
		err := l.TryLock()
		if !errors.Is(err, tt.want) || !errors.Is(err, syscall.EPERM) {
			t.Errorf("%s: TryLock whose link fails with EPERM: got %v, want %v, the EPERM kept", tt.name, err, tt.want)
		}
		if tt.name == "Intact" && (errors.Is(err, locker.ErrBusy) || errors.Is(err, locker.ErrForeignFile)) {
			t.Errorf("%s: TryLock whose link of an intact claim file fails with EPERM: got %v, want the filesystem's refusal alone", tt.name, err)
		}
	}
}

// TestBreakerFindsTheNameTakenWhenItPutsBack: a breaker that moved aside
// what turned out not to be the lock it judged (replaced meanwhile) puts it
// back; if someone took the free name meanwhile, Break reports ErrBusy.
func TestBreakerFindsTheNameTakenWhenItPutsBack(t *testing.T) {
	w := newWorld(t)
	const expired = lockPath + "|gone.example.org|4242|1"
	if err := afero.WriteFile(w.fs, lockPath, []byte(expired), 0o644); err != nil {
		t.Fatal(err)
	}
	old := w.clk.Now().Add(-24 * time.Hour)
	if err := w.fs.Chtimes(lockPath, old, old); err != nil {
		t.Fatal(err)
	}
	b := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, b)
	aside := l.ClaimFile() + ".moved"
	b.SetHook(func(op memfs.Op, args ...string) {
		if op == memfs.OpReadFile && args[0] == aside {
			b.SetHook(nil)
			// What was moved is not what was judged, and the lock
			// path is taken meanwhile.
			w.fs.Remove(aside)
			afero.WriteFile(w.fs, aside, []byte(lockPath+"|other.example.org|42|7"), 0o644)
			afero.WriteFile(w.fs, lockPath, []byte(lockPath+"|third.example.org|43|8"), 0o644)
		}
	})
	if _, err := l.Break(); !errors.Is(err, locker.ErrBusy) || !errors.Is(err, fs.ErrExist) {
		t.Errorf("Break whose put-back finds the lock path taken: got %v, want ErrBusy, the EEXIST kept", err)
	}
}

// TestBreakLinkRefusedForWhatIsAtTheBreakClaim: as for the claim file, a
// link of the break claim refused (EPERM) because someone replaced the
// break claim is no failure of the filesystem's: the break lock is not this
// Lock's this time, and Break, trying again, breaks the expired lock.
func TestBreakLinkRefusedForWhatIsAtTheBreakClaim(t *testing.T) {
	w := newWorld(t)
	const expired = lockPath + "|gone.example.org|4242|1"
	if err := afero.WriteFile(w.fs, lockPath, []byte(expired), 0o644); err != nil {
		t.Fatal(err)
	}
	old := w.clk.Now().Add(-24 * time.Hour)
	if err := w.fs.Chtimes(lockPath, old, old); err != nil {
		t.Fatal(err)
	}
	b := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, b)
	breakClaim := strings.Replace(l.ClaimFile(), lockPath, lockPath+".break", 1)
	b.SetHook(func(op memfs.Op, args ...string) {
		if op == memfs.OpLink && args[0] == breakClaim {
			b.SetHook(nil)
			w.fs.Remove(breakClaim)
			afero.WriteFile(w.fs, breakClaim, []byte("junk"), 0o644)
			b.Fail(memfs.OpLink, 1, syscall.EPERM)
		}
	})
	if _, err := l.Break(); err != nil {
		t.Errorf("Break whose first link of its break claim is refused, the break claim replaced: got %v, want the expired lock broken", err)
	}
}

// TestBreakerLooksAgainBeforeTheMove: a breaker that judged the lock
// expired and holds the break lock looks at the lock file again right
// before it moves it aside. Its break lock can be taken from under it and
// given back (a breaker of a stale one moves it aside by mistake, a third
// takes the free name, breaks the lock and takes it, the first puts the
// break lock back over the third's): the lock file is then the third's
// fresh lock, which it must not move, even for a moment (the interleavings
// found this with four lockers: while it was aside, a fourth took the
// lock, and two held it).
func TestBreakerLooksAgainBeforeTheMove(t *testing.T) {
	w := newWorld(t)
	const expired = lockPath + "|gone.example.org|4242|1"
	if err := afero.WriteFile(w.fs, lockPath, []byte(expired), 0o644); err != nil {
		t.Fatal(err)
	}
	old := w.clk.Now().Add(-24 * time.Hour)
	if err := w.fs.Chtimes(lockPath, old, old); err != nil {
		t.Fatal(err)
	}
	b := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, b)
	const fresh = lockPath + "|third.example.org|43|8"
	replaced, movedFresh := false, false
	b.SetHook(func(op memfs.Op, args ...string) {
		if replaced {
			if op == memfs.OpRename && args[0] == lockPath {
				movedFresh = true
			}
			return
		}
		// The breaker's look at its break lock just before the move.
		if op == memfs.OpReadFile && args[0] == lockPath+".break" {
			if _, err := w.fs.Stat(l.ClaimFile() + ".moved"); err == nil {
				return
			}
			replaced = true
			w.fs.Remove(lockPath)
			afero.WriteFile(w.fs, lockPath, []byte(fresh), 0o644)
			future := w.clk.Now().Add(time.Hour)
			w.fs.Chtimes(lockPath, future, future)
		}
	})
	err := l.TryLock()
	if !replaced {
		t.Fatalf("the breaker never looked at its break lock before moving the lock (TryLock: %v); this test needs it to", err)
	}
	if !errors.Is(err, locker.ErrBusy) {
		t.Errorf("TryLock of a lock replaced by a fresh one under the break lock: %v, want ErrBusy", err)
	}
	if movedFresh {
		t.Errorf("TWO HOLDERS POSSIBLE: the breaker moved aside the fresh lock that replaced the expired one it judged; a taker linking while it was aside would hold the lock with its holder")
	}
	if got := w.read(t, lockPath); got != fresh {
		t.Errorf("lock file %q after the breaker's TryLock, want the fresh lock %q", got, fresh)
	}
}
