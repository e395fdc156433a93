package conformance

import (
	"os"
	"os/exec"
	"testing"

	"github.com/nfslock/nfslock/locker"
)

// OnDisk describes a backend that works on real directories: each Env is a
// fresh directory made by newDir (which must arrange its removal, as
// t.TempDir does), listed with os.ReadDir, with processes of this host for
// pid liveness (started with the sleep command). Times are real, and the
// multi-process stress tests reach the directory through open.
func OnDisk(name string, open func() locker.FS, newDir func(t testing.TB) string) Backend {
	return Backend{
		Name:     name,
		RealTime: true,
		New: func(t testing.TB) *Env {
			dir := newDir(t)
			return &Env{
				Dir:   dir,
				FS:    open(),
				List:  func() ([]string, error) { return listDir(dir) },
				Spawn: spawnSleeper,
			}
		},
		Open: func(string) locker.FS { return open() },
	}
}

func listDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, err
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
