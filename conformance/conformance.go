package conformance

import (
	"os"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/vclock"
)

// Backend describes a backend to the suite.
type Backend struct {
	// Name names the backend in messages.
	Name string

	// New returns a fresh environment: an empty directory and the backend
	// to reach it. It is called once per scenario and once per property
	// check, so it should be cheap; t.Cleanup removes what it made.
	New func(t testing.TB) *Env

	// Open returns the backend for an existing directory Dir of an Env
	// made by New in another process. It is used by the multi-process
	// stress tests, whose workers re-execute the test binary. Nil for a
	// backend that lives inside one process (memfs); those tests are then
	// skipped, saying why.
	Open func(dir string) locker.FS

	// RealTime makes the scenarios run on the real clock with lifetimes of
	// a fraction of a second, for backends whose file times come from a
	// real clock. The property tests always drive the locks with a virtual
	// clock: a lock compares only times it wrote itself, so a virtual
	// clock is exact on any backend.
	RealTime bool

	// NoLinkCounts says the filesystem reports one link for every file (as
	// sshfs does), so that the lock must decide ownership by the claim name
	// alone. Otherwise the suite requires a held lock file to show two
	// links, which catches a backend that reports link counts wrongly.
	NoLinkCounts bool

	// TimeGranularity is how finely the filesystem stores modification
	// times, when that is coarser than a microsecond (sshfs and some NFS
	// servers keep whole seconds). Lifetimes, slops and every check of a
	// time read back from the filesystem scale with it. Probe measures it.
	TimeGranularity time.Duration

	// Latency is how long one call of the backend takes (the median; Probe
	// measures it: Capabilities.Latency.PerCall), zero for a local
	// filesystem or where it is not known. On the real clock the
	// scenarios' margins, backoffs and lifetimes grow with it: an attempt
	// to take the lock is some 10 to 20 calls, and a mount where that is
	// longer than the margins would fail the scenarios by timing alone.
	Latency time.Duration

	// Lag is how late, on the real clock, a lock may act after the moment
	// it meant to, where that can be more than on a local disk (120 ms):
	// timers that fire late, a host the backend itself keeps busy. The
	// scenarios' margins grow with it, and the lifetimes and slops that
	// must exceed them. Under Wine on a loaded CI host a waiter acted
	// 156 ms late, and a directory sweep took over 250 ms.
	Lag time.Duration

	// Checks is how many random cases each property test (the state
	// machine and the interleavings) tries: DefaultChecks if zero. The
	// breaking races of a weakened lock hide in a few interleavings out of
	// hundreds, so a backend where a case is cheap (memfs) should run
	// thousands. NFSLOCK_DEEP=1 in the environment multiplies it by ten;
	// an explicit -rapid.checks overrides it.
	Checks int

	// OtherClient, if not nil, maps a directory made by New to the same
	// directory reached through a second client of the same filesystem (a
	// second mount of one export). The multi-process stress tests then put
	// half of their workers on each client, each half under a host name of
	// its own.
	OtherClient func(dir string) string

	// CachingClient says a client of the filesystem caches attributes (the
	// probe saw another client's change late): the stress tests then judge
	// mutual exclusion by the workers' timed holds, and report a counter
	// file read stale through that client as what it is.
	CachingClient bool

	// timing, set by the suite, lets a scenario on the real clock be run
	// again when its timing was not met (see scene.inTime).
	timing *timingRun
}

// Env is one fresh directory on a backend.
type Env struct {
	// Dir is an empty directory for the lock files, as FS names it.
	Dir string
	// FS is the backend.
	FS locker.FS
	// List returns the names (not paths) of the entries of Dir.
	List func() ([]string, error)
	// Clock, if not nil, is the virtual clock the backend itself stamps
	// files with, as an in-memory backend can. The suite then drives the
	// locks with it too. If nil, the suite makes its own virtual clock.
	Clock *vclock.Clock
	// Spawn, if not nil, starts a live process on this host and returns
	// its pid and a function that ends it (after which the backend's
	// ProcessChecker reports it dead). State tests that need another live
	// or dead process are skipped without it.
	Spawn func(t testing.TB) (pid int, kill func())
	// MakeObject, if not nil, makes at path an object that no lock makes
	// (a directory, FIFO, socket, device, symbolic link or sparse file),
	// for the scenarios that check that a lock refuses such objects at its
	// names. For a kind the backend cannot make it returns an error
	// wrapping errors.ErrUnsupported, and that scenario is skipped, saying
	// so. Without it, those scenarios run only with over-long files, which
	// FS.WriteFile makes. MakeObjectOnDisk makes them in a real directory.
	MakeObject func(path string, o Object) error
	// DescribeObject, if not nil, describes what is at path without
	// following a symbolic link, finely enough that any change to it
	// (type, permissions, size, modification time, link target) changes
	// the description. Without it the suite describes files with FS.Stat.
	// DescribeOnDisk describes what is in a real directory.
	DescribeObject func(path string) (string, error)
}

// Run runs the whole suite against b, as subtests of t:
//
//	Scenarios/...    one test per rule of flufl.lock's algorithm
//	StateMachine     random actions by several locks, checked against a model
//	Interleavings    random orders of several locks' backend calls
//	FluflBreakingRaceFound  the same test finds flufl.lock's breaking race
//	Fencing/...      fencing tokens: scenarios, state machine, interleavings
//	Stress/...       several processes on one real directory
//	Attack           an attacker swaps objects at the lock's names while
//	                 locks contend, on a real directory (see attack.go)
//
// A test binary that calls Run is also re-executed as the workers of the
// stress tests: Run then does the worker's job and the rest of the suite is
// not run.
func Run(t *testing.T, b Backend) {
	if IsWorker() {
		runWorker(t, b)
		return
	}
	t.Run("Scenarios", func(t *testing.T) { runScenarios(t, b) })
	t.Run("StateMachine", func(t *testing.T) { runStateMachine(t, b) })
	t.Run("Interleavings", func(t *testing.T) { runInterleavings(t, b) })
	t.Run("FluflBreakingRaceFound", func(t *testing.T) { runFluflBreakingRace(t, b) })
	t.Run("Fencing", func(t *testing.T) { runFencing(t, b) })
	t.Run("Stress", func(t *testing.T) { runStress(t, b) })
	t.Run("Attack", func(t *testing.T) { runAttack(t, b) })
	runShared(t, b) // RWLock/... and Semaphore/...: shared.go
}

// IsWorker reports whether this process is a worker of the multi-process
// stress tests (a re-execution of the test binary, see Run), so that a test
// can skip its own preparations, such as probing the filesystem, which only
// the parent needs.
func IsWorker() bool { return os.Getenv(workerEnv) != "" }

// virtualStart is where the suite's own virtual clocks start.
var virtualStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// LocalHost is the host name the suite gives locks that play processes of
// "this host". A backend whose ProcessChecker answers per host (memfs) must
// start the processes of Env.Spawn on a host of this name.
const LocalHost = "local"

// clockOptions puts a lock on clk. When clk is a virtual clock of the
// suite's own (Env.Clock is nil), the backend's file times come from
// another clock (the kernel's), so the lock must not estimate the file
// server's clock from them: it writes and judges times in clk's frame.
func clockOptions(env *Env, clk locker.Clock, virtual bool) []locker.Option {
	opts := []locker.Option{locker.WithClock(clk)}
	if virtual && env.Clock == nil {
		opts = append(opts, locker.WithServerTime(false))
	}
	return opts
}
