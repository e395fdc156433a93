//go:build linux || darwin || freebsd || netbsd || openbsd

package conformance_test

import (
	"fmt"
	"testing"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/locker"
)

// A backend author describes the backend and calls Run from an ordinary
// test of the backend's package:
//
//	func TestConformance(t *testing.T) { conformance.Run(t, backend) }
//
// For a backend that works on real directories, OnDisk describes it: how to
// open the backend, and how to make a fresh directory for each test
// (t.TempDir, or a directory on the mount to check). The module
// github.com/nfslock/nfslock/examples has a complete one, in examples/logfs.
func ExampleOnDisk() {
	backend := conformance.OnDisk("posix",
		func() locker.FS { return posix.New() },
		func(t testing.TB) string { return t.TempDir() })
	fmt.Println(backend.Name, "real time:", backend.RealTime, "multi-process stress:", backend.Open != nil)
	// Output: posix real time: true multi-process stress: true
}
