//go:build linux

package posix

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// A watch delivers its notifications from another goroutine, so the tests
// wait for them, but only to detect one that never comes: patience is how
// long before they give up.
const patience = 10 * time.Second

// watchDirs returns a directory to watch, holding the file f, the empty
// directory sub and a second link f1 to f, and another directory holding
// the file x.
func watchDirs(t *testing.T) (dir, other string) {
	t.Helper()
	dir, other = filepath.Join(t.TempDir(), "d"), filepath.Join(t.TempDir(), "e")
	for _, d := range []string{dir, other, filepath.Join(dir, "sub")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, filepath.Join(dir, "f"), "f")
	mustWrite(t, filepath.Join(other, "x"), "x")
	if err := os.Link(filepath.Join(dir, "f"), filepath.Join(dir, "f1")); err != nil {
		t.Fatal(err)
	}
	return dir, other
}

// watchCases are changes made to the directories of watchDirs, and whether
// each must be reported to a watch of dir. The watch is of dir itself
// unless sub is set, in which case it is of dir/sub.
var watchCases = []struct {
	name   string
	sub    bool
	change func(dir, other string) error
	want   bool
}{
	{"create", false, func(d, _ string) error { return os.WriteFile(filepath.Join(d, "new"), nil, 0o644) }, true},
	{"remove", false, func(d, _ string) error { return os.Remove(filepath.Join(d, "f")) }, true},
	{"rename within", false, func(d, _ string) error { return os.Rename(filepath.Join(d, "f"), filepath.Join(d, "g")) }, true},
	{"rename directory within", false, func(d, _ string) error {
		return os.Rename(filepath.Join(d, "sub"), filepath.Join(d, "sub2"))
	}, true},
	{"rename in, replacing", false, func(d, o string) error { return os.Rename(filepath.Join(o, "x"), filepath.Join(d, "f")) }, true},
	{"rename out", false, func(d, o string) error { return os.Rename(filepath.Join(d, "f"), filepath.Join(o, "f")) }, true},
	{"rename in", false, func(d, o string) error { return os.Rename(filepath.Join(o, "x"), filepath.Join(d, "x")) }, true},
	{"link", false, func(d, _ string) error { return os.Link(filepath.Join(d, "f"), filepath.Join(d, "g")) }, true},
	{"mkdir", false, func(d, _ string) error { return os.Mkdir(filepath.Join(d, "dir"), 0o755) }, true},
	{"rmdir", false, func(d, _ string) error { return os.Remove(filepath.Join(d, "sub")) }, true},
	{"remove watched directory", true, func(d, _ string) error { return os.Remove(filepath.Join(d, "sub")) }, true},
	{"rename watched directory", true, func(d, o string) error {
		return os.Rename(filepath.Join(d, "sub"), filepath.Join(o, "sub"))
	}, true},

	{"write existing file", false, func(d, _ string) error { return os.WriteFile(filepath.Join(d, "f"), []byte("new"), 0o644) }, false},
	{"chtimes", false, func(d, _ string) error { return os.Chtimes(filepath.Join(d, "f"), time.Now(), time.Now()) }, false},
	{"chmod", false, func(d, _ string) error { return os.Chmod(filepath.Join(d, "f"), 0o600) }, false},
	{"read", false, func(d, _ string) error { _, err := os.ReadFile(filepath.Join(d, "f")); return err }, false},
	{"rename onto the same file", false, func(d, _ string) error {
		return os.Rename(filepath.Join(d, "f"), filepath.Join(d, "f1")) // POSIX: does nothing
	}, false},
	{"failed link", false, func(d, _ string) error {
		if err := os.Link(filepath.Join(d, "f"), filepath.Join(d, "f1")); !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("link onto an existing name: got %v, want fs.ErrExist", err)
		}
		return nil
	}, false},
	{"create in another directory", false, func(_, o string) error { return os.WriteFile(filepath.Join(o, "new"), nil, 0o644) }, false},
	{"remove in another directory", false, func(_, o string) error { return os.Remove(filepath.Join(o, "x")) }, false},
	{"link into another directory", false, func(d, o string) error { return os.Link(filepath.Join(d, "f"), filepath.Join(o, "f")) }, false},
	{"create in a subdirectory", false, func(d, _ string) error { return os.WriteFile(filepath.Join(d, "sub", "new"), nil, 0o644) }, false},
	{"create in the parent", true, func(d, _ string) error { return os.WriteFile(filepath.Join(d, "new"), nil, 0o644) }, false},
}

// TestInotifyDir checks what the kernel queues for a watch, with no reader
// goroutine in the way. inotify queues an event during the system call that
// causes it, so a read just after the change shows whether there was one,
// and the absence of an event is as certain as its presence.
func TestInotifyDir(t *testing.T) {
	for _, tt := range watchCases {
		t.Run(tt.name, func(t *testing.T) {
			dir, other := watchDirs(t)
			watched := dir
			if tt.sub {
				watched = filepath.Join(dir, "sub")
			}
			fd, err := inotifyDir(watched, watchMask)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			if err := tt.change(dir, other); err != nil {
				t.Fatal(err)
			}
			n, err := unix.Read(fd, make([]byte, 4096))
			switch {
			case tt.want && err != nil:
				t.Errorf("no event for a watch of %s: read: %v", watched, err)
			case !tt.want && err != unix.EAGAIN:
				t.Errorf("watching %s: read returned %d bytes, err %v; want no event (EAGAIN)", watched, n, err)
			}
		})
	}
}

// TestWatch checks that the changes inotify reports reach the events
// channel.
func TestWatch(t *testing.T) {
	for _, tt := range watchCases {
		if !tt.want {
			continue // TestInotifyDir shows that the kernel sends nothing
		}
		t.Run(tt.name, func(t *testing.T) {
			dir, other := watchDirs(t)
			watched := dir
			if tt.sub {
				watched = filepath.Join(dir, "sub")
			}
			events, stop, err := New().Watch(watched)
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			if err := tt.change(dir, other); err != nil {
				t.Fatal(err)
			}
			select {
			case <-events:
			case <-time.After(patience):
				t.Fatalf("watching %s: no notification %v after the change", watched, patience)
			}
		})
	}
}

// TestWatchNotifiesAgain: a watch goes on reporting after its first
// notification has been received.
func TestWatchNotifiesAgain(t *testing.T) {
	dir, _ := watchDirs(t)
	events, stop, err := New().Watch(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	for i := range 3 {
		mustWrite(t, filepath.Join(dir, fmt.Sprint("new", i)), "")
		select {
		case <-events:
		case <-time.After(patience):
			t.Fatalf("no notification for change %d", i+1)
		}
	}
}

// TestWatchStop: stop ends the reading goroutine and closes the inotify
// descriptor, and a second stop does no harm.
func TestWatchStop(t *testing.T) {
	dir, _ := watchDirs(t)
	w, err := startWatch(dir, "", watchMask)
	if err != nil {
		t.Fatal(err)
	}
	fd := int(w.file.Fd())
	mustWrite(t, filepath.Join(dir, "new"), "") // a notification left waiting
	if err := w.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	select {
	case <-w.done:
	default:
		t.Fatal("stop returned while the reading goroutine was still running")
	}
	// The number may already name another file, but not an inotify
	// instance: no other test is running.
	if target, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd)); err == nil && target == "anon_inode:inotify" {
		t.Errorf("descriptor %d is still an inotify instance after stop", fd)
	}
	if err := w.stop(); err != nil {
		t.Errorf("second stop: %v, want nil", err)
	}
}

func TestWatchErrors(t *testing.T) {
	dir, _ := watchDirs(t)
	tests := []struct {
		dir  string
		want error
	}{
		{filepath.Join(dir, "missing"), fs.ErrNotExist},
		{filepath.Join(dir, "missing", "dir"), fs.ErrNotExist},
		{filepath.Join(dir, "f"), unix.ENOTDIR},
	}
	for _, tt := range tests {
		events, stop, err := New().Watch(tt.dir)
		var pe *os.PathError
		if !errors.Is(err, tt.want) || !errors.As(err, &pe) || pe.Op != "watch" || pe.Path != tt.dir {
			t.Errorf("Watch(%q): got %v, want an *os.PathError of op watch wrapping %v", tt.dir, err, tt.want)
		}
		if events != nil || stop != nil {
			t.Errorf("Watch(%q) failed but returned a channel or a stop function", tt.dir)
		}
	}
}

// busyFS is an FS that says, on busy, when a Link fails: a Lock using it
// has found the lock held and is about to wait.
type busyFS struct {
	*FS
	busy chan struct{}
}

func (b *busyFS) Link(oldname, newname string) error {
	err := b.FS.Link(oldname, newname)
	if err != nil {
		select {
		case b.busy <- struct{}{}:
		default:
		}
	}
	return err
}

// TestLockWakesOnRelease: a Lock waiting for a busy lock, polling only every
// half hour or more, acquires it when the holder releases it: the watch
// wakes it.
func TestLockWakesOnRelease(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.lock")
	holder, err := locker.New(path, New())
	if err != nil {
		t.Fatal(err)
	}
	fsys := &busyFS{FS: New(), busy: make(chan struct{}, 1)}
	waiter, err := locker.New(path, fsys, locker.WithBackoff(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- waiter.Lock(ctx) }()
	select {
	case <-fsys.busy:
	case err := <-done:
		t.Fatalf("Lock returned (%v) while another Lock held the lock", err)
	case <-time.After(patience):
		t.Fatalf("the waiter made no attempt in %v", patience)
	}
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatalf("the waiter still waits %v after the release; its next poll is half an hour away at least, so the watch did not wake it", patience)
	}
	if !waiter.IsLocked() {
		t.Error("Lock returned nil but the waiter does not hold the lock")
	}
	if err := waiter.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// entryCases are changes made to the directories of watchDirs, after
// prep (made before the watch starts), and whether each is a departure or
// an arrival of the entry "f" of dir, or both (the directory itself goes),
// or neither.
var entryCases = []struct {
	name         string
	prep, change func(dir, other string) error
	departs      bool
	arrives      bool
}{
	{"remove it", nil, func(d, _ string) error { return os.Remove(filepath.Join(d, "f")) }, true, false},
	{"rename it away", nil, func(d, _ string) error { return os.Rename(filepath.Join(d, "f"), filepath.Join(d, "g")) }, true, false},
	{"rename it out", nil, func(d, o string) error { return os.Rename(filepath.Join(d, "f"), filepath.Join(o, "f")) }, true, false},
	{"create it", removeF, func(d, _ string) error { return os.WriteFile(filepath.Join(d, "f"), nil, 0o644) }, false, true},
	{"link to it", removeF, func(d, _ string) error { return os.Link(filepath.Join(d, "f1"), filepath.Join(d, "f")) }, false, true},
	{"rename to it", removeF, func(d, _ string) error { return os.Rename(filepath.Join(d, "f1"), filepath.Join(d, "f")) }, false, true},
	{"rename in to it", removeF, func(d, o string) error { return os.Rename(filepath.Join(o, "x"), filepath.Join(d, "f")) }, false, true},
	{"rename the directory", nil, func(d, o string) error { return os.Rename(d, filepath.Join(o, "d2")) }, true, true},

	{"create another", nil, func(d, _ string) error { return os.WriteFile(filepath.Join(d, "new"), nil, 0o644) }, false, false},
	{"remove another", nil, func(d, _ string) error { return os.Remove(filepath.Join(d, "f1")) }, false, false},
	{"rename another", nil, func(d, _ string) error { return os.Rename(filepath.Join(d, "f1"), filepath.Join(d, "g")) }, false, false},
	{"link it elsewhere", nil, func(d, _ string) error { return os.Link(filepath.Join(d, "f"), filepath.Join(d, "g")) }, false, false},
	{"create one with a longer name", nil, func(d, _ string) error { return os.WriteFile(filepath.Join(d, "ff"), nil, 0o644) }, false, false},
	{"write it", nil, func(d, _ string) error { return os.WriteFile(filepath.Join(d, "f"), []byte("new"), 0o644) }, false, false},
	{"chtimes it", nil, func(d, _ string) error { return os.Chtimes(filepath.Join(d, "f"), time.Now(), time.Now()) }, false, false},
}

func removeF(d, _ string) error { return os.Remove(filepath.Join(d, "f")) }

// entryModes are the settings of an entry watch.
var entryModes = []struct {
	name  string
	which locker.EntryEvents
}{{"departures", locker.ReportDepartures}, {"arrivals", locker.ReportArrivals}, {"nothing", locker.ReportNothing}}

// reported says whether a change of the kinds departs and arrives (both
// for the directory's own end) must be reported by a watch set to which.
func reported(which locker.EntryEvents, departs, arrives bool) bool {
	switch which {
	case locker.ReportDepartures:
		return departs
	case locker.ReportArrivals:
		return arrives
	}
	return departs && arrives
}

// TestEntryEvents checks what the kernel queues for each mask of an entry
// watch and how concerns, the filter of its reading goroutine, judges it:
// an inotify read just after a change returns its events, or EAGAIN if
// there are none, with no goroutine in the way.
func TestEntryEvents(t *testing.T) {
	for _, mode := range entryModes {
		for _, tt := range entryCases {
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				want := reported(mode.which, tt.departs, tt.arrives)
				dir, other := watchDirs(t)
				if tt.prep != nil {
					if err := tt.prep(dir, other); err != nil {
						t.Fatal(err)
					}
				}
				fd, err := inotifyDir(dir, entryMasks[mode.which])
				if err != nil {
					t.Fatal(err)
				}
				defer unix.Close(fd)
				if err := tt.change(dir, other); err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, 4096)
				n, err := unix.Read(fd, buf)
				got := err == nil && concerns(buf[:max(n, 0)], "f")
				if err != nil && err != unix.EAGAIN {
					t.Fatalf("read: %v", err)
				}
				if got != want {
					t.Errorf("watching %s for %s of f: reported %v, want %v", dir, mode.name, got, want)
				}
			})
		}
	}
}

// TestWatchEntry checks that what an entry watch must report reaches its
// events channel, after switches through every setting to the one tested.
func TestWatchEntry(t *testing.T) {
	for _, mode := range entryModes {
		for _, tt := range entryCases {
			if !reported(mode.which, tt.departs, tt.arrives) {
				continue // TestEntryEvents shows that they are not reported
			}
			t.Run(mode.name+"/"+tt.name, func(t *testing.T) {
				dir, other := watchDirs(t)
				if tt.prep != nil {
					if err := tt.prep(dir, other); err != nil {
						t.Fatal(err)
					}
				}
				w, err := New().WatchEntry(dir, "f")
				if err != nil {
					t.Fatal(err)
				}
				defer w.Stop()
				// Through the other settings to this one.
				for _, m := range entryModes {
					if err := w.Report(m.which); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Report(mode.which); err != nil {
					t.Fatal(err)
				}
				if err := tt.change(dir, other); err != nil {
					t.Fatal(err)
				}
				select {
				case <-w.Events():
				case <-time.After(patience):
					t.Fatalf("watching %s for %s of f: no notification %v after the change", dir, mode.name, patience)
				}
			})
		}
	}
}

// TestEntryWatchStop: Report after Stop fails instead of touching a
// descriptor that may since name another file, and Stop may be repeated.
func TestEntryWatchStop(t *testing.T) {
	dir, _ := watchDirs(t)
	w, err := New().WatchEntry(dir, "f")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := w.Report(locker.ReportArrivals); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Report after Stop: got %v, want os.ErrClosed", err)
	}
	if err := w.Stop(); err != nil {
		t.Errorf("second Stop: %v, want nil", err)
	}
}

// TestWatchEntryRefusesPaths: the entry is a name, not a path.
func TestWatchEntryRefusesPaths(t *testing.T) {
	dir, _ := watchDirs(t)
	for _, name := range []string{"", ".", "..", "sub/f"} {
		if w, err := New().WatchEntry(dir, name); !errors.Is(err, unix.EINVAL) {
			if w != nil {
				w.Stop()
			}
			t.Errorf("WatchEntry(%s, %q): got %v, want EINVAL", dir, name, err)
		}
	}
}
