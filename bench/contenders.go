//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// The contenders, by the names the table uses.
const (
	cFloor   = "floor"
	cCFloor  = "cfloor" // the floor in C: cfloor.c, compiled when the bench runs
	cNfslock = "nfslock"
	cNoWatch = "nfslock-nowatch"
	cFair    = "nfslock-fair" // WithFairness(true): waiters served in order
	cFlufl   = "flufl"
	cFlock   = "flock"
)

// contenders lists them in the table's order.
var contenders = []string{cFloor, cCFloor, cNfslock, cNoWatch, cFair, cFlufl, cFlock}

// A mutex is one process's handle on the lock, for the Go contenders.
type mutex interface {
	// lock takes the lock, waiting while it is busy, until ctx is done.
	lock(ctx context.Context) error
	unlock() error
}

// newMutex returns the contender's handle on the lock file path.
func newMutex(contender, path string) (mutex, error) {
	switch contender {
	case cFloor:
		return newFloor(path), nil
	case cNfslock, cNoWatch, cFair:
		l, err := locker.New(path, posix.New(), locker.WithWatcher(contender != cNoWatch), locker.WithFairness(contender == cFair))
		if err != nil {
			return nil, err
		}
		return nfslockMutex{l}, nil
	case cFlock:
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return flockMutex(fd), nil
	}
	return nil, fmt.Errorf("unknown Go contender %q", contender)
}

type nfslockMutex struct{ l *locker.Lock }

func (m nfslockMutex) lock(ctx context.Context) error { return m.l.Lock(ctx) }
func (m nfslockMutex) unlock() error                  { return m.l.Unlock() }

// floor is the lock algorithm as bare system calls with no checks at all:
// write the claim file (open, write, close), date it (utimensat), link it
// to the lock file; release by unlinking both. It polls a busy lock every
// 50 µs (a nanosleep system call, which unlike a Go timer sleeps that
// short), a far busier poll than any network filesystem should see: it
// bounds from above what a lock file can do on one host.
type floor struct {
	path, claim string
	data        []byte
	ts          []unix.Timespec
}

// floorPoll is how long the floor sleeps between two tries of a busy lock.
const floorPoll = 50 * time.Microsecond

func newFloor(path string) *floor {
	claim := fmt.Sprintf("%s|floor|%d|%d", path, os.Getpid(), time.Now().UnixNano())
	return &floor{path: path, claim: claim, data: []byte(claim), ts: make([]unix.Timespec, 2)}
}

func (f *floor) lock(ctx context.Context) error {
	fd, err := unix.Open(f.claim, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return &os.PathError{Op: "open", Path: f.claim, Err: err}
	}
	if _, err := unix.Write(fd, f.data); err != nil {
		unix.Close(fd)
		return err
	}
	if err := unix.Close(fd); err != nil {
		return err
	}
	f.ts[0] = unix.NsecToTimespec(time.Now().Add(locker.DefaultLifetime).UnixNano())
	f.ts[1] = f.ts[0]
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, f.claim, f.ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	pause := unix.NsecToTimespec(int64(floorPoll))
	for {
		err := unix.Linkat(unix.AT_FDCWD, f.claim, unix.AT_FDCWD, f.path, 0)
		if err == nil {
			return nil
		}
		// sshfs reports a link onto an existing name as EPERM.
		if err != unix.EEXIST && err != unix.EPERM && err != unix.EINTR {
			unix.Unlink(f.claim)
			return &os.LinkError{Op: "link", Old: f.claim, New: f.path, Err: err}
		}
		if ctx.Err() != nil {
			unix.Unlink(f.claim)
			return ctx.Err()
		}
		unix.Nanosleep(&pause, nil)
	}
}

func (f *floor) unlock() error {
	return errors.Join(unix.Unlink(f.path), unix.Unlink(f.claim))
}

// flockMutex is flock(2) on a descriptor of the lock file opened once: the
// kernel's own lock, for scale. It is not a network lock (sshfs keeps it to
// one client).
type flockMutex int

func (m flockMutex) lock(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok {
		// Only the file-operation count's waiter has a deadline: block in
		// the background and stop waiting at the deadline.
		done := make(chan error, 1)
		go func() { done <- unix.Flock(int(m), unix.LOCK_EX) }()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Until(d)):
			return context.DeadlineExceeded
		}
	}
	for {
		err := unix.Flock(int(m), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}

func (m flockMutex) unlock() error { return unix.Flock(int(m), unix.LOCK_UN) }
