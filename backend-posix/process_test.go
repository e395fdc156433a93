//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"os"
	"os/exec"
	"testing"
)

func TestProcessAlive(t *testing.T) {
	// A child that has exited and been reaped no longer exists. Its pid
	// could in principle be reused before the check; on a machine that is
	// not forking thousands of processes a second it is not.
	child := exec.Command("true")
	if err := child.Run(); err != nil {
		t.Skipf("cannot run a child process: %v", err)
	}

	tests := []struct {
		name string
		pid  int
		want bool
	}{
		{"this process", os.Getpid(), true},
		{"reaped child", child.Process.Pid, false},
		{"pid 0", 0, false},
		{"pid -1", -1, false},
	}
	fsys := New()
	for _, tt := range tests {
		got, err := fsys.ProcessAlive("any host", tt.pid)
		if err != nil {
			t.Errorf("ProcessAlive(%s, pid %d): %v", tt.name, tt.pid, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ProcessAlive(%s, pid %d) = %v, want %v", tt.name, tt.pid, got, tt.want)
		}
	}
}
