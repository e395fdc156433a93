package locker_test

import (
	"testing"

	"github.com/nfslock/nfslock/locker"
)

// oneLinkFS reports one link for every file, as sshfs does.
type oneLinkFS struct{ locker.FS }

func (f oneLinkFS) Stat(name string) (locker.FileInfo, error) {
	fi, err := f.FS.Stat(name)
	if fi.Links > 1 {
		fi.Links = 1
	}
	return fi, err
}

// TestCopyOfClaimIsNotOwnership: flufl.lock's rule needs two links; a lock
// file that merely contains our claim name (a copy, not a link) on a
// filesystem that counts links is not our lock.
func TestCopyOfClaimIsNotOwnership(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	if err := w.fs.WriteFile(lockPath, []byte(l.ClaimFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.fs.WriteFile(l.ClaimFile(), []byte(l.ClaimFile()), 0o644); err != nil {
		t.Fatal(err)
	}
	if l.IsLocked() {
		t.Error("IsLocked = true for a copy of the claim with one link")
	}
}

// TestFilesystemWithoutLinkCounts: where every file shows one link, the
// lock still works, deciding ownership by the unique claim name.
func TestFilesystemWithoutLinkCounts(t *testing.T) {
	w := newWorld(t)
	b := oneLinkFS{w.host}
	l := w.newLock(t, nil, b)
	other := w.newLock(t, nil, b)
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if !l.IsLocked() {
		t.Fatal("IsLocked = false on a filesystem without link counts")
	}
	if other.IsLocked() {
		t.Fatal("another Lock believes it holds the lock too")
	}
	if err := other.TryLock(); err == nil {
		t.Fatal("a second Lock took a held lock")
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("Unlock: %v (flufl.lock cannot release a lock on sshfs; nfslock must)", err)
	}
	w.wantFiles(t)
	if err := other.TryLock(); err != nil {
		t.Fatalf("TryLock after release: %v", err)
	}
}
