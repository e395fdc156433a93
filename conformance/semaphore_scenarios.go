package conformance

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// The rules of the semaphore (docs/algorithm.md, "Shared locks and
// semaphores"), one scenario each.
var semScenarios = []struct {
	name string
	run  func(*testing.T, Backend)
}{
	{"NeverMoreThanN", scenarioSemNeverMoreThanN},
	{"DeadHolderRecoveredAfterLifetimePlusSlop", scenarioSemDeadHolder},
	{"OtherNRefused", scenarioSemOtherN},
	{"WaitersServedInGateOrder", scenarioSemGateOrder},
	{"WaitersServedInTheOrderTheyCame", scenarioSemFIFO},
	{"LostRepliesSurvived", scenarioSemLostReplies},
	{"BadInputLeavesNothing", scenarioSemBadInput},
}

// tryAcquire is sem.TryAcquire with the clock moving while it tries the
// gate.
func (s *scene) tryAcquire(sem *locker.Semaphore) (slot locker.Slot, err error) {
	s.withAuto(func() { slot, err = sem.TryAcquire() })
	return slot, err
}

// semHolders counts the semaphores in sems that hold a slot, by IsLocked,
// and fails the scenario if two hold the same slot.
func (s *scene) semHolders(sems ...*locker.Semaphore) int {
	s.t.Helper()
	n := 0
	by := map[string]int{}
	for i, sem := range sems {
		l := sem.Held()
		if l == nil || !l.IsLocked() {
			continue
		}
		n++
		if j, ok := by[l.LockFile()]; ok {
			s.fatalf("%s: semaphores %d and %d both hold %s", semViolation, j+1, i+1, l.LockFile())
		}
		by[l.LockFile()] = i
	}
	return n
}

func scenarioSemNeverMoreThanN(t *testing.T, b Backend) {
	s := newScene(t, b, "a semaphore of N slots has never more than N holders: once N hold one, TryAcquire says ErrBusy and Acquire waits, until a holder releases its slot")
	const n = 2
	timeout := 3 * s.tl.near
	if s.tl.virtual != nil {
		timeout = s.tl.lifetime / 2
	}
	a, bb := s.newSem(nil, n, long), s.newSem(nil, n, long)
	c := s.newSem(nil, n, long, locker.WithTimeout(timeout))
	sa, err := a.Acquire(s.ctx)
	s.requireErr("the first Acquire", err, nil)
	sb, err := bb.TryAcquire()
	s.requireErr("the second TryAcquire", err, nil)
	if sa.Index == sb.Index || sa.Index < 0 || sb.Index < 0 || sa.Index >= n || sb.Index >= n {
		s.fatalf("%s: the two holders got slots %d and %d of %d", semViolation, sa.Index, sb.Index, n)
	}
	_, err = s.tryAcquire(c)
	s.checkErr(fmt.Sprintf("a third TryAcquire of %d slots", n), err, locker.ErrBusy)
	if got := s.semHolders(a, bb, c); got != n {
		s.fatalf("%s: %d semaphores hold a slot, want %d", semViolation, got, n)
	}
	start := s.tl.now()
	err = s.drive("a third Acquire with a timeout", s.goDo(func() error { _, err := c.Acquire(s.ctx); return err }), start.Add(2*timeout), 2)
	s.checkErr(fmt.Sprintf("a third Acquire of %d slots with WithTimeout(%v)", n, timeout), err, locker.ErrTimeout)
	if waited := s.tl.now().Sub(start); waited < timeout {
		s.errorf("the third Acquire gave up after %v, before its timeout %v", waited, timeout)
	}
	if got := s.semHolders(a, bb, c); got != n {
		s.fatalf("%s: after the third waited, %d semaphores hold a slot, want %d", semViolation, got, n)
	}
	_, err = a.TryAcquire()
	s.checkErr("TryAcquire by a holder", err, locker.ErrAlreadyLocked)
	s.requireErr("the first holder's Release", a.Release(), nil)
	s.checkErr("the first holder's second Release", a.Release(), locker.ErrNotLocked)
	sc, err := s.tryAcquire(c)
	s.requireErr("the third TryAcquire once a slot is free", err, nil)
	if sc.Index != sa.Index {
		s.errorf("the third semaphore got slot %d, want the one released, %d", sc.Index, sa.Index)
	}
	if got := s.semHolders(a, bb, c); got != n {
		s.fatalf("%s: %d semaphores hold a slot, want %d", semViolation, got, n)
	}
	st, err := a.Status()
	if err != nil || st.Slots != n || len(st.Holders) != n || st.Next != nil {
		s.errorf("Status: %+v, %s; want %d slots, all held, no one next", st, errText(err), n)
	}
	s.checkErr("the second holder's Release", bb.Release(), nil)
	s.checkErr("the third holder's Release", c.Release(), nil)
	s.wantFiles("after every holder released (the count of slots stays)", s.countFile("slots"))
}

func scenarioSemDeadHolder(t *testing.T, b Backend) {
	for _, how := range []string{"TryAcquire", "Acquire"} {
		// Each way runs again on its own when its real-time margins were not met.
		t.Run(how, func(t *testing.T) {
			runTimed(t, b, func(t *testing.T, b Backend) {
				s := newScene(t, b, "a dead holder's slot is recovered once it has been expired for longer than the slop, not before; a waiter recovers it within a backoff step of then")
				dead := s.newSem(nil, 1)
				if _, err := dead.Acquire(s.ctx); err != nil {
					s.fatalf("the holder's Acquire: %v", err)
				}
				boundary := s.slotExpiry(dead, dead).Add(s.tl.slop)
				slot := s.slotFile("slot", 0)
				next := s.newSem(nil, 1, long)
				if how == "Acquire" {
					got := s.goDo(func() error { _, err := next.Acquire(s.ctx); return err })
					before := boundary
					if s.tl.virtual == nil {
						before = boundary.Add(-s.tl.near - s.tl.lag)
					}
					s.stepTo(before)
					ok := s.stillWaiting("the waiter's Acquire", "the dead holder's slot may not be broken yet", got)
					if !s.inTime(boundary, "checking that the waiter still waits") {
						return
					}
					if !ok || dead.Held() == nil || !dead.Held().IsLocked() {
						s.fatalf("%s: the dead holder's slot was broken before its expiry+slop %s (now %s)", semViolation, s.tl.at(boundary), s.tl.at(s.tl.now()))
					}
					limit := boundary.Add(s.tl.maxBackoff + s.tl.lag + 10*driveStep)
					s.requireErr("the waiter's Acquire", s.drive("the waiter's Acquire", got, limit, 2), nil)
					if at := s.tl.now(); at.Before(boundary.Add(-s.tl.tolerance)) {
						s.errorf("the waiter got the dead holder's slot at %s, before its expiry+slop %s", s.tl.at(at), s.tl.at(boundary))
					}
				} else {
					// The try is several lock operations (the gate, the count, a slot), each
					// a round trip or more on a network filesystem: it starts early enough
					// to end before the boundary.
					early := 4 * s.tl.near
					for _, p := range []struct {
						offset time.Duration
						name   string
					}{{-early, "expiry+slop-" + early.String()}, {0, "expiry+slop"}} {
						if p.offset == 0 && s.tl.virtual == nil {
							continue
						}
						s.tl.advanceTo(boundary.Add(p.offset))
						what := "TryAcquire at the dead holder's " + p.name
						_, err := next.TryAcquire()
						if !s.inTime(boundary, what) {
							return
						}
						if !s.checkErr(what, err, locker.ErrBusy) || !dead.Held().IsLocked() {
							s.fatalf("%s: after %s the dead holder's slot is %s", semViolation, what, s.describe(s.look(slot)))
						}
					}
					s.tl.advanceTo(boundary.Add(s.tl.near))
					_, err := next.TryAcquire()
					s.requireErr("TryAcquire once the dead holder's slot expired for longer than the slop", err, nil)
				}
				if dead.Held().IsLocked() || !next.Held().IsLocked() {
					s.fatalf("%s: the dead holder's IsLocked = %v, its successor's = %v; want false, true", semViolation, dead.Held().IsLocked(), next.Held().IsLocked())
				}
				s.checkErr("the broken holder's Release", dead.Release(), locker.ErrNotLocked)
				s.checkErr("the successor's Release", next.Release(), nil)
				s.wantFiles("after the successor released (the dead holder's claim file went with its slot)", s.countFile("slots"))
			})
		})
	}
}

func scenarioSemOtherN(t *testing.T, b Backend) {
	s := newScene(t, b, "a semaphore asked for with another N than the one recorded is refused with ErrInvalid naming both, and changes and leaves nothing")
	a := s.newSem(nil, 3, long)
	sa, err := a.TryAcquire()
	s.requireErr("TryAcquire of a semaphore of 3", err, nil)
	held := s.slotFile("slot", sa.Index)
	want := []string{s.countFile("slots"), held, a.Held().ClaimFile()}
	before := s.look(s.countFile("slots"))
	other := s.newSem(nil, 2)
	for _, op := range []string{"TryAcquire", "Acquire"} {
		var err error
		if op == "TryAcquire" {
			_, err = other.TryAcquire()
		} else {
			_, err = other.Acquire(s.ctx)
		}
		what := op + " of a semaphore of 2 where one of 3 is recorded"
		if s.checkErr(what, err, locker.ErrInvalid) {
			for _, n := range []string{"3", "2"} {
				if !strings.Contains(err.Error(), n) {
					s.errorf("%s: message %q does not name %s", what, err, n)
				}
			}
		}
		s.wantFiles("after the refused "+op, want...)
	}
	if after := s.look(s.countFile("slots")); !after.equal(before) {
		s.errorf("the refused semaphore changed the count file: before %s; after %s", s.describe(before), s.describe(after))
	}
	s.checkErr("the holder's Release", a.Release(), nil)
	_, err = other.TryAcquire()
	s.checkErr("TryAcquire of a semaphore of 2 once no slot is held (3 recorded)", err, locker.ErrInvalid)
	s.wantFiles("after everyone left", s.countFile("slots"))
}

func scenarioSemGateOrder(t *testing.T, b Backend) {
	s := newScene(t, b, "waiters take slots in the order they passed the gate: the one that passed it first gets the freed slot, not a later one nor one that merely tries")
	holder := s.newSem(nil, 1, long)
	first, second, prober := s.newSem(nil, 1, long), s.newSem(nil, 1, long), s.newSem(nil, 1, long)
	_, err := holder.Acquire(s.ctx)
	s.requireErr("the holder's Acquire", err, nil)
	got1 := s.goDo(func() error { _, err := first.Acquire(s.ctx); return err })
	s.waitUntil("the first waiter holds the gate", func() bool {
		st, err := holder.Status()
		return err == nil && st.Next != nil && st.Next.PID == first.Gate().PID()
	})
	got2 := s.goDo(func() error { _, err := second.Acquire(s.ctx); return err })
	s.moveOn(10*driveStep, 3)
	if !s.stillWaiting("the first waiter's Acquire", "the one slot is held", got1) || !s.stillWaiting("the second waiter's Acquire", "the one slot is held", got2) {
		s.t.FailNow()
	}
	s.requireErr("the holder's Release", holder.Release(), nil)
	// At once, before the first waiter looks again: one that merely tries
	// must not take the slot the first waiter waits for at the gate.
	tried := s.goDo(func() error { _, err := prober.TryAcquire(); return err })
	s.checkErr("a TryAcquire as the slot is freed, while a waiter holds the gate", s.drive("the TryAcquire", tried, s.tl.now().Add(s.tl.lifetime/4), 4), locker.ErrBusy)
	s.requireErr("the first waiter's Acquire", s.drive("the first waiter's Acquire", got1, s.tl.now().Add(s.tl.lifetime/4), 3), nil)
	s.moveOn(10*driveStep, 1)
	if !s.stillWaiting("the second waiter's Acquire", "the first waiter, which passed the gate before it, holds the one slot", got2) {
		s.t.FailNow()
	}
	if st, err := holder.Status(); err != nil || len(st.Holders) != 1 || st.Holders[0].PID != first.Gate().PID() {
		s.fatalf("%s: Status shows holders %+v (%s); want the first waiter alone", semViolation, st.Holders, errText(err))
	}
	s.requireErr("the first waiter's Release", first.Release(), nil)
	s.requireErr("the second waiter's Acquire", s.drive("the second waiter's Acquire", got2, s.tl.now().Add(s.tl.lifetime/4), 2), nil)
	s.checkErr("the second waiter's Release", second.Release(), nil)
	s.wantFiles("after everyone left", s.countFile("slots"))
}

func scenarioSemFIFO(t *testing.T, b Backend) {
	s := newScene(t, b, "waiters queue at the gate and take the slot in the order they came, however many wait: the oldest waiter is never passed over")
	needQueue(t, b, s.env.FS) // the gate queues only where the backend lists directories
	holder := s.newSem(nil, 1, long)
	_, err := holder.Acquire(s.ctx)
	s.requireErr("the holder's Acquire", err, nil)
	waiters := []*locker.Semaphore{s.newSem(nil, 1, long), s.newSem(nil, 1, long), s.newSem(nil, 1, long), s.newSem(nil, 1, long)}
	var done []<-chan error
	for i, w := range waiters {
		done = append(done, s.goDo(func() error { _, err := w.Acquire(s.ctx); return err }))
		if i == 0 {
			s.waitUntil("the first waiter holds the gate", func() bool {
				st, err := holder.Status()
				return err == nil && st.Next != nil && st.Next.PID == w.Gate().PID()
			})
			continue
		}
		s.waitUntil(fmt.Sprintf("waiter %d queues at the gate", i+1), func() bool { return len(s.tickets()) == i })
	}
	s.requireErr("the holder's Release", holder.Release(), nil)
	for n := range waiters {
		i, err := s.firstToReturn(fmt.Sprintf("the %d waiters' Acquires", len(waiters)-n), done[n:], s.tl.now().Add(s.tl.lifetime))
		i += n
		s.requireErr(fmt.Sprintf("waiter %d's Acquire", i+1), err, nil)
		if i != n {
			s.fatalf("waiter %d took the slot before waiter %d, which came before it (tickets now %q)", i+1, n+1, s.tickets())
		}
		if st, err := holder.Status(); err != nil || len(st.Holders) != 1 || st.Holders[0].PID != waiters[n].Gate().PID() {
			s.fatalf("%s: Status shows holders %+v (%s); want waiter %d alone", semViolation, st.Holders, errText(err), n+1)
		}
		s.requireErr(fmt.Sprintf("waiter %d's Release", n+1), waiters[n].Release(), nil)
	}
	s.wantFiles("after everyone left", s.countFile("slots"))
}

func scenarioSemLostReplies(t *testing.T, b Backend) {
	for _, f := range sharedFaults {
		t.Run(f.name, func(t *testing.T) {
			s := newScene(t, b, "a process whose rename of the count file, or link of its slot, fails for a moment (ESTALE, or ENOENT as if its temporary file had been removed) or is done but its reply lost, takes its slot all the same, and leaves the files right")
			name := s.countFile("slots")
			if f.slot {
				name = s.slotFile("slot", 0)
			}
			faults := faultfs.New(s.env.FS)
			lostReply(faults, f.op, name, f.lose, f.err)
			sem := s.newSem(faults, 2)
			slot, err := sem.Acquire(s.ctx)
			s.requireErr("Acquire", err, nil)
			if slot.Index != 0 || !sem.Held().IsLocked() {
				s.errorf("Acquire took slot %d, IsLocked = %v; want slot 0, true", slot.Index, sem.Held().IsLocked())
			}
			if c := s.look(s.countFile("slots")); strings.TrimSpace(c.contents) != "2" {
				s.errorf("%s shows %s, want 2", s.countFile("slots"), s.describe(c))
			}
			if faults.Calls(f.op) == 0 {
				s.errorf("no %v call was made on %s: the scenario injected nothing", f.op, name)
			}
			other := s.newSem(nil, 2)
			if o, err := other.TryAcquire(); err != nil || o.Index != 1 {
				s.errorf("another TryAcquire: slot %d, %s; want slot 1", o.Index, errText(err))
			}
			s.checkErr("the other's Release", other.Release(), nil)
			s.checkErr("Release", sem.Release(), nil)
			s.wantFiles("after everyone left", s.countFile("slots"))
		})
	}
}

func scenarioSemBadInput(t *testing.T, b Backend) {
	s := newScene(t, b, "bad input is refused with a clear error and leaves no file behind: 0, a negative or too many slots, an empty path, a separator in the path, a missing directory, a count file that holds no count (left as it was)")
	for _, c := range []struct {
		what string
		path string
		n    int
	}{
		{"0 slots", s.path, 0},
		{"-1 slots", s.path, -1},
		{"2^20+1 slots", s.path, 1<<20 + 1},
		{"an empty path", "", 1},
		{"a path with the separator", s.path + locker.DefaultSeparator + "x", 1},
	} {
		_, err := locker.NewSemaphore(c.path, c.n, s.env.FS, s.procOpts()...)
		s.checkErr("NewSemaphore with "+c.what, err, locker.ErrInvalid)
		if c.n != 1 && err != nil && !strings.Contains(err.Error(), strconv.Itoa(c.n)) {
			s.errorf("NewSemaphore with %s: message %q does not name %d", c.what, err, c.n)
		}
	}
	s.wantFiles("after the refused NewSemaphores")

	missing := s.env.Dir + "/missing/resource.lock"
	if sem, err := locker.NewSemaphore(missing, 2, s.env.FS, s.procOpts()...); err == nil {
		if _, err := sem.TryAcquire(); err == nil {
			s.errorf("TryAcquire in a missing directory: nil error, want one")
		}
	}
	s.wantFiles("after a semaphore in a missing directory was refused")

	for _, junk := range []string{"not a count\n", "-3\n"} {
		if err := s.env.FS.WriteFile(s.countFile("slots"), []byte(junk), 0o644); err != nil {
			s.fatalf("writing a foreign count file: %v", err)
		}
		before := s.look(s.countFile("slots"))
		sem := s.newSem(nil, 2)
		_, err := sem.TryAcquire()
		s.checkErr(fmt.Sprintf("TryAcquire with a count file holding %q", junk), err, locker.ErrForeignFile)
		_, err = sem.Acquire(s.ctx)
		s.checkErr(fmt.Sprintf("Acquire with a count file holding %q", junk), err, locker.ErrForeignFile)
		if after := s.look(s.countFile("slots")); !after.equal(before) {
			s.errorf("the foreign count file changed: before %s; after %s", s.describe(before), s.describe(after))
		}
		s.wantFiles("after the refused TryAcquire and Acquire", s.countFile("slots"))
		if err := s.env.FS.Remove(s.countFile("slots")); err != nil {
			s.fatalf("removing the foreign count file: %v", err)
		}
	}
}
