package conformance

import (
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

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
				Dir:            dir,
				FS:             open(),
				List:           func() ([]string, error) { return listLockFiles(dir) },
				Spawn:          spawnSleeper,
				MakeObject:     MakeObjectOnDisk,
				DescribeObject: DescribeOnDisk,
			}
		},
		Open: func(string) locker.FS { return open() },
	}
}

// clientFileWait bounds how long a listing waits for files of the
// filesystem's client (see IsClientFile) to go.
const clientFileWait = 5 * time.Second

// listLockFiles lists dir as the lock left it: files that the filesystem's
// client keeps for files removed while open (.nfsXXXX, .fuse_hiddenXXXX) are
// the client's, not the lock's. It waits a bounded time for them to go and
// leaves out any that stay; clientFilesIn reports those.
func listLockFiles(dir string) ([]string, error) {
	start := time.Now()
	for {
		names, err := listDir(dir)
		if err != nil {
			return nil, err
		}
		own := slices.DeleteFunc(slices.Clone(names), IsClientFile)
		if len(own) == len(names) || time.Since(start) > clientFileWait {
			return own, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// clientFilesIn returns the client's files (see IsClientFile) in dir.
func clientFilesIn(dir string) []string {
	names, _ := listDir(dir)
	return slices.DeleteFunc(names, func(n string) bool { return !IsClientFile(n) })
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
