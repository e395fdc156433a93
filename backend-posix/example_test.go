//go:build linux || darwin || freebsd || netbsd || openbsd

package posix_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
)

// A lock on a real directory: locker.New with posix.New(). A real program
// names a lock file in a directory the processes share, such as
// /shared/queue.lock.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "posix-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "queue.lock")

	l, err := locker.New(path, posix.New())
	if err != nil {
		log.Fatal(err)
	}
	err = l.Do(context.Background(), func(ctx context.Context) error {
		other, err := locker.New(path, posix.New())
		if err != nil {
			return err
		}
		fmt.Println("another claimant is turned away:", errors.Is(other.TryLock(), locker.ErrBusy))
		return nil
	})
	fmt.Println("Do:", err)
	entries, _ := os.ReadDir(dir)
	fmt.Println("files left:", len(entries))
	// Output:
	// another claimant is turned away: true
	// Do: <nil>
	// files left: 0
}
