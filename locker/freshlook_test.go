package locker_test

import (
	"errors"
	"io/fs"
	"sync"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// cachingClient is a network filesystem client that reports no link counts
// and keeps the attributes it has seen of a path (sshfs with its default
// options: every file shows one link, and another client's change of a
// file's times shows through stat about 20 s late). Rename moves a path's
// cached attributes with it, as sshfs's cache does; a name it has not
// looked up yet, such as a new hard link, is seen as it is.
type cachingClient struct {
	locker.FS
	mu    sync.Mutex
	attrs map[string]locker.FileInfo
}

func (c *cachingClient) Stat(name string) (locker.FileInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if fi, ok := c.attrs[name]; ok {
		return fi, nil
	}
	fi, err := c.FS.Stat(name)
	if err != nil {
		return fi, err
	}
	fi.Links = 1
	c.attrs[name] = fi
	return fi, nil
}

func (c *cachingClient) Rename(oldname, newname string) error {
	if err := c.FS.Rename(oldname, newname); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if fi, ok := c.attrs[oldname]; ok {
		c.attrs[newname] = fi
		delete(c.attrs, oldname)
	}
	return nil
}

func (c *cachingClient) Remove(name string) error {
	c.mu.Lock()
	delete(c.attrs, name)
	c.mu.Unlock()
	return c.FS.Remove(name)
}

// TestBreakerLooksPastAttributeCache: a waiter whose client shows the lock
// file's times late (and no link counts) must not break a lock that its
// holder, on another client, keeps refreshing: before it breaks, it looks at
// the expiry through a name of its own that its client has no attributes
// cached for.
func TestBreakerLooksPastAttributeCache(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	opts := []locker.Option{locker.WithClock(w.clk), locker.WithLifetime(15 * time.Second), locker.WithClockSlop(10 * time.Second)}
	holder := w.newLock(t, nil, nil, opts...)
	other := w.fs.Host("beta")
	client := &cachingClient{FS: other, attrs: map[string]locker.FileInfo{}}
	waiter := w.newLock(t, other, client, append(opts, locker.WithHostname("beta"))...)

	if err := holder.Lock(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := waiter.TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Fatalf("waiter's first TryLock: %v, want ErrBusy", err)
	}
	// The holder refreshes every 5 s for 40 s; the waiter's client keeps
	// showing the first expiry, which passed, with the slop, long ago.
	for range 8 {
		w.clk.Advance(5 * time.Second)
		if err := holder.Refresh(); err != nil {
			t.Fatalf("holder's Refresh at %v: %v (its lock was broken)", w.clk.Now(), err)
		}
		err := waiter.TryLock()
		if !errors.Is(err, locker.ErrBusy) {
			t.Fatalf("MUTUAL EXCLUSION VIOLATED: waiter behind an attribute cache, TryLock while the holder refreshes: %v, want ErrBusy", err)
		}
	}
	if !holder.IsLocked() {
		t.Fatal("the refreshing holder lost its lock to a waiter that saw its times late")
	}
	// No name of the fresh looks is left behind.
	w.wantFiles(t, lockPath, holder.ClaimFile())
	// Once the holder stops refreshing, the waiter does break the lock.
	w.clk.Advance(26 * time.Second)
	if err := waiter.TryLock(); err != nil {
		t.Fatalf("waiter's TryLock after the holder stopped refreshing for lifetime + slop: %v, want nil", err)
	}
	if _, err := client.FS.Stat(holder.ClaimFile()); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the broken holder's claim file: %v, want it removed", err)
	}
}
