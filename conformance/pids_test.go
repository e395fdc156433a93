package conformance

import (
	"testing"

	"github.com/nfslock/nfslock/locker"
)

// busyHost is a backend whose host runs processes at the given pids. Only
// its ProcessAlive is called: its locker.FS is nil.
type busyHost struct {
	locker.FS
	live map[int]bool
}

func (b busyHost) ProcessAlive(host string, pid int) (bool, error) { return b.live[pid], nil }

// TestUnusedPIDsSkipsLiveProcesses checks that the pids the suite gives its
// simulated processes are none that the backend reports alive, however the
// machine's processes happen to be numbered.
func TestUnusedPIDsSkipsLiveProcesses(t *testing.T) {
	fsys := busyHost{live: map[int]bool{}}
	for pid := firstUnusedPID + 1; pid <= firstUnusedPID+3; pid++ {
		fsys.live[pid] = true
	}
	fsys.live[firstUnusedPID+5] = true
	u := newUnusedPIDs(fsys)
	seen := map[int]bool{}
	for range 5 {
		pid := u.next(t, "busy")
		if fsys.live[pid] {
			t.Errorf("next handed out pid %d, which runs a live process", pid)
		}
		if seen[pid] {
			t.Errorf("next handed out pid %d twice", pid)
		}
		seen[pid] = true
	}
}
