package conformance

import (
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
	"pgregory.net/rapid"
)

// The interleaving tests use flufl.lock's default times on a virtual clock.
const (
	propLifetime = locker.DefaultLifetime
	propSlop     = locker.DefaultClockSlop
)

// contender is what the property tests drive: nfslock's Lock, or the
// transcription of flufl.lock in flufl.go.
type contender interface {
	TryLock() error
	Unlock() error
	UnlockUnconditionally() error
	Refresh() error
	IsLocked() bool
}

// maker makes a contender for path on fsys, for a process pid of host.
type maker func(t *rapid.T, env *Env, fsys locker.FS, path, host string, pid int, clk locker.Clock) contender

func makeNfslock(t *rapid.T, env *Env, fsys locker.FS, path, host string, pid int, clk locker.Clock) contender {
	opts := append(clockOptions(env, clk, true), locker.WithHostname(host), locker.WithPID(pid),
		locker.WithLifetime(propLifetime), locker.WithClockSlop(propSlop))
	l, err := locker.New(path, fsys, opts...)
	if err != nil {
		t.Fatalf("locker.New: %v", err)
	}
	return l
}

// fluflMaker returns a maker of flufl.lock transcriptions; noLinks says the
// filesystem reports no link counts.
func fluflMaker(noLinks bool) maker {
	return func(_ *rapid.T, _ *Env, fsys locker.FS, path, host string, pid int, clk locker.Clock) contender {
		return newFluflLock(fsys, path, host, pid, clk, propLifetime, propSlop, noLinks)
	}
}

// runInterleavings checks mutual exclusion under random orders of several
// locks' backend calls, for nfslock's locker.
func runInterleavings(t *testing.T, b Backend) {
	t.Run("MutualExclusion", func(t *testing.T) {
		rapid.Check(t, interleavingProperty(t, b, makeNfslock, false))
	})
}

// runFluflBreakingRace shows that the interleaving test finds flufl.lock's
// breaking race: were it ever to stop finding it, the suite would have lost
// the power to find races, and this test fails.
func runFluflBreakingRace(t *testing.T, b Backend) {
	{
		// rapid saves a failing case under testdata/ of the working
		// directory; this failure is expected, so keep it out of the
		// caller's source tree. Allow more checks than the default: the
		// race is found after a median of about 12, but rarely only after
		// 100, and the search stops at the first failure.
		defer setFlag("rapid.nofailfile", func(string) string { return "true" })()
		defer setFlag("rapid.checks", func(old string) string {
			if n, _ := strconv.Atoi(old); n > 1000 {
				return old
			}
			return "1000"
		})()
		rec := &failureRecorder{T: t}
		rapid.Check(rec, interleavingProperty(t, b, fluflMaker(b.NoLinkCounts), false))
		switch {
		case !rec.failed:
			t.Fatalf("the interleaving test did not find flufl.lock's breaking race: it has lost the power to find races")
		case !strings.Contains(rec.msg, mutexViolation):
			t.Fatalf("the interleaving test failed flufl.lock's algorithm, but not for the breaking race:\n%s", rec.msg)
		}
		t.Logf("as expected, flufl.lock's algorithm lets two lockers hold the lock; the shrunk trace is above (run with -v)")
	}
}

// setFlag sets the named flag, if it exists, to to(its value), and returns a
// function that restores it.
func setFlag(name string, to func(old string) string) (restore func()) {
	f := flag.Lookup(name)
	if f == nil {
		return func() {}
	}
	old := f.Value.String()
	f.Value.Set(to(old))
	return func() { f.Value.Set(old) }
}

// failureRecorder is a rapid.TB that records a property's failure instead of
// failing the test, and passes the log through.
type failureRecorder struct {
	*testing.T
	failed bool
	msg    string
}

func (r *failureRecorder) Errorf(format string, args ...any) { r.Error(fmt.Sprintf(format, args...)) }
func (r *failureRecorder) Error(args ...any) {
	r.failed = true
	r.msg += fmt.Sprint(args...) + "\n"
	r.T.Log(args...)
}
func (r *failureRecorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }
func (r *failureRecorder) Fatal(args ...any)                 { r.Error(args...) }
func (r *failureRecorder) FailNow()                          { r.failed = true }
func (r *failureRecorder) Fail()                             { r.failed = true }
func (r *failureRecorder) Failed() bool                      { return r.failed }

const mutexViolation = "MUTUAL EXCLUSION VIOLATED"

// opStart begins the description of the scheduling point at the start of
// each operation of an actor.
const opStart = "start "

// actor is one lock driven by the scheduler through a drawn program of
// operations. Its belief (does it hold the lock, and until when) is what the
// mutual exclusion invariant is about.
type actor struct {
	name     string
	c        contender
	ops      []string
	believes bool      // TryLock succeeded and no Unlock, failed Refresh or failed TryLock since
	until    time.Time // the latest expiry it may rely on: the time it started its last successful TryLock or Refresh, plus the lifetime
}

func (a *actor) run(s *scheduler, id int, clk locker.Clock, tr *trace) {
	for _, op := range a.ops {
		s.point(id, opStart+op)
		at := clk.Now()
		var err error
		switch op {
		case "TryLock":
			err = a.c.TryLock()
			switch {
			case err == nil:
				a.believes, a.until = true, at.Add(propLifetime)
			case errors.Is(err, locker.ErrAlreadyLocked):
			default:
				a.believes = false
			}
		case "Refresh":
			err = a.c.Refresh()
			if err != nil {
				a.believes = false
			} else if a.believes {
				a.until = at.Add(propLifetime)
			}
		case "Unlock":
			a.believes = false // it stops relying on the lock as it starts to release it
			err = a.c.Unlock()
		}
		res := "ok"
		if err != nil {
			res = tr.short(err.Error())
		}
		tr.addBy(a.name, "%s() returned %s; believes it holds the lock: %v", op, res, a.believes)
	}
}

// interleavingProperty: 2 or 3 lockers, perhaps after a crashed holder left
// an expired lock, each run a short program of TryLock, Refresh and Unlock;
// every backend call is a scheduling point, and the clock may jump between
// any two. After every call, no two lockers may both believe they hold an
// unexpired lock; at the end, once everyone has let go and expired locks
// are broken, no file may remain. With fencing, the lockers are nfslock
// Locks that fence (mk is not used), and their tokens must increase (see
// fencing.go); the counter is the one file that may remain.
func interleavingProperty(outer *testing.T, b Backend, mk maker, fencing bool) func(*rapid.T) {
	return func(t *rapid.T) {
		env := b.New(outer)
		clk := env.Clock
		if clk == nil {
			clk = memfs.NewClock(virtualStart)
		}
		path := filepath.Join(env.Dir, "x.lock")
		tr := &trace{dir: env.Dir, start: clk.Now()}
		tr.add("clock starts at 0s; lifetime %v, slop %v", propLifetime, propSlop)
		var tokens *tokenLog
		if fencing {
			tokens = &tokenLog{tr: tr}
			mk = tokens.fencingMaker()
		}

		if rapid.Bool().Draw(t, "crashed holder") {
			dead := mk(t, env, env.FS, path, "dead", 1, clk)
			if err := dead.TryLock(); err != nil {
				t.Fatalf("setting up a crashed holder: %v", err)
			}
			clk.Advance(propLifetime + propSlop + time.Second)
			tr.add("a crashed holder left a lock; the clock moves on to %s, past its expiry + slop", clk.Now().Sub(tr.start))
		}

		n := rapid.IntRange(2, 3).Draw(t, "lockers")
		s := newScheduler(tr)
		actors := make([]*actor, n)
		for i := range actors {
			name := string(rune('A' + i))
			fsys := &scheduledFS{inner: env.FS, s: s, tr: tr, actor: i, name: name}
			ops := rapid.SliceOfN(rapid.SampledFrom([]string{"TryLock", "TryLock", "Refresh", "Unlock"}), 1, 3).Draw(t, "program "+name)
			aclk := &scheduledClock{clk: clk, s: s, tr: tr, actor: i, name: name}
			actors[i] = &actor{name: name, c: mk(t, env, fsys, path, "host"+name, 100+i, aclk), ops: ops}
			tr.add("%s will run %s", name, strings.Join(ops, ", "))
		}
		s.start()
		for i, a := range actors {
			go func() {
				defer s.done(i)
				a.run(s, i, clk, tr)
			}()
		}

		// The clock may jump by up to lifetime + slop while every locker is
		// between operations (a holder that pauses, a waiter that comes
		// late), but only by less than the slop while one is inside an
		// operation: a lease cannot protect against a process that stalls
		// in the middle of taking or breaking it for longer than that.
		jumps := []time.Duration{time.Second, propLifetime, propLifetime + propSlop + time.Nanosecond}
		jumpsLeft := rapid.IntRange(0, 2).Draw(t, "clock jumps")
		var idle bool
		check := func() {
			now := clk.Now()
			var holders []string
			for _, a := range actors {
				if a.believes && now.Before(a.until) {
					holders = append(holders, fmt.Sprintf("%s (relies on it until %v)", a.name, a.until.Sub(tr.start)))
				}
			}
			if len(holders) > 1 {
				t.Fatalf("%s: %s hold the lock at the same time (clock at %v)\n%s", mutexViolation, strings.Join(holders, " and "), now.Sub(tr.start), tr)
			}
			if v := tokens.failure(); v != "" {
				t.Fatalf("%s\n%s", v, tr)
			}
		}
		extras := func() []string {
			switch {
			case jumpsLeft == 0:
				return nil
			case idle:
				return []string{"jump 1", "jump 2", "jump 3"}
			default:
				return []string{"jump 1"}
			}
		}
		onExtra := func(k int) {
			jumpsLeft--
			clk.Advance(jumps[k])
			tr.add("clock +%v = %v", jumps[k], clk.Now().Sub(tr.start))
		}
		s.run(t, n, func(stopped []string) {
			idle = !slices.ContainsFunc(stopped, func(d string) bool { return !strings.HasPrefix(d, opStart) })
			check()
		}, extras, onExtra)

		// Everyone lets go; then, once any lock left has expired, a
		// newcomer breaks it and releases. Nothing may remain.
		for _, a := range actors {
			if err := a.c.UnlockUnconditionally(); err != nil {
				t.Fatalf("[%s] UnlockUnconditionally: %v\n%s", a.name, err, tr)
			}
		}
		clk.Advance(propLifetime + propSlop + time.Second)
		sweeper := mk(t, env, env.FS, path, "sweeper", 99, clk)
		if err := sweeper.TryLock(); err != nil {
			t.Fatalf("a newcomer could not take the lock after everyone let go and the lock expired: %v\n%s", err, tr)
		}
		if err := sweeper.Unlock(); err != nil {
			t.Fatalf("sweeper.Unlock: %v\n%s", err, tr)
		}
		if v := tokens.failure() + tokens.checkCounter(env.FS, path); v != "" {
			t.Fatalf("%s\n%s", v, tr)
		}
		names, err := env.List()
		if err != nil {
			t.Fatal(err)
		}
		if names = tokens.withoutCounter(names, path); len(names) > 0 {
			t.Fatalf("LEFTOVER FILES after every lock was released or broken: %q\n%s", names, tr)
		}
	}
}
