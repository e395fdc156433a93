package nfslock_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/nfslock/nfslock"
	"github.com/nfslock/nfslock/locker"
)

// Take a lock, see another claimant turned away, release it. A real
// program names a lock file in a directory the processes share, such as
// /shared/jobs/nightly.lock; this example uses a temporary directory.
func Example() {
	dir, err := os.MkdirTemp("", "nfslock-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "nightly.lock")

	lock, err := nfslock.New(path,
		locker.WithLifetime(time.Minute),   // how long the lock lasts unless refreshed
		locker.WithTimeout(30*time.Second)) // how long Lock waits
	if err != nil {
		log.Fatal(err) // bad input: empty path, path is a directory, ...
	}
	if err := lock.Lock(context.Background()); err != nil {
		log.Fatal(err) // errors.Is(err, locker.ErrTimeout): the message names the holder
	}
	fmt.Println("locked:", lock.IsLocked())

	// Another claimant, in this process or any other sharing the directory.
	other, err := nfslock.New(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := other.TryLock(); errors.Is(err, locker.ErrBusy) {
		fmt.Println("another claimant is turned away: busy")
	}

	if err := lock.Unlock(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("locked after Unlock:", lock.IsLocked())
	// Output:
	// locked: true
	// another claimant is turned away: busy
	// locked after Unlock: false
}
