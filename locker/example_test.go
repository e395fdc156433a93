package locker_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

// This example runs on the in-memory backend with a virtual clock, so that
// its output is the same every time. A real program passes posix.New()
// (package github.com/nfslock/nfslock/backend-posix) instead of the host.
func Example() {
	server := memfs.New()
	server.MkdirAll("/shared", 0o755)
	server.Clock().AutoAdvance(true) // waits take no real time
	alpha, beta := server.Host("alpha"), server.Host("beta")

	ctx := context.Background()
	first, err := locker.New("/shared/job.lock", alpha, alpha.Spawn().Options()...)
	if err != nil {
		log.Fatal(err)
	}
	if err := first.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("alpha holds the lock:", first.IsLocked())

	// A process on another host gives up after its timeout, and learns who
	// holds the lock.
	opts := append(beta.Spawn().Options(), locker.WithTimeout(2*time.Second))
	second, err := locker.New("/shared/job.lock", beta, opts...)
	if err != nil {
		log.Fatal(err)
	}
	err = second.Lock(ctx)
	var lerr *locker.Error
	if errors.Is(err, locker.ErrTimeout) && errors.As(err, &lerr) {
		fmt.Println("beta timed out; holder is", lerr.Holder.Hostname)
	}

	if err := first.Unlock(); err != nil {
		log.Fatal(err)
	}
	if err := second.Lock(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("beta holds the lock:", second.IsLocked())
	second.Unlock()
	// Output:
	// alpha holds the lock: true
	// beta timed out; holder is alpha
	// beta holds the lock: true
}
