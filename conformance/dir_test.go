//go:build linux || darwin || freebsd || netbsd || openbsd

package conformance_test

import (
	"flag"
	"os"
	"testing"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/locker"
)

var dirFlag = flag.String("dir", "", "run the conformance suite with the posix backend in fresh subdirectories of this `directory` (a mount of the filesystem to check)")

// TestDirectory checks a filesystem: it runs the whole suite, the
// multi-process stress tests included, with the posix backend in a directory
// named by -dir, typically a mount of a network filesystem:
//
//	go test github.com/nfslock/nfslock/conformance -run TestDirectory -v -args -dir /mnt/shared
func TestDirectory(t *testing.T) {
	if *dirFlag == "" {
		t.Skip("no directory to check; to check a filesystem, run: go test github.com/nfslock/nfslock/conformance -run TestDirectory -v -args -dir /path/to/a/mount")
	}
	fi, err := os.Stat(*dirFlag)
	if err != nil {
		t.Fatalf("-dir: %v", err)
	}
	if !fi.IsDir() {
		t.Fatalf("-dir %s is not a directory", *dirFlag)
	}
	conformance.Run(t, dirBackend(*dirFlag))
}

// dirBackend is the posix backend in fresh subdirectories of dir, one per
// Env, removed when the test that made it ends.
func dirBackend(dir string) conformance.Backend {
	open := func() locker.FS { return posix.New() }
	return conformance.OnDisk("posix in "+dir, open, func(t testing.TB) string {
		sub, err := os.MkdirTemp(dir, "nfslock-conformance-*")
		if err != nil {
			t.Fatalf("making a directory for the test in -dir: %v", err)
		}
		t.Cleanup(func() {
			if err := os.RemoveAll(sub); err != nil {
				t.Errorf("removing the test's directory: %v", err)
			}
		})
		return sub
	})
}
