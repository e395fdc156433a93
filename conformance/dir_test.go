//go:build linux || darwin || freebsd || netbsd || openbsd

package conformance_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/locker"
)

var (
	dirFlag  = flag.String("dir", "", "run the conformance suite with the posix backend in fresh subdirectories of this `directory` (a mount of the filesystem to check)")
	dir2Flag = flag.String("dir2", "", "the same `directory` as -dir reached through a second client (another mount of the same export): the stress tests then put half their workers on each client")
)

// TestDirectory checks a filesystem: it probes what the filesystem does that
// the lock relies on, prints that, and runs the whole suite adapted to it,
// the multi-process stress tests included, with the posix backend in a
// directory named by -dir, typically a mount of a network filesystem:
//
//	go test github.com/nfslock/nfslock/conformance -run TestDirectory -v -args -dir /mnt/a -dir2 /mnt/b
func TestDirectory(t *testing.T) {
	if *dirFlag == "" {
		t.Skip("no directory to check; to check a filesystem, run: go test github.com/nfslock/nfslock/conformance -run TestDirectory -v -args -dir /path/to/a/mount [-dir2 /the/same/directory/through/another/client]")
	}
	for _, d := range []string{*dirFlag, *dir2Flag} {
		if d == "" {
			continue
		}
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if !fi.IsDir() {
			t.Fatalf("%s is not a directory", d)
		}
	}
	if conformance.IsWorker() {
		// A stress worker needs only the directory its job names.
		conformance.Run(t, dirBackend(*dirFlag, *dir2Flag, &conformance.Capabilities{}))
		return
	}
	caps, err := conformance.Probe(posix.New(), *dirFlag, *dir2Flag)
	if caps != nil {
		t.Log(caps)
	}
	if err != nil {
		t.Fatal(err)
	}
	conformance.Run(t, dirBackend(*dirFlag, *dir2Flag, caps))
}

// dirBackend is the posix backend in fresh subdirectories of dir, one per
// Env, removed when the test that made it ends, adapted to what the probe
// found there.
func dirBackend(dir, dir2 string, caps *conformance.Capabilities) conformance.Backend {
	open := func() locker.FS { return posix.New() }
	b := conformance.OnDisk("posix in "+dir, open, func(t testing.TB) string {
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
	// A network filesystem makes each check cost milliseconds: rapid's own
	// default depth (NFSLOCK_DEEP=1 or -rapid.checks for more).
	b.Checks = 100
	b.NoLinkCounts = !caps.LinkCounts
	b.CachingClient = caps.OtherClientDelay != 0 || caps.ReverseDelay != 0
	b.TimeGranularity = caps.TimeGranularity()
	if b.TimeGranularity < 1000 {
		b.TimeGranularity = 0
	}
	b.Latency = caps.Latency.PerCall()
	if dir2 != "" {
		b.OtherClient = func(sub string) string {
			rel, err := filepath.Rel(dir, sub)
			if err != nil {
				return sub
			}
			return filepath.Join(dir2, rel)
		}
	}
	return b
}
