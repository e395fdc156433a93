// Command quickstart walks through nfslock's basic use: take a lock and
// release it with defer, watch a second claimant time out while the first
// holds the lock, then lock, refresh and unlock by hand.
//
// Run it from the repository root with
//
//	go run ./examples/quickstart
package main

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

func main() {
	log.SetFlags(0)
	dir, err := os.MkdirTemp("", "nfslock-quickstart-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := run(filepath.Join(dir, "resource.lock")); err != nil {
		log.Fatal(err)
	}
}

func run(path string) error {
	ctx := context.Background()

	// The lock path is a fresh name: the lock file is created by the lock,
	// and must not be a file of your own. nfslock.New uses the backend of
	// the platform the program is built for.
	lock, err := nfslock.New(path, locker.WithLifetime(15*time.Second))
	if err != nil {
		return err
	}
	fmt.Printf("1. lock file: %s\n   claim file: %s\n", lock.LockFile(), lock.ClaimFile())

	// Acquire, and release on the way out with defer.
	err = func() error {
		if err := lock.Lock(ctx); err != nil {
			return err
		}
		defer lock.Unlock()
		st, _ := lock.State()
		d, _ := lock.Details()
		fmt.Printf("2. acquired: IsLocked=%v State=%v holder=%s pid %d, expires in %v\n",
			lock.IsLocked(), st, d.Hostname, d.PID, time.Until(d.Expires).Round(time.Second))

		// A second claimant (in another process, or here in the same one)
		// waits at most its timeout, then fails with ErrTimeout naming the
		// holder. flufl.lock raises TimeOutError here too.
		other, err := nfslock.New(path, locker.WithTimeout(time.Second))
		if err != nil {
			return err
		}
		start := time.Now()
		err = other.Lock(ctx)
		if !errors.Is(err, locker.ErrTimeout) {
			return fmt.Errorf("second lock: want a timeout, got %v", err)
		}
		fmt.Printf("3. second claimant gave up after %v:\n   %v\n", time.Since(start).Round(100*time.Millisecond), err)
		fmt.Println("4. releasing (deferred Unlock)")
		return nil
	}()
	if err != nil {
		return err
	}
	fmt.Printf("5. after release: IsLocked=%v\n", lock.IsLocked())

	// By hand: lock, refresh with a longer lifetime, unlock.
	if err := lock.Lock(ctx); err != nil {
		return err
	}
	before, _ := lock.Expiration()
	if err := lock.RefreshLifetime(time.Minute); err != nil {
		return err
	}
	after, _ := lock.Expiration()
	fmt.Printf("6. locked again, expiring in %v; refreshed with a 1m lifetime: now expires in %v\n",
		time.Until(before).Round(time.Second), time.Until(after).Round(time.Second))
	if err := lock.Unlock(); err != nil {
		return err
	}
	st, _ := lock.State()
	fmt.Printf("7. unlocked: IsLocked=%v State=%v\n", lock.IsLocked(), st)

	// Unlocking twice is an error you can test for.
	if err := lock.Unlock(); errors.Is(err, locker.ErrNotLocked) {
		fmt.Printf("8. a second Unlock says: %v\n", err)
	}
	return nil
}
