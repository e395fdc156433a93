package memfs_test

import (
	"errors"
	"fmt"
	"io/fs"

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
