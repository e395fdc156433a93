package conformance

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// The shared lock (locker.RWLock) and the semaphore (locker.Semaphore):
// their rules, checked as the exclusive lock's are, on every backend.
//
//	RWLock/Scenarios/...     one test per rule of the shared lock
//	RWLock/StateMachine      random actions of several readers and writers
//	RWLock/Stress            readers and writers in several processes
//	Semaphore/Scenarios/...  one test per rule of the semaphore
//	Semaphore/StateMachine   random actions of several holders
//	Semaphore/Stress         holders in several processes count themselves
//
// They sit directly under the suite, so that -run 'Conformance/.*RWLock'
// selects them.

// Messages of a broken safety property of the shared locks.
const (
	rwViolation  = "READERS AND WRITER EXCLUSION VIOLATED"
	semViolation = "SEMAPHORE LIMIT VIOLATED"
)

// runShared runs the tests of the shared lock and of the semaphore, as two
// subtests of t, the test that called Run.
func runShared(t *testing.T, b Backend) {
	runName := t.Name() // the workers of the stress tests re-run this test
	t.Run("RWLock", func(t *testing.T) {
		t.Run("Scenarios", func(t *testing.T) {
			for _, sc := range rwScenarios {
				t.Run(sc.name, func(t *testing.T) { runTimed(t, b, sc.run) })
			}
		})
		t.Run("StateMachine", func(t *testing.T) { runRWMachine(t, b) })
		t.Run("Stress", func(t *testing.T) { testRWStress(t, b, runName) })
	})
	t.Run("Semaphore", func(t *testing.T) {
		t.Run("Scenarios", func(t *testing.T) {
			for _, sc := range semScenarios {
				t.Run(sc.name, func(t *testing.T) { runTimed(t, b, sc.run) })
			}
		})
		t.Run("StateMachine", func(t *testing.T) { runSemMachine(t, b) })
		t.Run("Stress", func(t *testing.T) { testSemStress(t, b, runName) })
	})
}

// procOpts returns the options of one process of the scene, on this host
// (LocalHost), with a pid of its own, on the scene's timeline; opts come
// last.
func (s *scene) procOpts(opts ...locker.Option) []locker.Option {
	s.t.Helper()
	all := append([]locker.Option{locker.WithHostname(LocalHost), locker.WithPID(s.pid())}, s.tl.opts()...)
	return append(all, opts...)
}

// newRW returns an RWLock on the scene's lock file for a process of its
// own, through fsys (the scene's backend if nil).
func (s *scene) newRW(fsys locker.FS, opts ...locker.Option) *locker.RWLock {
	s.t.Helper()
	if fsys == nil {
		fsys = s.env.FS
	}
	rw, err := locker.NewRWLock(s.path, fsys, s.procOpts(opts...)...)
	if err != nil {
		s.t.Fatalf("locker.NewRWLock(%q): %v", s.path, err)
	}
	return rw
}

// newSem returns a Semaphore of n slots on the scene's lock file for a
// process of its own, through fsys (the scene's backend if nil).
func (s *scene) newSem(fsys locker.FS, n int, opts ...locker.Option) *locker.Semaphore {
	s.t.Helper()
	if fsys == nil {
		fsys = s.env.FS
	}
	sem, err := locker.NewSemaphore(s.path, n, fsys, s.procOpts(opts...)...)
	if err != nil {
		s.t.Fatalf("locker.NewSemaphore(%q, %d): %v", s.path, n, err)
	}
	return sem
}

// goDo runs f on a new goroutine and returns where its result will be
// sent. The scenario's cleanup ends the scene's waits and waits for the
// goroutine, so that it never outlives the Env.
func (s *scene) goDo(f func() error) <-chan error {
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- f()
	}()
	s.t.Cleanup(func() {
		s.cancel()
		<-finished
	})
	return done
}

// driveStep is how far drive moves a virtual clock at a time: far below
// every lifetime, about a backoff step.
const driveStep = time.Millisecond

// drive waits for what a goroutine sends on done. On a virtual clock it
// moves time on, a millisecond at a time, whenever asleep goroutines wait on
// the clock (those of the scenario: a lock that waits sleeps in its backoff,
// and its keep-alive too; fewer asleep means one is at work), but never past
// limit (if not zero): a wait that would need more fails the scenario.
func (s *scene) drive(what string, done <-chan error, limit time.Time, asleep int) error {
	s.t.Helper()
	giveUp := time.Now().Add(safetyTimeout + 5*time.Second)
	busySince := time.Now()
	for {
		select {
		case err := <-done:
			return err
		default:
		}
		if time.Now().After(giveUp) {
			s.fatalf("%s did not return within %v of real time (clock at %s)", what, safetyTimeout+5*time.Second, s.tl.at(s.tl.now()))
		}
		if s.tl.virtual == nil {
			select {
			case err := <-done:
				return err
			case <-time.After(time.Millisecond):
			}
			continue
		}
		// A count of sleepers not reached for long means the count was
		// a guess too high: move on all the same.
		if s.tl.virtual.Sleepers() < asleep && time.Since(busySince) < 5*time.Millisecond {
			time.Sleep(20 * time.Microsecond)
			continue
		}
		if !limit.IsZero() && !s.tl.now().Add(driveStep).Before(limit) {
			s.fatalf("%s has not returned by %s", what, s.tl.at(limit))
		}
		s.tl.advance(driveStep)
		runtime.Gosched()
		busySince = time.Now()
	}
}

// stillWaiting reports a failure, and returns false, if what, whose result
// is sent on done, has returned: the goroutines are given a moment of real
// time (no virtual time) to act first.
func (s *scene) stillWaiting(what, why string, done <-chan error) bool {
	s.t.Helper()
	settle := s.tl.settle
	if s.tl.virtual != nil {
		settle = 20 * time.Millisecond
	}
	select {
	case err := <-done:
		s.errorf("%s returned %s at %s, want it still waiting: %s", what, errText(err), s.tl.at(s.tl.now()), why)
		return false
	case <-time.After(settle):
		return true
	}
}

// moveOn lets time run by d: on a virtual clock in small steps, as drive
// moves it, so that every waiter wakes at its own time on the way (a single
// jump would let each wake late, at once); on the real clock it sleeps.
func (s *scene) moveOn(d time.Duration, asleep int) {
	if s.tl.virtual == nil {
		time.Sleep(d)
		return
	}
	never := make(chan error)
	end := s.tl.now().Add(d)
	busySince := time.Now()
	for s.tl.now().Before(end) {
		select {
		case <-never:
		default:
		}
		if s.tl.virtual.Sleepers() < asleep && time.Since(busySince) < 5*time.Millisecond {
			time.Sleep(20 * time.Microsecond)
			continue
		}
		s.tl.advance(min(driveStep, end.Sub(s.tl.now())))
		busySince = time.Now()
	}
}

// readerExpiry returns the expiry of the reader slot held by rw's process,
// from Status.
func (s *scene) readerExpiry(rw *locker.RWLock, who *locker.RWLock) time.Time {
	s.t.Helper()
	st, err := rw.Status()
	if err != nil {
		s.fatalf("Status: %v", err)
	}
	for _, r := range st.Readers {
		if r.PID == who.Gate().PID() && r.Hostname == who.Gate().Hostname() {
			return r.Expires
		}
	}
	s.fatalf("Status shows readers %+v, none of them pid %d", st.Readers, who.Gate().PID())
	return time.Time{}
}

// slotExpiry returns the expiry of the semaphore slot held by sem, from
// Status.
func (s *scene) slotExpiry(sem *locker.Semaphore, who *locker.Semaphore) time.Time {
	s.t.Helper()
	st, err := sem.Status()
	if err != nil {
		s.fatalf("Status: %v", err)
	}
	for _, h := range st.Holders {
		if h.PID == who.Gate().PID() && h.Hostname == who.Gate().Hostname() {
			return h.Expires
		}
	}
	s.fatalf("Status shows holders %+v, none of them pid %d", st.Holders, who.Gate().PID())
	return time.Time{}
}

// slotFile is the name of slot k of kind ("reader", "slot") of the scene's
// lock.
func (s *scene) slotFile(kind string, k int) string {
	return fmt.Sprintf("%s.%s.%d", s.path, kind, k)
}

// claimsIn returns the names in the scene's directory that are claim files
// or temporary files (their names hold a separator), for a message.
func (s *scene) claimsIn() []string {
	var out []string
	for _, n := range s.files() {
		if strings.ContainsAny(n, "|^") {
			out = append(out, n)
		}
	}
	return out
}
