//go:build linux

package posix

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

var (
	_ locker.Watcher      = (*FS)(nil)
	_ locker.EntryWatcher = (*FS)(nil)
	_ locker.EntryWatch   = (*entryWatch)(nil)
)

// watchMask selects the inotify events that change the set of entries of a
// directory, or end the directory itself. IN_ONLYDIR makes a watch of
// anything but a directory fail with ENOTDIR.
const watchMask = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_MOVE_SELF | unix.IN_DELETE_SELF | unix.IN_ONLYDIR

// Watch starts watching the directory dir with inotify, and so implements
// locker.Watcher on Linux: a Lock waiting for a busy lock wakes as soon as
// the lock file is removed, instead of at its next poll. From the moment
// Watch returns, every creation, removal, rename or hard link of an entry of
// dir, and the removal or renaming of dir itself, sends on events without
// blocking; events has room for one notification, into which later ones are
// folded until it is received.
//
// inotify sees only what the local kernel does: on a network filesystem it
// reports the changes made on this machine, not those of other clients, so
// a Lock keeps polling as well.
//
// Each watch is an inotify instance read by one goroutine. stop closes the
// instance, waits for that goroutine to return, and reports any error it
// met; calling stop again returns the same result. events is not closed.
// If dir does not exist the error satisfies errors.Is(err, fs.ErrNotExist);
// if it is not a directory, errors.Is(err, unix.ENOTDIR). Watch also fails
// when the user's inotify limits are reached
// (/proc/sys/fs/inotify/max_user_instances and max_user_watches); a Lock
// then polls.
func (*FS) Watch(dir string) (events <-chan struct{}, stop func() error, err error) {
	w, err := startWatch(dir, "", watchMask)
	if err != nil {
		return nil, nil, err
	}
	return w.events, w.stop, nil
}

// WatchEntry starts a watch of the entry called name in the directory dir
// and implements locker.EntryWatcher: a Lock waiting for a busy lock then
// wakes when its lock file goes, not each time a claim file comes or goes.
// The watch reports the entry's departures (its removal, or a rename away)
// until Report says otherwise: its arrivals (its creation, a hard link or a
// rename into place), or none; and always the removal or renaming of dir
// itself. inotify queues events for every entry of dir of the kinds asked
// for; the reading goroutine drops those of other names. If the kernel's
// queue overflowed, it sends, since the event it was waiting for may be
// among those lost. A name that is not a single path element fails with
// EINVAL.
func (*FS) WatchEntry(dir, name string) (locker.EntryWatch, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return nil, pathError("watch", filepath.Join(dir, name), unix.EINVAL)
	}
	w, err := startWatch(dir, name, entryMasks[locker.ReportDepartures])
	if err != nil {
		return nil, err
	}
	return &entryWatch{watch: w, dir: dir}, nil
}

// entryMasks are the inotify masks of an entry watch for each setting of
// Report: the changes of entries asked for, and the end of the directory
// itself.
var entryMasks = map[locker.EntryEvents]uint32{
	locker.ReportDepartures: unix.IN_DELETE | unix.IN_MOVED_FROM | dirEnd,
	locker.ReportArrivals:   unix.IN_CREATE | unix.IN_MOVED_TO | dirEnd,
	locker.ReportNothing:    dirEnd,
}

const dirEnd = unix.IN_MOVE_SELF | unix.IN_DELETE_SELF | unix.IN_ONLYDIR

// entryWatch is a watch of one entry, whose mask can be switched.
type entryWatch struct {
	*watch
	dir     string
	mu      sync.Mutex
	which   locker.EntryEvents
	stopped bool
}

func (e *entryWatch) Events() <-chan struct{} { return e.events }

// Report switches the watch's mask with inotify_add_watch, which replaces
// the mask of the instance's watch of dir: one system call, and none if
// the setting does not change.
func (e *entryWatch) Report(which locker.EntryEvents) error {
	mask, ok := entryMasks[which]
	if !ok {
		return pathError("watch", e.dir, unix.EINVAL)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return pathError("watch", e.dir, os.ErrClosed)
	}
	if which == e.which {
		return nil
	}
	if _, err := ignoringEINTR2(func() (int, error) { return unix.InotifyAddWatch(e.fd, e.dir, mask) }); err != nil {
		return pathError("watch", e.dir, err)
	}
	e.which = which
	return nil
}

func (e *entryWatch) Stop() error {
	e.mu.Lock()
	e.stopped = true // no Report on a descriptor that may be reused
	e.mu.Unlock()
	return e.stop()
}

// A watch is one inotify instance watching one directory.
type watch struct {
	// file holds the inotify descriptor. Reading it through an *os.File
	// puts the wait in the runtime's network poller, so a watch costs no
	// thread, and makes stop safe: Close wakes the blocked Read, and the
	// descriptor is closed only once that Read has returned, so it cannot
	// be reused by another file while the reader still refers to it.
	file   *os.File
	fd     int    // file's descriptor, valid until stop
	name   string // report only changes of this entry, if not ""
	events chan struct{}
	done   chan struct{} // closed when read returns
	err    error         // why read returned, if not because of stop

	once    sync.Once
	stopErr error
}

// startWatch starts a watch of dir for the events of mask, of the entry
// name only if name is not "", and the goroutine that reads it.
func startWatch(dir, name string, mask uint32) (*watch, error) {
	fd, err := inotifyDir(dir, mask)
	if err != nil {
		return nil, err
	}
	w := &watch{
		file:   os.NewFile(uintptr(fd), "inotify:"+dir),
		fd:     fd,
		name:   name,
		events: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	go w.read()
	return w, nil
}

// inotifyDir returns a new non-blocking inotify descriptor watching dir
// for the events of mask.
func inotifyDir(dir string, mask uint32) (int, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return -1, pathError("watch", dir, err)
	}
	_, err = ignoringEINTR2(func() (int, error) { return unix.InotifyAddWatch(fd, dir, mask) })
	if err != nil {
		unix.Close(fd)
		return -1, pathError("watch", dir, err)
	}
	return fd, nil
}

// read turns each batch of inotify events into one notification, until
// stop closes the file. Which entry changed does not matter: the locker
// looks at the lock file again whatever it was.
func (w *watch) read() {
	defer close(w.done)
	// A read into a buffer too small for the next event fails with EINVAL;
	// this one holds at least one event with the longest name.
	buf := make([]byte, 4096)
	for {
		n, err := w.file.Read(buf)
		if err != nil {
			if !errors.Is(err, os.ErrClosed) {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				w.err = err
				// The watch is over: let the waiter look once more,
				// then it polls.
				w.notify()
			}
			return
		}
		if w.name == "" || concerns(buf[:n], w.name) {
			w.notify()
		}
	}
}

// concerns reports whether the inotify events in buf, as read(2) returns
// them, include one about the entry name or the watched directory itself,
// or an overflow of the kernel's queue. Each event is a struct
// inotify_event (wd, mask, cookie, len) followed by len bytes of name,
// padded with NULs.
func concerns(buf []byte, name string) bool {
	const self = unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_IGNORED | unix.IN_UNMOUNT | unix.IN_Q_OVERFLOW
	for len(buf) >= unix.SizeofInotifyEvent {
		ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[0]))
		end := unix.SizeofInotifyEvent + int(ev.Len)
		if end > len(buf) {
			return true // cannot happen; if it does, do not miss an event
		}
		if ev.Mask&self != 0 {
			return true
		}
		entry := buf[unix.SizeofInotifyEvent:end]
		if i := bytes.IndexByte(entry, 0); i >= 0 {
			entry = entry[:i]
		}
		if string(entry) == name {
			return true
		}
		buf = buf[end:]
	}
	return false
}

// notify sends on events unless a notification is already waiting.
func (w *watch) notify() {
	select {
	case w.events <- struct{}{}:
	default:
	}
}

// stop closes the inotify instance and waits for read to return.
func (w *watch) stop() error {
	w.once.Do(func() {
		err := w.file.Close()
		<-w.done
		w.stopErr = errors.Join(w.err, err)
	})
	return w.stopErr
}
