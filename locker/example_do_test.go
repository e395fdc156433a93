package locker_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

// Do takes the lock, keeps it alive while the work runs, and releases it
// however the work ends. Here the work takes a minute of virtual time, four
// lifetimes, and another process still cannot take the lock.
func ExampleLock_Do() {
	server := memfs.New()
	server.MkdirAll("/shared", 0o755)
	clk := server.Clock() // virtual time, moved on by hand
	alpha, beta := server.Host("alpha"), server.Host("beta")

	lock, err := locker.New("/shared/job.lock", alpha, alpha.Spawn().Options()...)
	if err != nil {
		log.Fatal(err)
	}
	other, err := locker.New("/shared/job.lock", beta, beta.Spawn().Options()...)
	if err != nil {
		log.Fatal(err)
	}
	err = lock.Do(context.Background(), func(ctx context.Context) error {
		// A minute of work. The clock moves on only while the KeepAlive
		// sleeps between refreshes (every lifetime/3 = 5 s), as it would
		// in real time.
		for range 12 {
			if err := clk.BlockUntilSleepers(ctx, 1); err != nil {
				return err // ctx is done: the lock was lost, stop writing
			}
			clk.Advance(5 * time.Second)
		}
		fmt.Println("after a minute of work, another process is turned away:", errors.Is(other.TryLock(), locker.ErrBusy))
		return nil
	})
	fmt.Println("Do returned:", err)
	fmt.Println("the other process now gets the lock:", other.TryLock() == nil)
	// Output:
	// after a minute of work, another process is turned away: true
	// Do returned: <nil>
	// the other process now gets the lock: true
}

// store is storage that checks fencing tokens: it refuses a write whose
// token is smaller than the largest it has seen. The check and the write
// are one atomic step (here, under a mutex); a store that cannot compare
// and write atomically cannot be protected this way.
type store struct {
	mu      sync.Mutex
	highest uint64
	data    string
}

func (s *store) Write(token uint64, data string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token < s.highest {
		return fmt.Errorf("stale token %d: %d has been seen", token, s.highest)
	}
	s.highest, s.data = token, data
	return nil
}

// A holder that is paused past its lifetime loses its lock to another
// process, which gets a greater token. When the paused holder wakes and
// writes, the store refuses its stale token.
func ExampleWithFencing() {
	server := memfs.New()
	server.MkdirAll("/shared", 0o755)
	clk := server.Clock()
	alpha, beta := server.Host("alpha"), server.Host("beta")
	newLock := func(h *memfs.Host) *locker.Lock {
		l, err := locker.New("/shared/job.lock", h, append(h.Spawn().Options(), locker.WithFencing())...)
		if err != nil {
			log.Fatal(err)
		}
		return l
	}
	var s store

	paused := newLock(alpha)
	if err := paused.TryLock(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("alpha holds the lock with token", paused.Token())

	clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop + time.Second) // alpha is paused
	next := newLock(beta)
	if err := next.TryLock(); err != nil { // breaks alpha's expired lock
		log.Fatal(err)
	}
	fmt.Println("beta broke it and holds it with token", next.Token())
	fmt.Println("beta writes:", s.Write(next.Token(), "beta's data"))

	// alpha wakes, unaware, and writes.
	fmt.Println("alpha writes:", s.Write(paused.Token(), "alpha's stale data"))
	fmt.Println("the store holds:", s.data)
	// Output:
	// alpha holds the lock with token 1
	// beta broke it and holds it with token 2
	// beta writes: <nil>
	// alpha writes: stale token 1: 2 has been seen
	// the store holds: beta's data
}
