package locker_test

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

// Objects that no lock makes, at the names a lock reads and writes. The
// conformance suite checks every kind at the lock path and the break lock's
// path on every backend; these tests check the locker's own part.

func TestNewRejectsNamesNoClaimCanHold(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name string
		path string
		opts []locker.Option
		want string
	}{
		{"host with a slash", lockPath, []locker.Option{locker.WithHostname("a/b")}, "path separator"},
		{"host with a backslash", lockPath, []locker.Option{locker.WithHostname(`a\b`)}, "path separator"},
		{"lock path too long", dir + "/" + strings.Repeat("x", locker.MaxClaimLen), nil, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := locker.New(tt.path, w.host, append(w.host.Spawn().Options(), tt.opts...)...)
			if !errors.Is(err, locker.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: got %v, want ErrInvalid saying %q", err, tt.want)
			}
		})
	}
	w.wantFiles(t)
}

// TestClaimWithPathInHostIsForeign: the breaker of an expired lock removes
// the holder's claim file, named by the lock file's last path element. A
// host with a slash in it would make that another file of the directory.
func TestClaimWithPathInHostIsForeign(t *testing.T) {
	w := newWorld(t)
	const bystander = dir + "/notes|1|2"
	for name, contents := range map[string]string{lockPath: lockPath + "|evil/notes|1|2", bystander: "precious"} {
		if err := w.fs.WriteFile(name, []byte(contents), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.clk.Advance(24 * time.Hour)
	l := w.newLock(t, nil, nil)
	if err := l.Lock(ctx); !errors.Is(err, locker.ErrForeignFile) {
		t.Errorf("Lock: got %v, want ErrForeignFile", err)
	}
	if got := w.read(t, bystander); got != "precious" {
		t.Errorf("%s now holds %q, want %q", bystander, got, "precious")
	}
	w.wantFiles(t, lockPath, bystander)
}

// unboundedFS is a backend that breaks the contract's bound on reads, as
// a stranger's backend may: the locker bounds them itself.
type unboundedFS struct {
	locker.FS
	extra int
}

func (f unboundedFS) ReadFile(name string) ([]byte, error) {
	data, err := f.FS.ReadFile(name)
	if err == nil && strings.HasSuffix(name, ".lock") {
		data = append(data, make([]byte, f.extra)...)
	}
	return data, err
}

func TestLongReadFromBackendIsForeign(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(24 * time.Hour) // long expired, but not a lock as read
	l := w.newLock(t, nil, unboundedFS{FS: w.host, extra: locker.MaxClaimLen})
	err := l.Lock(ctx)
	if !errors.Is(err, locker.ErrForeignFile) || !errors.Is(err, locker.ErrTooLong) {
		t.Errorf("Lock with a lock file read as %d bytes: got %v, want ErrForeignFile and ErrTooLong", locker.MaxClaimLen+len(holder.ClaimFile()), err)
	}
	if !holder.IsLocked() {
		t.Error("the holder lost its lock")
	}
	w.wantFiles(t, lockPath, holder.ClaimFile())
}

// TestObjectAtOwnClaimName: something put at a Lock's own claim name
// (which the lock file shows to all while the lock is held) is replaced,
// never written through: a link to another file leaves that file alone.
func TestObjectAtOwnClaimName(t *testing.T) {
	w := newWorld(t)
	const victim = dir + "/victim"
	if err := w.fs.WriteFile(victim, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := w.newLock(t, nil, nil)
	if err := w.fs.SymlinkIfPossible(victim, l.ClaimFile()); err != nil {
		t.Fatal(err)
	}
	if err := l.Lock(ctx); err != nil {
		t.Fatalf("Lock with a symbolic link at its claim name: %v", err)
	}
	if got := w.read(t, victim); got != "precious" {
		t.Errorf("the link's target now holds %q, want %q", got, "precious")
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	w.wantFiles(t, victim)

	// A directory cannot be removed as a file: the Lock fails, saying so,
	// and leaves it. A directory is an object no lock makes.
	if err := w.fs.Mkdir(l.ClaimFile(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := l.Lock(ctx); !errors.Is(err, locker.ErrForeignFile) || !errors.Is(err, fs.ErrExist) {
		t.Errorf("Lock with a directory at its claim name: got %v, want ErrForeignFile, saying it exists", err)
	}
	w.wantFiles(t, victim, l.ClaimFile())
}

// TestForeignBreakLockPathStopsRelease: a holder whose lock has expired
// releases and refreshes it only under the break lock; an object at the
// break lock's path makes both fail at once, saying why, instead of
// waiting for a break lock that will never come free.
func TestForeignBreakLockPathStopsRelease(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultLifetime + time.Second)
	if err := w.fs.Mknod(lockPath+".break", fs.ModeNamedPipe|0o644); err != nil {
		t.Fatal(err)
	}
	w.clk.AutoAdvance(false) // a wait would now hang the test, not pass
	if err := l.Refresh(); !errors.Is(err, locker.ErrForeignFile) {
		t.Errorf("Refresh of an expired lock with a FIFO at the break lock's path: got %v, want ErrForeignFile", err)
	}
	if err := l.Unlock(); !errors.Is(err, locker.ErrForeignFile) || !strings.Contains(err.Error(), ".break") {
		t.Errorf("Unlock of an expired lock with a FIFO at the break lock's path: got %v, want ErrForeignFile naming the break lock", err)
	}
	w.wantFiles(t, lockPath, lockPath+".break")
}

// TestBreakerRestoresADirectory: a directory put at the lock path between
// a breaker's look at the expired lock and its move of the lock file aside
// is moved back (it cannot be hard-linked back) and then refused.
func TestBreakerRestoresADirectory(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(24 * time.Hour)
	faults := memfs.NewFaultFS(w.host)
	breaker := w.newLock(t, nil, faults)
	faults.SetHook(func(op memfs.Op, args ...string) {
		if op != memfs.OpRename || args[0] != lockPath {
			return
		}
		faults.SetHook(nil)
		if err := w.fs.Remove(lockPath); err != nil {
			t.Error(err)
		}
		if err := w.fs.Mkdir(lockPath, 0o755); err != nil {
			t.Error(err)
		}
	})
	if err := breaker.TryLock(); !errors.Is(err, locker.ErrForeignFile) {
		t.Errorf("TryLock: got %v, want ErrForeignFile", err)
	}
	if fi, err := w.fs.Stat(lockPath); err != nil || !fi.IsDir() {
		t.Errorf("the directory put at the lock path: %v, %v; want it back in place", fi, err)
	}
	w.wantFiles(t, lockPath, holder.ClaimFile())
}
