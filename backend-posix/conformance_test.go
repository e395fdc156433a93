//go:build linux || darwin || freebsd || netbsd || openbsd

package posix_test

import (
	"os"
	"os/exec"
	"testing"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/locker"
)

// posixBackend describes this backend to the conformance suite: a fresh
// t.TempDir() per Env, real processes for pid liveness.
var posixBackend = conformance.Backend{
	Name:     "posix",
	RealTime: true,
	New: func(t testing.TB) *conformance.Env {
		dir := t.TempDir()
		return &conformance.Env{
			Dir: dir,
			FS:  posix.New(),
			List: func() ([]string, error) {
				ents, err := os.ReadDir(dir)
				names := make([]string, len(ents))
				for i, e := range ents {
					names[i] = e.Name()
				}
				return names, err
			},
			Spawn: spawnSleeper,
		}
	},
	Open: func(string) locker.FS { return posix.New() },
}

// spawnSleeper starts a process that lives until killed.
func spawnSleeper(t testing.TB) (int, func()) {
	cmd := exec.Command("sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a process to own a lock: %v", err)
	}
	kill := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Cleanup(kill)
	return cmd.Process.Pid, kill
}

func TestConformance(t *testing.T) { conformance.Run(t, posixBackend) }
