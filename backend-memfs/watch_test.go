package memfs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// notified reports whether a notification is waiting on events. FS notifies
// before the call that made the change returns, so a test can look at once.
func notified(events <-chan struct{}) bool {
	select {
	case <-events:
		return true
	default:
		return false
	}
}

// newWatchFS returns newTestFS's FS and host with more to work on: the
// empty directory /d/sub, the directory /e and the file /e/x, the file
// /d/f2, and /d/f1, a second link to /d/f.
func newWatchFS(t *testing.T) (*FS, *Host) {
	t.Helper()
	fsys, h := newTestFS(t)
	check(t, fsys.Mkdir("/d/sub", 0o755))
	check(t, fsys.Mkdir("/e", 0o755))
	check(t, h.WriteFile("/e/x", []byte("x"), 0o644))
	check(t, h.WriteFile("/d/f2", []byte("f2"), 0o644))
	check(t, h.Link("/d/f", "/d/f1"))
	return fsys, h
}

func TestWatch(t *testing.T) {
	create := func(fsys *FS, name string, flag int) error {
		f, err := fsys.OpenFile(name, flag, 0o644)
		if err != nil {
			return err
		}
		return f.Close()
	}
	tests := []struct {
		name   string
		dir    string // watched; "/d" if empty
		change func(fsys *FS, h *Host) error
		want   bool
	}{
		// Entries of the watched directory come and go, through the
		// Host (locker.FS) or the afero API.
		{"Host.WriteFile new", "", func(_ *FS, h *Host) error { return h.WriteFile("/d/new", nil, 0o644) }, true},
		{"Host.Link", "", func(_ *FS, h *Host) error { return h.Link("/d/f", "/d/g") }, true},
		{"Host.Remove", "", func(_ *FS, h *Host) error { return h.Remove("/d/f") }, true},
		{"Host.Rename within", "", func(_ *FS, h *Host) error { return h.Rename("/d/f", "/d/g") }, true},
		{"Host.Rename replacing", "", func(_ *FS, h *Host) error { return h.Rename("/d/f", "/d/sub/../f2") }, true},
		{"Host.Rename out", "", func(_ *FS, h *Host) error { return h.Rename("/d/f", "/e/f") }, true},
		{"Host.Rename in", "", func(_ *FS, h *Host) error { return h.Rename("/e/x", "/d/x") }, true},
		{"Create", "", func(fsys *FS, _ *Host) error { return create(fsys, "/d/new", os.O_RDWR|os.O_CREATE|os.O_TRUNC) }, true},
		{"OpenFile O_CREATE|O_EXCL", "", func(fsys *FS, _ *Host) error { return create(fsys, "/d/new", os.O_WRONLY|os.O_CREATE|os.O_EXCL) }, true},
		{"Mkdir", "", func(fsys *FS, _ *Host) error { return fsys.Mkdir("/d/dir", 0o755) }, true},
		{"MkdirAll", "", func(fsys *FS, _ *Host) error { return fsys.MkdirAll("/d/a/b", 0o755) }, true},
		{"Remove directory", "", func(fsys *FS, _ *Host) error { return fsys.Remove("/d/sub") }, true},
		{"RemoveAll", "", func(fsys *FS, _ *Host) error { return fsys.RemoveAll("/d/f") }, true},

		// The watched directory itself goes.
		{"Remove watched directory", "/d/sub", func(fsys *FS, _ *Host) error { return fsys.Remove("/d/sub") }, true},
		{"RemoveAll parent of watched directory", "/d/sub", func(fsys *FS, _ *Host) error { return fsys.RemoveAll("/d") }, true},
		{"Rename watched directory", "/d/sub", func(fsys *FS, _ *Host) error { return fsys.Rename("/d/sub", "/e/sub") }, true},

		// Nothing changes among the watched directory's entries.
		{"WriteFile existing", "", func(fsys *FS, _ *Host) error { return fsys.WriteFile("/d/f", []byte("new"), 0o644) }, false},
		{"Host.Chtimes", "", func(_ *FS, h *Host) error { return h.Chtimes("/d/f", time.Now(), time.Now()) }, false},
		{"Host.ReadFile", "", func(_ *FS, h *Host) error { _, err := h.ReadFile("/d/f"); return err }, false},
		{"Host.Stat", "", func(_ *FS, h *Host) error { _, err := h.Stat("/d/f"); return err }, false},
		{"Chmod", "", func(fsys *FS, _ *Host) error { return fsys.Chmod("/d/f", 0o600) }, false},
		{"Write through an open file", "", func(fsys *FS, _ *Host) error {
			f, err := fsys.OpenFile("/d/f", os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			if _, err := f.Write([]byte("more")); err != nil {
				return err
			}
			return f.Close()
		}, false},
		{"Host.Rename onto the same file", "", func(_ *FS, h *Host) error { return h.Rename("/d/f", "/d/f1") }, false}, // POSIX: does nothing

		// Changes that fail change nothing.
		{"Host.Link onto existing name", "", func(_ *FS, h *Host) error {
			if err := h.Link("/d/f", "/d/sub"); !errors.Is(err, fs.ErrExist) {
				t.Errorf("Link onto /d/sub: got %v, want fs.ErrExist", err)
			}
			return nil
		}, false},
		{"Host.Remove missing", "", func(_ *FS, h *Host) error {
			if err := h.Remove("/d/missing"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Remove of a missing file: got %v, want fs.ErrNotExist", err)
			}
			return nil
		}, false},

		// Changes elsewhere.
		{"Host.WriteFile in another directory", "", func(_ *FS, h *Host) error { return h.WriteFile("/e/new", nil, 0o644) }, false},
		{"Host.Remove in another directory", "", func(_ *FS, h *Host) error { return h.Remove("/e/x") }, false},
		{"Host.Link into another directory", "", func(_ *FS, h *Host) error { return h.Link("/d/f", "/e/f") }, false},
		{"Host.WriteFile in a subdirectory", "", func(_ *FS, h *Host) error { return h.WriteFile("/d/sub/new", nil, 0o644) }, false},
		{"Host.WriteFile in the parent", "/d/sub", func(_ *FS, h *Host) error { return h.WriteFile("/d/new", nil, 0o644) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, h := newWatchFS(t)
			dir := tt.dir
			if dir == "" {
				dir = "/d"
			}
			w := mustWatch(t, h, dir)
			if err := tt.change(fsys, h); err != nil {
				t.Fatal(err)
			}
			if got := notified(w.events); got != tt.want {
				t.Errorf("watching %s: notified = %v, want %v", dir, got, tt.want)
			}
			if notified(w.events) {
				t.Errorf("watching %s: a second notification was waiting; want at most one", dir)
			}
		})
	}
}

type testWatch struct {
	events <-chan struct{}
	stop   func() error
}

// mustWatch starts a watch of dir through w and stops it when the test ends.
func mustWatch(t *testing.T, w locker.Watcher, dir string) testWatch {
	t.Helper()
	events, stop, err := w.Watch(dir)
	if err != nil {
		t.Fatalf("Watch(%q): %v", dir, err)
	}
	t.Cleanup(func() { stop() })
	return testWatch{events, stop}
}

// TestWatchEveryWatcher: a change made through one host notifies every
// watch of the directory, whichever host made it, and no other.
func TestWatchEveryWatcher(t *testing.T) {
	fsys, _ := newWatchFS(t)
	alpha, beta, gamma := fsys.Host("alpha"), fsys.Host("beta"), fsys.Host("gamma")
	a1, a2 := mustWatch(t, alpha, "/d"), mustWatch(t, alpha, "/d")
	b := mustWatch(t, beta, "/d/") // the same directory, named differently
	e := mustWatch(t, beta, "/e")
	check(t, gamma.WriteFile("/d/new", nil, 0o644))
	for name, w := range map[string]testWatch{"alpha's first": a1, "alpha's second": a2, "beta's": b} {
		if !notified(w.events) {
			t.Errorf("%s watch of /d was not notified of gamma's change", name)
		}
	}
	if notified(e.events) {
		t.Error("the watch of /e was notified of a change in /d")
	}
}

// TestWatchCoalesces: notifications wait, one at a time, until received.
func TestWatchCoalesces(t *testing.T) {
	_, h := newWatchFS(t)
	w := mustWatch(t, h, "/d")
	check(t, h.WriteFile("/d/a", nil, 0o644))
	check(t, h.WriteFile("/d/b", nil, 0o644))
	if !notified(w.events) {
		t.Fatal("no notification after two changes")
	}
	if notified(w.events) {
		t.Error("two notifications waiting after two changes; want them folded into one")
	}
	check(t, h.Remove("/d/a"))
	if !notified(w.events) {
		t.Error("no notification for a change after the first was received")
	}
}

func TestWatchStop(t *testing.T) {
	fsys, h := newWatchFS(t)
	stopped, kept := mustWatch(t, h, "/d"), mustWatch(t, h, "/d")
	if err := stopped.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := stopped.stop(); err != nil {
		t.Errorf("second stop: %v, want nil", err)
	}
	check(t, h.WriteFile("/d/new", nil, 0o644))
	if notified(stopped.events) {
		t.Error("a stopped watch was notified")
	}
	if !notified(kept.events) {
		t.Error("stopping one watch of /d stopped another")
	}
	check(t, kept.stop())
	fsys.mu.Lock()
	left := len(fsys.watches)
	fsys.mu.Unlock()
	if left != 0 {
		t.Errorf("after every watch stopped, the FS still tracks watches of %d directories", left)
	}
}

func TestWatchErrors(t *testing.T) {
	_, h := newWatchFS(t)
	tests := []struct {
		dir  string
		want error
	}{
		{"/missing", fs.ErrNotExist},
		{"/missing/dir", fs.ErrNotExist},
		{"/d/f", syscall.ENOTDIR},
		{"", fs.ErrNotExist},
	}
	for _, tt := range tests {
		events, stop, err := h.Watch(tt.dir)
		var pe *os.PathError
		if !errors.Is(err, tt.want) || !errors.As(err, &pe) || pe.Op != "watch" || pe.Path != tt.dir {
			t.Errorf("Watch(%q): got %v, want an *os.PathError of op watch wrapping %v", tt.dir, err, tt.want)
		}
		if events != nil || stop != nil {
			t.Errorf("Watch(%q) failed but returned a channel or a stop function", tt.dir)
		}
	}
}

// waitLock runs l.Lock on a new goroutine and returns a channel that
// receives its result.
func waitLock(l *locker.Lock) <-chan error {
	done := make(chan error, 1)
	go func() { done <- l.Lock(context.Background()) }()
	return done
}

// TestLockWakesOnRelease: a Lock waiting for a busy lock acquires it as soon
// as the holder releases it, with the clock standing still. It is asleep in
// virtual time, so only the watch can wake it.
func TestLockWakesOnRelease(t *testing.T) {
	for _, wrap := range []struct {
		name string
		fs   func(*Host) locker.FS
	}{
		{"Host", func(h *Host) locker.FS { return h }},
		{"faultfs.FS", func(h *Host) locker.FS { return faultfs.New(h) }},
	} {
		t.Run(wrap.name, func(t *testing.T) {
			ctx := waitCtx(t)
			fsys, _ := newTestFS(t)
			clk := fsys.Clock()
			alpha, beta := fsys.Host("alpha"), fsys.Host("beta")
			holder, err := locker.New("/d/x.lock", alpha, alpha.Spawn().Options()...)
			check(t, err)
			waiter, err := locker.New("/d/x.lock", wrap.fs(beta), beta.Spawn().Options()...)
			check(t, err)
			check(t, holder.Lock(ctx))

			done := waitLock(waiter)
			check(t, clk.BlockUntilSleepers(ctx, 1))
			start := clk.Now()
			check(t, holder.Unlock())
			select {
			case err := <-done:
				check(t, err)
			case <-ctx.Done():
				t.Fatal("the waiting Lock did not wake when the holder released the lock")
			}
			if !waiter.IsLocked() {
				t.Error("Lock returned nil but the waiter does not hold the lock")
			}
			if now := clk.Now(); !now.Equal(start) {
				t.Errorf("the clock moved from %v to %v; the test must not move it", start, now)
			}
			check(t, waiter.Unlock())
		})
	}
}

// TestLockPollsWithoutWatcher: through a filesystem that cannot watch (a
// Host with only the methods of locker.FS), a waiting Lock falls back on
// polling: it acquires a released lock once the clock reaches its next
// attempt.
func TestLockPollsWithoutWatcher(t *testing.T) {
	ctx := waitCtx(t)
	fsys, _ := newTestFS(t)
	clk := fsys.Clock()
	alpha, beta := fsys.Host("alpha"), fsys.Host("beta")
	holder, err := locker.New("/d/x.lock", alpha, alpha.Spawn().Options()...)
	check(t, err)
	polling := struct{ locker.FS }{beta}
	waiter, err := locker.New("/d/x.lock", polling, beta.Spawn().Options()...)
	check(t, err)
	check(t, holder.Lock(ctx))

	done := waitLock(waiter)
	check(t, clk.BlockUntilSleepers(ctx, 1))
	check(t, holder.Unlock())
	clk.Advance(locker.DefaultMaxBackoff)
	select {
	case err := <-done:
		check(t, err)
	case <-ctx.Done():
		t.Fatal("the waiting Lock did not acquire the released lock at its next attempt")
	}
	check(t, waiter.Unlock())
}
