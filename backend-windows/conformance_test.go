//go:build windows

package winfs_test

import (
	"os"
	"testing"
	"time"

	winfs "github.com/nfslock/nfslock/backend-windows"
	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/locker"
)

// windowsBackend describes this backend to the conformance suite. It is
// conformance.OnDisk's shape, but with its own temporary directories
// (t.TempDir's cleanup fails under Wine) and its own long-lived process
// (the test binary re-executed as a sleeper, as there is no sleep command).
var windowsBackend = conformance.Backend{
	Name:     "windows",
	RealTime: true,
	// Under Wine, timers fire late and the wineserver keeps the host
	// busy: a waiter acted 156 ms late on a loaded CI host, where a local
	// disk allows 120 ms.
	Lag: 250 * time.Millisecond,
	// Under Wine a check costs milliseconds, and the property tests took
	// five of the suite's nine minutes at rapid's default depth (100):
	// half that, as the logic they explore is the locker's, which memfs
	// explores at 2 000.
	Checks: 50,
	New: func(t testing.TB) *conformance.Env {
		dir := tempDir(t)
		return &conformance.Env{
			Dir:            dir,
			FS:             winfs.New(),
			List:           func() ([]string, error) { return listDir(dir) },
			Spawn:          spawn,
			MakeObject:     conformance.MakeObjectOnDisk,
			DescribeObject: conformance.DescribeOnDisk,
		}
	},
	Open: func(string) locker.FS { return winfs.New() },
}

func listDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, err
}

func TestConformance(t *testing.T) { conformance.Run(t, windowsBackend) }
