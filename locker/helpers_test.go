package locker_test

import (
	"slices"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/afero"
)

const (
	dir      = "/locks"
	lockPath = "/locks/resource.lock"
)

// world is an in-memory file server with a virtual clock and one host.
type world struct {
	fs   *memfs.FS
	clk  *memfs.Clock
	host *memfs.Host
}

// newWorld returns a world whose clock advances by itself whenever a lock
// sleeps, so waits of seconds take microseconds.
func newWorld(t *testing.T) *world {
	t.Helper()
	fsys := memfs.New()
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fsys.Clock().AutoAdvance(true)
	return &world{fs: fsys, clk: fsys.Clock(), host: fsys.Host("alpha")}
}

// newLock returns a lock on lockPath for a new process of host h (the
// world's host if h is nil) using backend b (the host if b is nil).
func (w *world) newLock(t *testing.T, h *memfs.Host, b locker.FS, opts ...locker.Option) *locker.Lock {
	t.Helper()
	if h == nil {
		h = w.host
	}
	if b == nil {
		b = h
	}
	p := h.Spawn()
	l, err := locker.New(lockPath, b, append(p.Options(), opts...)...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return l
}

// files lists the names in the lock directory.
func (w *world) files(t *testing.T) []string {
	t.Helper()
	infos, err := afero.ReadDir(w.fs, dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range infos {
		names = append(names, dir+"/"+fi.Name())
	}
	slices.Sort(names)
	return names
}

// wantFiles fails the test unless the lock directory holds exactly want.
func (w *world) wantFiles(t *testing.T, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := w.files(t); !slices.Equal(got, want) {
		t.Errorf("files in %s:\n got  %q\n want %q", dir, got, want)
	}
}

func (w *world) read(t *testing.T, name string) string {
	t.Helper()
	b, err := afero.ReadFile(w.fs, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func (w *world) stat(t *testing.T, name string) (time.Time, uint64) {
	t.Helper()
	fi, err := w.fs.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	return fi.ModTime(), fi.Sys().(*memfs.Stat).Nlink
}
