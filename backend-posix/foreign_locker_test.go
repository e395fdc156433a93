//go:build linux || darwin || freebsd || netbsd || openbsd

package posix_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/locker"
)

// TestForeignObjectAtLockPath is issue 10's table, tried as a careful user
// would, each with a 2 s timeout: a FIFO, a dangling symbolic link and a
// 3 GiB sparse file at the lock path (which made Lock, TryLock and State
// block, made TryLock say ErrBusy and Lock wait out its timeout, and read
// gigabytes into memory), and the other objects no lock makes. Every
// operation must fail at once with ErrForeignFile, leave the object as it
// was and leave no claim file. (The conformance suite's ForeignObjects
// scenarios check the same on every backend, on the suite's timeline.)
func TestForeignObjectAtLockPath(t *testing.T) {
	const timeout = 2 * time.Second
	tests := []struct {
		name   string
		object func(dir string) conformance.Object
		target bool // the object is a link to a file "target" in dir
	}{
		{"FIFO", func(string) conformance.Object { return conformance.Object{Kind: conformance.FIFO} }, false},
		{"DanglingSymlink", func(dir string) conformance.Object {
			return conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "missing")}
		}, false},
		{"HugeSparseFile", func(string) conformance.Object {
			return conformance.Object{Kind: conformance.SparseFile, Size: 3 << 30}
		}, false},
		{"Socket", func(string) conformance.Object { return conformance.Object{Kind: conformance.Socket} }, false},
		{"Directory", func(string) conformance.Object { return conformance.Object{Kind: conformance.Directory} }, false},
		{"CharDevice", func(string) conformance.Object { return conformance.Object{Kind: conformance.CharDevice} }, false},
		{"SymlinkToClaim", func(dir string) conformance.Object {
			return conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "target")}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.lock")
			l, err := locker.New(path, posix.New(), locker.WithTimeout(timeout))
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"app.lock"}
			if tt.target {
				// An expired lock of a host that is gone, but not at the
				// lock path: the link to it must not make it one.
				target := filepath.Join(dir, "target")
				claim := strings.Join([]string{path, "gone.example.org", "4242", "1"}, locker.DefaultSeparator)
				if err := os.WriteFile(target, []byte(claim), 0o644); err != nil {
					t.Fatal(err)
				}
				old := time.Now().Add(-time.Hour)
				if err := os.Chtimes(target, old, old); err != nil {
					t.Fatal(err)
				}
				want = append(want, "target")
			}
			err = conformance.MakeObjectOnDisk(path, tt.object(dir))
			if errors.Is(err, errors.ErrUnsupported) {
				t.Skipf("cannot make a %s here: %v", tt.name, err)
			}
			if err != nil {
				t.Fatal(err)
			}
			before := describeAll(t, dir, want)

			calls := []struct {
				name string
				call func() error
			}{
				{"Lock", func() error { return l.Lock(ctx) }},
				{"TryLock", l.TryLock},
				{"State", func() error {
					st, err := l.State()
					if err == nil && st != locker.Unknown {
						t.Errorf("State() = %v, want %v with an error", st, locker.Unknown)
					}
					return err
				}},
				{"Details", func() error { _, err := l.Details(); return err }},
			}
			for _, c := range calls {
				done := make(chan error, 1)
				go func() { done <- c.call() }()
				select {
				case err := <-done:
					if !errors.Is(err, locker.ErrForeignFile) {
						t.Errorf("%s with a %s at the lock path: got %v, want ErrForeignFile", c.name, tt.name, err)
					}
				case <-time.After(timeout + 10*time.Second):
					t.Fatalf("%s with a %s at the lock path did not return within its %v timeout (and 10 s more): it blocks", c.name, tt.name, timeout)
				}
			}
			if got := dirEntries(t, dir); !slices.Equal(got, want) {
				t.Errorf("directory holds %q, want exactly %q: the object and nothing of the lock's", got, want)
			}
			if after := describeAll(t, dir, want); !slices.Equal(after, before) {
				t.Errorf("changed:\nbefore %q\nafter  %q", before, after)
			}
		})
	}
}

func describeAll(t *testing.T, dir string, names []string) []string {
	t.Helper()
	var d []string
	for _, n := range names {
		s, err := conformance.DescribeOnDisk(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		d = append(d, n+": "+s)
	}
	return d
}

// linkHookFS is the posix backend, calling onLink before each Link with
// the number of that call.
type linkHookFS struct {
	*posix.FS
	links  int
	onLink func(n int)
}

func (f *linkHookFS) Link(oldname, newname string) error {
	f.links++
	f.onLink(f.links)
	return f.FS.Link(oldname, newname)
}

// TestWaiterSeesADirectoryReplaceTheLock: a waiting Lock judges a busy lock
// by a stat between its full reads of the lock file; a directory put in
// the lock file's place (with as many links, and a size no larger than a
// claim's, on most filesystems) is read at the next poll, and reported.
func TestWaiterSeesADirectoryReplaceTheLock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.lock")
	holder, err := locker.New(path, posix.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	const replaceAt = 4 // the first attempt reads the lock file, the next glance at it
	fsys := &linkHookFS{FS: posix.New(), onLink: func(n int) {
		if n != replaceAt {
			return
		}
		if err := os.Remove(path); err != nil {
			t.Error(err)
		}
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Error(err)
		}
	}}
	waiter, err := locker.New(path, fsys, locker.WithWatcher(false), locker.WithBackoff(time.Millisecond, time.Millisecond), locker.WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	err = waiter.Lock(ctx)
	if !errors.Is(err, locker.ErrForeignFile) {
		t.Fatalf("Lock with a directory put at the lock path while it waited: got %v, want ErrForeignFile", err)
	}
	if fsys.links != replaceAt {
		t.Errorf("the waiter reported the directory after %d links, want at the poll that met it, link %d", fsys.links, replaceAt)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	holder.UnlockUnconditionally()
}
