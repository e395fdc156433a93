//go:build windows

package winfs_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	winfs "github.com/nfslock/nfslock/backend-windows"
	"github.com/nfslock/nfslock/locker"
)

// A lock on a Windows directory: locker.New with winfs.New(). A real
// program names a lock file in a directory the processes share, such as
// \\server\share\queue.lock.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "winfs-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "queue.lock")

	l, err := locker.New(path, winfs.New())
	if err != nil {
		log.Fatal(err)
	}
	err = l.Do(context.Background(), func(ctx context.Context) error {
		other, err := locker.New(path, winfs.New())
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
