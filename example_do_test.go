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

// Do takes the lock, keeps it alive while the work runs, and releases it
// however the work ends. A real program names a lock file in a directory
// the processes share, such as /shared/jobs/nightly.lock.
func ExampleDo() {
	dir, err := os.MkdirTemp("", "nfslock-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "nightly.lock")

	err = nfslock.Do(context.Background(), path, func(ctx context.Context) error {
		// ctx is cancelled if the lock is lost: stop writing then.
		fmt.Println("working under the lock")
		return nil
	}, locker.WithTimeout(30*time.Second))
	switch {
	case errors.Is(err, locker.ErrTimeout):
		fmt.Println("someone else is running the job:", err)
	case errors.Is(err, locker.ErrLost):
		fmt.Println("the lock was lost while the work ran:", err)
	case err != nil:
		fmt.Println("failed:", err)
	default:
		fmt.Println("done; lock file left behind:", exists(path))
	}
	// Output:
	// working under the lock
	// done; lock file left behind: false
}

// With fencing, each acquisition carries a token greater than any given
// before for the lock file; the work hands it to the storage it writes, so
// that the storage can refuse a late write by a holder that lost the lock.
func ExampleDo_fencing() {
	dir, err := os.MkdirTemp("", "nfslock-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "nightly.lock")

	for range 2 {
		lock, err := nfslock.New(path, locker.WithFencing())
		if err != nil {
			log.Fatal(err)
		}
		err = lock.Do(context.Background(), func(ctx context.Context) error {
			fmt.Println("writing with token", lock.Token())
			return nil
		})
		if err != nil {
			log.Fatal(err)
		}
	}
	// Output:
	// writing with token 1
	// writing with token 2
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
