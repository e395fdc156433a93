package memfs_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"time"

	"github.com/spf13/afero"

	memfs "github.com/nfslock/nfslock/backend-memfs"
)

// The hard-link step of the lock algorithm, done by hand on a simulated
// host, and its result read back through afero.
func Example() {
	fsys := memfs.New()
	if err := fsys.MkdirAll("/locks", 0o755); err != nil {
		fmt.Println(err)
		return
	}
	h := fsys.Host("alpha")
	p := h.Spawn()

	claim := fmt.Sprintf("/locks/app.lock|%s|%d|42", h.Name(), p.PID())
	if err := h.WriteFile(claim, []byte(claim), 0o644); err != nil {
		fmt.Println(err)
		return
	}
	if err := h.Link(claim, "/locks/app.lock"); err != nil {
		fmt.Println(err)
		return
	}
	err := h.Link(claim, "/locks/app.lock")
	fmt.Println("second link fails with ErrExist:", errors.Is(err, fs.ErrExist))

	fi, err := fsys.Stat("/locks/app.lock")
	if err != nil {
		fmt.Println(err)
		return
	}
	data, err := afero.ReadFile(fsys, "/locks/app.lock")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("links:", fi.Sys().(*memfs.Stat).Nlink)
	fmt.Println("contents:", string(data))
	// Output:
	// second link fails with ErrExist: true
	// links: 2
	// contents: /locks/app.lock|alpha|100|42
}

// An NFS link whose reply is lost: the link is made, yet the caller sees an
// error and must look at the lock file to learn that it won.
func ExampleFaultFS_LoseReply() {
	fsys := memfs.New()
	h := fsys.Host("alpha")
	ffs := memfs.NewFaultFS(h)
	ffs.LoseReply(memfs.OpLink, 1, syscall.EIO)

	_ = ffs.WriteFile("/claim", []byte("/claim"), 0o644)
	err := ffs.Link("/claim", "/lock")
	fi, _ := ffs.Stat("/lock")
	fmt.Println("error:", err)
	fmt.Println("links:", fi.Links)
	// Output:
	// error: input/output error
	// links: 2
}

// In auto-advance mode a Sleep returns at once, having moved the clock.
func ExampleClock_AutoAdvance() {
	start := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	clk := memfs.NewClock(start).AutoAdvance(true)
	if err := clk.Sleep(context.Background(), 15*time.Second); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(clk.Now().Sub(start))
	// Output: 15s
}
