package memfs_test

import (
	"testing"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

// BenchmarkLockUnlock measures one uncontended TryLock + Unlock cycle of the
// locker on the in-memory backend: the cost of the algorithm itself, with no
// system calls.
func BenchmarkLockUnlock(b *testing.B) {
	fsys := memfs.New()
	if err := fsys.MkdirAll("/locks", 0o755); err != nil {
		b.Fatal(err)
	}
	h := fsys.Host("alpha")
	l, err := locker.New("/locks/x.lock", h, h.Spawn().Options()...)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := l.TryLock(); err != nil {
			b.Fatal(err)
		}
		if err := l.Unlock(); err != nil {
			b.Fatal(err)
		}
	}
}
