package conformance

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// A callClock is a backend that sums the real time its calls take, so that
// a scenario on the real clock can tell a Lock that waited too long from
// one whose calls were slow: a mount whose calls took ten times the probe's
// latency for a moment (a busy machine) makes a prompt Lock late by the
// clock alone.
type callClock struct {
	locker.FS
	mu    sync.Mutex
	spent time.Duration
	calls int
}

func newCallClock(fsys locker.FS) *callClock { return &callClock{FS: fsys} }

// A callMark is what a callClock had counted at a moment.
type callMark struct {
	spent time.Duration
	calls int
}

func (c *callClock) mark() callMark {
	c.mu.Lock()
	defer c.mu.Unlock()
	return callMark{c.spent, c.calls}
}

func (c *callClock) timed(f func() error) error {
	start := time.Now()
	err := f()
	c.mu.Lock()
	c.spent += time.Since(start)
	c.calls++
	c.mu.Unlock()
	return err
}

func (c *callClock) WriteFile(name string, data []byte, perm fs.FileMode) error {
	return c.timed(func() error { return c.FS.WriteFile(name, data, perm) })
}

func (c *callClock) ReadFile(name string) (data []byte, err error) {
	err = c.timed(func() error { data, err = c.FS.ReadFile(name); return err })
	return data, err
}

func (c *callClock) Link(oldname, newname string) error {
	return c.timed(func() error { return c.FS.Link(oldname, newname) })
}

func (c *callClock) Stat(name string) (fi locker.FileInfo, err error) {
	err = c.timed(func() error { fi, err = c.FS.Stat(name); return err })
	return fi, err
}

func (c *callClock) Chtimes(name string, atime, mtime time.Time) error {
	return c.timed(func() error { return c.FS.Chtimes(name, atime, mtime) })
}

func (c *callClock) Rename(oldname, newname string) error {
	return c.timed(func() error { return c.FS.Rename(oldname, newname) })
}

func (c *callClock) Remove(name string) error {
	return c.timed(func() error { return c.FS.Remove(name) })
}

// ReadDirNames forwards to the backend's, so that a Lock on a callClock
// sweeps as it would on the backend.
func (c *callClock) ReadDirNames(dir string) (names []string, err error) {
	d, ok := c.FS.(locker.DirReader)
	if !ok {
		return nil, fmt.Errorf("listing %s: %w", dir, errors.ErrUnsupported)
	}
	err = c.timed(func() error { names, err = d.ReadDirNames(dir); return err })
	return names, err
}

// wantPrompt reports a failure unless a Lock on c did what within one
// backoff step of since. On
// the real clock the time its calls since m took is the mount's and does
// not count: only the time outside them (its sleeps, and the machine's
// scheduling) must be within the longest backoff step and the lag.
func (s *scene) wantPrompt(what string, since time.Time, c *callClock, m callMark) {
	s.t.Helper()
	took := s.tl.now().Sub(since)
	var in time.Duration
	var n int
	if s.tl.virtual == nil {
		now := c.mark()
		in, n = now.spent-m.spent, now.calls-m.calls
	}
	if outside := took - in; outside > s.tl.maxBackoff+s.tl.lag {
		s.errorf("%s took %v, %v of it outside its %d backend calls (which took %v); want that within one backoff step (%v, and %v of lag)", what, took, outside, n, in, s.tl.maxBackoff, s.tl.lag)
	}
}
