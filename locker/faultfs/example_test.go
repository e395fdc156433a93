package faultfs_test

import (
	"fmt"
	"syscall"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// An NFS link whose reply is lost: the link is made, yet the caller sees an
// error and must look at the lock file to learn that it won.
func ExampleFS_LoseReply() {
	ffs := faultfs.New(memfs.New().Host("alpha")) // or any other backend
	ffs.LoseReply(faultfs.OpLink, 1, syscall.EIO)

	_ = ffs.WriteFile("/claim", []byte("/claim"), 0o644)
	err := ffs.Link("/claim", "/lock")
	fi, _ := ffs.Stat("/lock")
	fmt.Println("error:", err)
	fmt.Println("links:", fi.Links)
	// Output:
	// error: input/output error
	// links: 2
}
