package memfs

import (
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nfslock/nfslock/locker"
)

var _ locker.Watcher = (*Host)(nil)

// Watch starts watching the directory dir, as inotify does on Linux: from
// the moment it returns, every creation, removal, rename or hard link of an
// entry of dir, made through any Host of the FS or through the FS's afero
// methods, sends on events, as does the removal or renaming of dir itself.
// It implements locker.Watcher, so that a lock waiting for a busy lock wakes
// as soon as the lock file is removed, with no need for the clock to move.
//
// The send never blocks: events has room for one notification, and changes
// made while it is full are folded into the one already waiting. It has
// happened by the time the call that made the change returns, so a test need
// not wait to see it. Changes to a file's contents or times send nothing.
//
// The watch follows the directory, not its name: renaming dir does not end
// it. stop ends the watch and always returns nil; calling it again does
// nothing. events is not closed. If dir does not exist the error satisfies
// errors.Is(err, fs.ErrNotExist); if it is not a directory, the error holds
// syscall.ENOTDIR.
func (h *Host) Watch(dir string) (events <-chan struct{}, stop func() error, err error) {
	return h.fsys.watch(dir)
}

func (fsys *FS) watch(dir string) (<-chan struct{}, func() error, error) {
	fsys.mu.Lock()
	defer fsys.mu.Unlock()
	n, err := fsys.lookup(dir)
	if err == nil && !n.isDir() {
		err = syscall.ENOTDIR
	}
	if err != nil {
		return nil, nil, &os.PathError{Op: "watch", Path: dir, Err: err}
	}
	events := make(chan struct{}, 1)
	if fsys.watches == nil {
		fsys.watches = make(map[*inode]map[chan struct{}]struct{})
	}
	if fsys.watches[n] == nil {
		fsys.watches[n] = make(map[chan struct{}]struct{})
	}
	fsys.watches[n][events] = struct{}{}
	var once sync.Once
	stop := func() error {
		once.Do(func() {
			fsys.mu.Lock()
			defer fsys.mu.Unlock()
			delete(fsys.watches[n], events)
			if len(fsys.watches[n]) == 0 {
				delete(fsys.watches, n)
			}
		})
		return nil
	}
	return events, stop, nil
}

// dirChanged records a change to the entries of the directory dir: it
// stamps dir's modification time with now and notifies dir's watchers.
// fsys.mu must be held.
func (fsys *FS) dirChanged(dir *inode, now time.Time) {
	dir.mtime = now
	fsys.notifyLocked(dir)
}

// notifyLocked sends, without blocking, to every watcher of the directory
// dir. fsys.mu must be held.
func (fsys *FS) notifyLocked(dir *inode) {
	for events := range fsys.watches[dir] {
		select {
		case events <- struct{}{}:
		default: // a notification is already waiting; this one adds nothing
		}
	}
}
