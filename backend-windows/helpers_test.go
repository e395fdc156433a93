//go:build windows

package winfs_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// sleeperEnv, set in a re-executed test binary, makes it sleep for an hour
// instead of running tests: a long-lived process of this host for the
// ProcessAlive tests and the conformance suite's Spawn.
const sleeperEnv = "NFSLOCK_WINFS_SLEEPER"

func TestMain(m *testing.M) {
	if os.Getenv(sleeperEnv) != "" {
		time.Sleep(time.Hour)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// tempDir makes a fresh directory and removes it and its entries one by one
// when t ends. It stands in for t.TempDir, whose os.RemoveAll fails under
// Wine 8.0 with "Invalid function".
func tempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "winfs-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := removeTree(dir); err != nil {
			t.Errorf("removing temporary directory: %v", err)
		}
	})
	return dir
}

// removeTree removes dir and everything in it with os.Remove, retrying
// briefly for files that another process (a just-killed worker) still has
// open.
func removeTree(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		if e.IsDir() {
			if err := removeTree(p); err != nil {
				return err
			}
			continue
		}
		if err := removeRetrying(p); err != nil {
			return err
		}
	}
	return removeRetrying(dir)
}

func removeRetrying(p string) error {
	var err error
	for i := 0; i < 50; i++ {
		if err = os.Remove(p); err == nil || os.IsNotExist(err) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return err
}

// startSleeper starts the test binary as a sleeper and returns it. The
// caller must kill and wait for it; t's cleanup does so too.
func startSleeper(t testing.TB) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), sleeperEnv+"=1")
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting a sleeper process: %v", err)
	}
	return cmd
}

// spawn is conformance.Env.Spawn: a live process until kill is called.
func spawn(t testing.TB) (int, func()) {
	cmd := startSleeper(t)
	done := false
	kill := func() {
		if done {
			return
		}
		done = true
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Cleanup(kill)
	return cmd.Process.Pid, kill
}

// mustWrite creates name with data using package os.
func mustWrite(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustRead returns the contents of name using package os.
func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
