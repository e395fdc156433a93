package conformance

import (
	"github.com/nfslock/nfslock/locker"
)

// firstUnusedPID is where the pids the suite gives its simulated processes
// start: above Linux's PID_MAX_LIMIT (4 194 304) and the pid limits of
// macOS and the BSDs (99 999), so no process of those systems can ever have
// one. The suite does not rely on that: every pid is checked when it is
// handed out (see unusedPIDs).
const firstUnusedPID = 5_000_000

// fataler is what unusedPIDs needs of a *testing.T or a *rapid.T.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// unusedPIDs hands out pids of host that run no process, for the locks of a
// test that play processes of their own: the backend's ProcessChecker, if
// it has one, reports each dead when it is handed out, so that a State or a
// sweep that asks about it gets the answer the test's model expects,
// whatever processes the machine runs. It never hands out a pid twice.
type unusedPIDs struct {
	fsys locker.FS
	last int
}

func newUnusedPIDs(fsys locker.FS) *unusedPIDs {
	return &unusedPIDs{fsys: fsys, last: firstUnusedPID}
}

// maxPIDProbes bounds the pids next tries before it gives up: finding this
// many live processes in a row means the backend's ProcessChecker reports
// every pid alive.
const maxPIDProbes = 1000

// next returns a pid on host that no process runs now, as the backend says.
func (u *unusedPIDs) next(t fataler, host string) int {
	t.Helper()
	pc, ok := u.fsys.(locker.ProcessChecker)
	for range maxPIDProbes {
		u.last++
		if !ok {
			return u.last
		}
		alive, err := pc.ProcessAlive(host, u.last)
		if err != nil {
			t.Fatalf("ProcessAlive(%q, %d), choosing a pid that runs no process: %v", host, u.last, err)
		}
		if !alive {
			return u.last
		}
	}
	t.Fatalf("ProcessAlive(%q, pid) reports each of %d pids up to %d alive: the suite needs pids of no process", host, maxPIDProbes, u.last)
	return 0
}
