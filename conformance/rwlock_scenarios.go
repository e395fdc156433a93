package conformance

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// The rules of the shared lock (docs/algorithm.md, "Shared locks and
// semaphores"), one scenario each.
var rwScenarios = []struct {
	name string
	run  func(*testing.T, Backend)
}{
	{"ReadersShare", scenarioRWReadersShare},
	{"WriterExcludes", scenarioRWWriterExcludes},
	{"WaitingWriterStopsNewReaders", scenarioRWWriterPreference},
	{"DeadReaderBrokenAfterLifetimePlusSlop", scenarioRWDeadReader},
	{"DeadWriterBrokenAfterLifetimePlusSlop", scenarioRWDeadWriter},
	{"StalledReaderDoesNotReadBesideWriter", scenarioRWStalledReader},
	{"WriterThatLostTheGateDoesNotWrite", scenarioRWWriterLostGate},
	{"NoWaiterStarvedAtNinetyNineToOne", scenarioRWNoStarvation},
	{"WriterTokensIncrease", scenarioRWTokens},
	{"LostRepliesSurvived", scenarioRWLostReplies},
	{"BadInputLeavesNothing", scenarioRWBadInput},
}

// long is a lifetime no scenario outlives: for the holders whose locks
// must not expire while the scenario looks at something else.
var long = locker.WithLifetime(time.Hour)

// countFile is the base name of the count file of the scene's RWLock
// (kind "readers") or Semaphore (kind "slots").
func (s *scene) countFile(kind string) string { return s.path + "." + kind }

// withAuto runs f with a virtual clock moving by itself while f sleeps
// (a TryRLock or TryAcquire tries a busy gate a few times, a few
// milliseconds apart); only for calls that start no keep-alive, whose
// sleeps would move the clock too.
func (s *scene) withAuto(f func()) {
	if s.tl.virtual != nil {
		s.tl.virtual.AutoAdvance(true)
		defer s.tl.virtual.AutoAdvance(false)
	}
	f()
}

// tryRLock is rw.TryRLock with the clock moving while it tries the gate.
func (s *scene) tryRLock(rw *locker.RWLock) (err error) {
	s.withAuto(func() { err = rw.TryRLock() })
	return err
}

// waitUntil waits, in real time, until cond holds (a goroutine has
// taken a free lock: it needs no time of the scene's clock to do so).
func (s *scene) waitUntil(what string, cond func() bool) {
	s.t.Helper()
	end := time.Now().Add(safetyTimeout)
	for !cond() {
		if time.Now().After(end) {
			s.fatalf("%s: not so after %v of real time", what, safetyTimeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// reads reports whether who holds a reader slot, by rw's Status (who's
// own methods wait while who waits in RLock on another goroutine).
func (s *scene) reads(rw, who *locker.RWLock) bool {
	s.t.Helper()
	st, err := rw.Status()
	if err != nil {
		s.fatalf("Status: %v", err)
	}
	for _, r := range st.Readers {
		if r.PID == who.Gate().PID() && r.Hostname == who.Gate().Hostname() {
			return true
		}
	}
	return false
}

// gateHolder returns the pid of the gate's holder, 0 if none.
func (s *scene) rwGateHolder(rw *locker.RWLock) int {
	s.t.Helper()
	st, err := rw.Status()
	if err != nil {
		s.fatalf("Status: %v", err)
	}
	if st.Gate == nil {
		return 0
	}
	return st.Gate.PID
}

func scenarioRWReadersShare(t *testing.T, b Backend) {
	s := newScene(t, b, "readers share the lock: others get in beside a reader, by RLock and by TryRLock, and one leaving takes no other out")
	r := []*locker.RWLock{s.newRW(nil, long), s.newRW(nil, long), s.newRW(nil, long)}
	s.requireErr("the first reader's RLock", r[0].RLock(s.ctx), nil)
	s.requireErr("a second reader's TryRLock beside the first", s.tryRLock(r[1]), nil)
	s.requireErr("a third reader's RLock beside two", r[2].RLock(s.ctx), nil)
	for i, rw := range r {
		if !rw.IsLocked() {
			s.errorf("reader %d: IsLocked = false with three readers in, want true", i+1)
		}
	}
	st, err := r[0].Status()
	if err != nil || len(st.Readers) != 3 || st.Gate != nil {
		s.errorf("Status with three readers: %+v, %s; want three readers and no gate holder (a reader holds the gate only to enter)", st, errText(err))
	}
	s.checkErr("RLock by a reader that reads", r[0].RLock(s.ctx), locker.ErrAlreadyLocked)
	s.checkErr("the second reader's RUnlock", r[1].RUnlock(), nil)
	if !r[0].IsLocked() || !r[2].IsLocked() {
		s.errorf("after the second reader left: IsLocked of the first and third = %v, %v; want true, true", r[0].IsLocked(), r[2].IsLocked())
	}
	s.checkErr("the second reader's RLock again", r[1].RLock(s.ctx), nil)
	for i, rw := range r {
		s.checkErr(fmt.Sprintf("reader %d's RUnlock", i+1), rw.RUnlock(), nil)
	}
	s.checkErr("RUnlock by a reader that left", r[0].RUnlock(), locker.ErrNotLocked)
	s.wantFiles("after every reader left (the count of reader slots stays)", s.countFile("readers"))
}

func scenarioRWWriterExcludes(t *testing.T, b Backend) {
	s := newScene(t, b, "a writer excludes readers and other writers: it does not get in while a reader reads, and while it writes no reader and no other writer gets in")
	reader := s.newRW(nil, long)
	timeout := 3 * s.tl.near
	if s.tl.virtual != nil {
		timeout = s.tl.lifetime / 2
	}
	writer := s.newRW(nil, long, locker.WithTimeout(timeout))
	other := s.newRW(nil, long)
	s.requireErr("the reader's RLock", reader.RLock(s.ctx), nil)

	s.checkErr("a writer's TryLock while a reader reads", writer.TryLock(), locker.ErrBusy)
	if !reader.IsLocked() {
		s.fatalf("%s: the reader's IsLocked = false after a writer's TryLock, want true", rwViolation)
	}
	if pid := s.rwGateHolder(reader); pid != 0 {
		s.errorf("after the writer's refused TryLock: pid %d holds the gate, want it free (a refused writer lets it go)", pid)
	}
	start := s.tl.now()
	err := s.drive("a writer's Lock with a timeout", s.goDo(func() error { return writer.Lock(s.ctx) }), start.Add(2*timeout), 2)
	s.checkErr(fmt.Sprintf("a writer's Lock with WithTimeout(%v) while a reader reads", timeout), err, locker.ErrTimeout)
	if waited := s.tl.now().Sub(start); waited < timeout {
		s.errorf("the writer's Lock gave up after %v, before its timeout %v", waited, timeout)
	}
	if !reader.IsLocked() {
		s.fatalf("%s: the reader's IsLocked = false after a writer waited for it, want true", rwViolation)
	}
	s.requireErr("the reader's RUnlock", reader.RUnlock(), nil)

	s.requireErr("the writer's Lock once the reader left", writer.Lock(s.ctx), nil)
	s.checkErr("a reader's TryRLock while the writer writes", s.tryRLock(reader), locker.ErrBusy)
	s.checkErr("another writer's TryLock while the writer writes", func() (err error) { s.withAuto(func() { err = other.TryLock() }); return err }(), locker.ErrBusy)
	s.checkErr("Lock by the writer that writes", writer.Lock(s.ctx), locker.ErrAlreadyLocked)
	s.checkErr("RLock by the writer that writes", writer.RLock(s.ctx), locker.ErrAlreadyLocked)
	if !writer.IsLocked() {
		s.fatalf("%s: the writer's IsLocked = false after others tried, want true", rwViolation)
	}
	if reader.IsLocked() || other.IsLocked() {
		s.fatalf("%s: while the writer writes, the reader's IsLocked = %v, the other writer's = %v", rwViolation, reader.IsLocked(), other.IsLocked())
	}
	s.checkErr("RUnlock by the writer", writer.RUnlock(), locker.ErrNotLocked)
	s.checkErr("the writer's Unlock", writer.Unlock(), nil)
	s.checkErr("the writer's second Unlock", writer.Unlock(), locker.ErrNotLocked)

	s.checkErr("the reader's TryRLock once the writer left", s.tryRLock(reader), nil)
	s.checkErr("the reader's RUnlock", reader.RUnlock(), nil)
	s.checkErr("the other writer's TryLock once everyone left", other.TryLock(), nil)
	s.checkErr("the other writer's Unlock", other.Unlock(), nil)
	s.wantFiles("after everyone left", s.countFile("readers"))
}

func scenarioRWWriterPreference(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiting writer stops new readers (writer preference): while it waits for the reader inside, a new reader does not get in; once that reader leaves the writer gets in, before the new reader")
	first, late := s.newRW(nil, long), s.newRW(nil, long)
	writer := s.newRW(nil, long)
	s.requireErr("the first reader's RLock", first.RLock(s.ctx), nil)

	wrote := s.goDo(func() error { return writer.Lock(s.ctx) })
	s.waitUntil("the writer holds the gate while it waits for the reader", func() bool {
		return s.rwGateHolder(first) == writer.Gate().PID()
	})
	if !s.stillWaiting("the writer's Lock", "a reader is inside", wrote) {
		s.t.FailNow()
	}
	tried := s.goDo(late.TryRLock)
	err := s.drive("the new reader's TryRLock", tried, s.tl.now().Add(s.tl.lifetime/4), 3)
	s.checkErr("a new reader's TryRLock while a writer waits", err, locker.ErrBusy)
	read := s.goDo(func() error { return late.RLock(s.ctx) })
	if !s.stillWaiting("the new reader's RLock", "a writer waits (writer preference)", read) {
		s.t.FailNow()
	}
	if s.reads(first, late) {
		s.fatalf("%s: the new reader holds a reader slot while a writer waits", rwViolation)
	}
	s.requireErr("the first reader's RUnlock", first.RUnlock(), nil)
	s.requireErr("the waiting writer's Lock once the reader left", s.drive("the writer's Lock", wrote, s.tl.now().Add(s.tl.lifetime/4), 3), nil)
	s.moveOn(10*driveStep, 1)
	if !s.stillWaiting("the new reader's RLock", "the writer that waited before it writes", read) {
		s.t.FailNow()
	}
	if !writer.IsLocked() || s.reads(first, late) {
		s.fatalf("%s: writer's IsLocked = %v, the new reader holds a reader slot: %v; want true, false", rwViolation, writer.IsLocked(), s.reads(first, late))
	}
	s.requireErr("the writer's Unlock", writer.Unlock(), nil)
	s.requireErr("the new reader's RLock once the writer left", s.drive("the new reader's RLock", read, s.tl.now().Add(s.tl.lifetime/4), 1), nil)
	s.checkErr("the new reader's RUnlock", late.RUnlock(), nil)
	s.wantFiles("after everyone left", s.countFile("readers"))
}

// stepTo moves a virtual clock to when a second at a time, giving the
// goroutines a moment between steps (a waiter's keep-alive refreshes on
// the way, as it would); on the real clock it sleeps until then.
func (s *scene) stepTo(when time.Time) {
	if s.tl.virtual == nil {
		s.tl.advanceTo(when)
		return
	}
	for s.tl.now().Before(when) {
		s.tl.advance(min(time.Second, when.Sub(s.tl.now())))
		time.Sleep(time.Millisecond)
	}
}

func scenarioRWDeadReader(t *testing.T, b Backend) {
	for _, how := range []string{"TryLock", "Lock"} {
		// Each way runs again on its own when its real-time margins were not met.
		t.Run(how, func(t *testing.T) {
			runTimed(t, b, func(t *testing.T, b Backend) {
				s := newScene(t, b, "a dead reader's slot is broken by a writer only once it has been expired for longer than the slop, never before; a waiting writer breaks it within a backoff step of then")
				dead := s.newRW(nil)
				s.requireErr("the reader's RLock", dead.RLock(s.ctx), nil)
				boundary := s.readerExpiry(dead, dead).Add(s.tl.slop)
				slot := s.slotFile("reader", 0)
				writer := s.newRW(nil, long)
				if how == "Lock" {
					s.rwWaitingBreaker(dead, writer, boundary, slot)
					return
				}
				// The try is several lock operations (the gate, the count, a slot), each
				// a round trip or more on a network filesystem: it starts early enough
				// to end before the boundary.
				early := 4 * s.tl.near
				for _, p := range []struct {
					offset time.Duration
					name   string
				}{{-early, "expiry+slop-" + early.String()}, {0, "expiry+slop"}} {
					if p.offset == 0 && s.tl.virtual == nil {
						continue // the real clock cannot stop at an instant
					}
					s.tl.advanceTo(boundary.Add(p.offset))
					what := "a writer's TryLock at the dead reader's " + p.name
					err := writer.TryLock()
					if !s.inTime(boundary, what) {
						return
					}
					if !s.checkErr(what, err, locker.ErrBusy) || !dead.IsLocked() {
						s.fatalf("%s: after %s the dead reader's IsLocked = %v, its slot %s; want its slot intact", rwViolation, what, dead.IsLocked(), s.describe(s.look(slot)))
					}
				}
				s.tl.advanceTo(boundary.Add(s.tl.near))
				s.requireErr("a writer's TryLock once the dead reader's slot expired for longer than the slop", writer.TryLock(), nil)
				s.rwBrokenReader(dead, writer, slot)
			})
		})
	}
}

// rwWaitingBreaker has writer wait for the dead reader, whose slot may be
// broken from boundary on, and checks when it gets in.
func (s *scene) rwWaitingBreaker(dead, writer *locker.RWLock, boundary time.Time, slot string) {
	s.t.Helper()
	wrote := s.goDo(func() error { return writer.Lock(s.ctx) })
	before := boundary.Add(-s.tl.near)
	if s.tl.virtual != nil {
		before = boundary // the writer wakes on the way, and is refused at the boundary itself
	} else {
		before = before.Add(-s.tl.lag)
	}
	s.stepTo(before)
	ok := s.stillWaiting("the writer's Lock", "the dead reader's slot may not be broken yet", wrote)
	if !s.inTime(boundary, "checking that the writer still waits") {
		return
	}
	if !ok || !dead.IsLocked() {
		s.fatalf("%s: at %s, before the dead reader's expiry+slop %s, its IsLocked = %v, its slot %s", rwViolation, s.tl.at(s.tl.now()), s.tl.at(boundary), dead.IsLocked(), s.describe(s.look(slot)))
	}
	limit := boundary.Add(s.tl.maxBackoff + s.tl.lag + 10*driveStep)
	s.requireErr("the writer's Lock", s.drive("the writer's Lock", wrote, limit, 2), nil)
	if at := s.tl.now(); at.Before(boundary.Add(-s.tl.tolerance)) || at.After(limit.Add(s.tl.tolerance)) {
		s.errorf("the writer got in at %s, want after the dead reader's expiry+slop %s and by %s", s.tl.at(at), s.tl.at(boundary), s.tl.at(limit))
	}
	s.rwBrokenReader(dead, writer, slot)
}

// rwBrokenReader checks the state after writer broke the dead reader's
// slot, and releases.
func (s *scene) rwBrokenReader(dead, writer *locker.RWLock, slot string) {
	s.t.Helper()
	if dead.IsLocked() || !writer.IsLocked() {
		s.fatalf("%s: after the writer got in, the dead reader's IsLocked = %v, the writer's = %v; want false, true", rwViolation, dead.IsLocked(), writer.IsLocked())
	}
	if f := s.look(slot); f.exists {
		s.errorf("after the writer passed the dead reader: its slot %s is still there: %s", slot, s.describe(f))
	}
	s.checkErr("the broken reader's RUnlock", dead.RUnlock(), locker.ErrNotLocked)
	s.checkErr("the writer's Unlock", writer.Unlock(), nil)
	s.wantFiles("after the writer left (the dead reader's claim file went with its slot)", s.countFile("readers"))
}

func scenarioRWDeadWriter(t *testing.T, b Backend) {
	s := newScene(t, b, "a dead writer's gate is broken only once it has been expired for longer than the slop: then a reader gets in, and a writer after it")
	// On the real clock the dead writer lives a second longer than the
	// others, so that two tries of its gate (some 250 ms each) fit before
	// it may be broken.
	lifetime := s.tl.lifetime
	if s.tl.virtual == nil {
		lifetime += time.Second
	}
	dead := s.newRW(nil, locker.WithLifetime(lifetime))
	s.requireErr("the writer's Lock", dead.Lock(s.ctx), nil)
	exp, err := dead.Gate().Expiration()
	s.requireErr("the gate's Expiration", err, nil)
	boundary := exp.Add(s.tl.slop)
	reader, writer := s.newRW(nil, long), s.newRW(nil, long)

	// A TryRLock or TryLock tries the gate for some 250 ms; both must end
	// before the gate may be broken.
	s.tl.advanceTo(boundary.Add(-s.tl.near - 600*time.Millisecond))
	err = s.tryRLock(reader)
	if !s.inTime(boundary, "a reader's TryRLock before the dead writer's expiry+slop") {
		return
	}
	s.checkErr("a reader's TryRLock before the dead writer's expiry+slop", err, locker.ErrBusy)
	s.withAuto(func() { err = writer.TryLock() })
	if !s.inTime(boundary, "a writer's TryLock before the dead writer's expiry+slop") {
		return
	}
	s.checkErr("a writer's TryLock before the dead writer's expiry+slop", err, locker.ErrBusy)
	if !dead.IsLocked() {
		s.fatalf("%s: the dead writer's gate was broken before its expiry+slop %s (now %s)", rwViolation, s.tl.at(boundary), s.tl.at(s.tl.now()))
	}

	s.tl.advanceTo(boundary.Add(s.tl.near))
	s.requireErr("a reader's TryRLock once the dead writer's gate expired for longer than the slop", s.tryRLock(reader), nil)
	if dead.IsLocked() {
		s.fatalf("%s: a reader got in, and the dead writer's IsLocked = true", rwViolation)
	}
	s.checkErr("the broken writer's Unlock", dead.Unlock(), locker.ErrNotLocked)
	s.checkErr("a writer's TryLock while the reader reads", writer.TryLock(), locker.ErrBusy)
	s.checkErr("the reader's RUnlock", reader.RUnlock(), nil)
	s.checkErr("a writer's TryLock once the reader left", writer.TryLock(), nil)
	s.checkErr("the writer's Unlock", writer.Unlock(), nil)
	s.wantFiles("after everyone left (the dead writer's claim file went with its gate)", s.countFile("readers"))
}

func scenarioRWStalledReader(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name  string
		taken bool // the reader stalls after taking its slot, not before
	}{{"BeforeTakingItsSlot", false}, {"AfterTakingItsSlot", true}} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, "a reader that stalls holding the gate past its lifetime, while a writer breaks the gate and passes the reader slots, does not end up reading beside the writer: it gives its slot back and enters again once the writer has left")
			slot := s.slotFile("reader", 0)
			faults := faultfs.New(s.env.FS)
			at := func(op faultfs.Op, args []string) bool {
				return strings.HasPrefix(args[len(args)-1], slot)
			}
			if tc.taken {
				at = after(faultfs.OpLink, slot)
			}
			paused, goOn := s.pauseAt(faults, at)
			stalled := s.newRW(faults)
			read := s.startPaused("the stalled reader's RLock", func() error { return stalled.RLock(s.ctx) }, paused)
			gate := s.look(s.path)
			if !gate.exists {
				s.fatalf("the stalled reader holds no gate")
			}
			s.tl.advanceTo(gate.mtime.Add(s.tl.slop + s.tl.near))
			writer := s.newRW(nil, long)
			s.requireErr("the writer's TryLock, breaking the stalled reader's expired gate", writer.TryLock(), nil)
			goOn()
			waiting := true
			select {
			case err := <-read:
				waiting = false
				if err == nil {
					s.fatalf("%s: the stalled reader's RLock returned nil while the writer writes (writer's IsLocked = %v, reader's = %v)", rwViolation, writer.IsLocked(), stalled.IsLocked())
				}
				if !tc.taken {
					s.errorf("the stalled reader's RLock returned %s; want it to give its slot back and wait at the gate", errText(err))
				} else {
					t.Logf("the stalled reader, its slot broken too, gave up: %v", err)
				}
			case <-time.After(map[bool]time.Duration{true: 20 * time.Millisecond, false: s.tl.settle}[s.tl.virtual != nil]):
			}
			s.moveOn(10*driveStep, 1)
			if s.reads(writer, stalled) || !writer.IsLocked() {
				s.fatalf("%s: after the stalled reader resumed: it holds a reader slot: %v, the writer's IsLocked = %v; want false, true", rwViolation, s.reads(writer, stalled), writer.IsLocked())
			}
			if f := s.look(slot); f.exists {
				s.errorf("while the writer writes, reader slot %s is held: %s", slot, s.describe(f))
			}
			s.requireErr("the writer's Unlock", writer.Unlock(), nil)
			if waiting {
				s.requireErr("the stalled reader's RLock once the writer left", s.drive("the stalled reader's RLock", read, s.tl.now().Add(s.tl.lifetime), 1), nil)
				s.checkErr("the reader's RUnlock", stalled.RUnlock(), nil)
			}
			s.wantFiles("after everyone left", s.countFile("readers"))
		})
	}
}

// failingTouches is a faultfs.FS whose dating of one lock's claim files
// fails with EIO while failing is set: a server that stops taking a
// holder's refreshes, the lock left unbroken.
type failingTouches struct {
	*faultfs.FS
	prefix   string // the base name of the claim files, up to the separator
	now      func() time.Time
	failing  atomic.Bool
	last     atomic.Int64 // the scene's time of the last failed dating, Unix ns
	lastReal atomic.Int64 // and the real time, Unix ns
}

func (f *failingTouches) Chtimes(name string, atime, mtime time.Time) error {
	if f.failing.Load() && strings.HasPrefix(filepath.Base(name), f.prefix) {
		f.last.Store(f.now().UnixNano())
		f.lastReal.Store(time.Now().UnixNano())
		return &fs.PathError{Op: "utimensat", Path: name, Err: syscall.EIO}
	}
	return f.FS.Chtimes(name, atime, mtime)
}

// scenarioRWWriterLostGate: a writer waits for the readers inside,
// keeping the gate alive, and its refreshes fail until the gate has
// expired (unbroken: nobody else waits). Having then passed the last
// reader slot, it must report the gate lost, not write: any writer may
// now break the gate and pass the readers' slots, which are free.
func scenarioRWWriterLostGate(t *testing.T, b Backend) {
	s := newScene(t, b, "a writer whose gate was lost (its refreshes failed until it expired) while it passed the readers does not write: its Lock reports the loss")
	first, second := s.newRW(nil, long), s.newRW(nil, long)
	s.requireErr("the first reader's RLock", first.RLock(s.ctx), nil)
	s.requireErr("the second reader's RLock", second.RLock(s.ctx), nil)
	s.requireErr("the second reader's RUnlock (its slot stays below the count, free)", second.RUnlock(), nil)

	faults := faultfs.New(s.env.FS)
	touches := &failingTouches{FS: faults, prefix: filepath.Base(s.path) + locker.DefaultSeparator, now: s.tl.now}
	// The writer stops as it starts to take the second slot (it writes its
	// claim file), a moment after it took the first one, once the first
	// reader left.
	// It writes its claim on the first slot twice: for its try, which
	// finds the reader inside, and for its wait, which it keeps the gate
	// alive through.
	firstSlot, secondSlot := s.slotFile("reader", 0), s.slotFile("reader", 1)
	var firstSlotClaims atomic.Int32
	paused, goOn := s.pauseAt(faults, func(op faultfs.Op, args []string) bool {
		if op == faultfs.OpWriteFile && strings.HasPrefix(args[0], firstSlot+locker.DefaultSeparator) {
			firstSlotClaims.Add(1)
		}
		return op == faultfs.OpWriteFile && strings.HasPrefix(args[0], secondSlot+locker.DefaultSeparator)
	})
	writer := s.newRW(touches)
	wrote := s.goDo(func() error { return writer.Lock(s.ctx) })
	t.Cleanup(goOn) // before the wait for the writer, should the scenario end early
	s.waitUntil("the writer waits for the first reader, holding the gate", func() bool {
		return firstSlotClaims.Load() >= 2
	})
	if s.rwGateHolder(first) != writer.Gate().PID() {
		s.fatalf("the writer waits for the first reader, and the gate is not its own")
	}
	exp, err := writer.Gate().Expiration()
	s.requireErr("the gate's Expiration", err, nil)
	s.requireErr("the first reader's RUnlock", first.RUnlock(), nil)
	select {
	case <-paused:
	case err := <-wrote:
		s.fatalf("the writer's Lock returned %s before it took the second reader slot; this scenario needs it to stop there", errText(err))
	case <-time.After(safetyTimeout):
		s.fatalf("the writer did not come to the second reader slot within %v once the first reader left", safetyTimeout)
	}

	touches.failing.Store(true)
	t.Cleanup(func() { touches.failing.Store(false) }) // before goOn, should the scenario end early
	s.stepTo(exp.Add(s.tl.slop + s.tl.near))
	// A refresh that fails once the gate may have expired is the
	// keep-alive's last: it declares the gate lost. On the virtual clock
	// that is a failure at or after the expiry; on the real one, where
	// the keep-alive judges the expiry in the file server's clock, it is
	// the end of the failures (a keep-alive still at work retries within
	// the longest backoff step).
	gaveUp := func() bool { return !time.Unix(0, touches.last.Load()).Before(exp) }
	if s.tl.virtual == nil {
		quiet := 3*s.tl.maxBackoff + s.tl.lag
		gaveUp = func() bool { return time.Since(time.Unix(0, touches.lastReal.Load())) > quiet }
	}
	s.waitUntil("the writer's keep-alive gave up refreshing the gate, expired", func() bool {
		if s.tl.virtual != nil && !gaveUp() {
			s.tl.advance(driveStep)
		}
		return gaveUp()
	})
	if touches.last.Load() == 0 {
		s.fatalf("the writer's keep-alive never tried to refresh the gate while it waited for the readers; this scenario needs it to")
	}
	s.moveOn(10*driveStep, 1)
	touches.failing.Store(false)
	goOn()

	err = s.drive("the writer's Lock", wrote, s.tl.now().Add(s.tl.lifetime), 1)
	if err == nil {
		other := s.newRW(nil, long)
		s.withAuto(func() { err = other.TryLock() })
		s.fatalf("%s: the writer's Lock returned nil though its gate expired, unrefreshed, while it passed the readers; another writer's TryLock then: %s", rwViolation, errText(err))
	}
	s.checkErr("the writer's Lock", err, locker.ErrLost)
	if writer.IsLocked() {
		s.errorf("after its Lock failed, the writer's IsLocked = true")
	}
	other := s.newRW(nil, long)
	s.checkErr("another writer's TryLock after the first gave up", other.TryLock(), nil)
	s.checkErr("the other writer's Unlock", other.Unlock(), nil)
	s.wantFiles("after everyone left", s.countFile("readers"))
}

// scenarioRWNoStarvation: readers read without pause, their holds
// overlapping, so that the lock is never free of readers, while a writer
// writes now and then: about 99 reads to a write. The writer must get in
// each time (writer preference), and every reader must go on reading
// (readers wait only behind a writer, in the gate's queue). A starved
// waiter shows as a run that does not end: the scenario gives up after
// maxRounds of the writer's cycle.
func scenarioRWNoStarvation(t *testing.T, b Backend) {
	s := newScene(t, b, "at 99 reads to a write, with readers always inside, no waiter is starved: the writer gets in each time and every reader goes on reading")
	const (
		readers = 6
		writes  = 3
	)
	hold := 4 * s.tl.minBackoff // a read or a write
	if s.tl.virtual == nil {
		hold = max(hold, 2*time.Millisecond)
	}
	// The writer pauses between writes for as long as the readers take to
	// read some 99 times where a read costs little more than its hold
	// (memfs, a local disk: about 99:1). On a network filesystem, where a
	// reader's entry is a few round trips, fewer reads fit (about 8:1 on
	// sshfs); the rule checked is the same: the readers never let the
	// lock go free, and still no one is starved.
	pause := 99 * hold / readers * 3 / 2
	span := time.Duration(writes+2) * (pause + s.tl.lifetime)
	if s.tl.virtual == nil {
		// On the real clock a slow machine stretches every step: under
		// Wine on a loaded CI host each wait took 1.2 s, where 20 ms is
		// usual on a local disk and 200 ms under Wine alone. A starved
		// waiter never finishes, so a wider bound costs a passing run
		// nothing and still catches it.
		span *= 4
	}
	limit := s.tl.now().Add(span)
	var (
		mu        sync.Mutex
		reads     [readers]int
		inside    int // readers inside, by their own count
		writing   bool
		longest   [readers + 1]time.Duration
		violation string
	)
	wait := func(who int, start time.Time) {
		d := s.tl.now().Sub(start)
		mu.Lock()
		longest[who] = max(longest[who], d)
		mu.Unlock()
	}
	writerDone := make(chan struct{})
	var done []<-chan error
	for i := range readers {
		rw := s.newRW(nil, long)
		done = append(done, s.goDo(func() error {
			for n := 0; ; n++ {
				select {
				case <-writerDone:
					if n >= 2 {
						return nil
					}
				default:
				}
				if s.tl.now().After(limit) {
					return fmt.Errorf("reader %d still reading at %s, the writer not done", i+1, s.tl.at(s.tl.now()))
				}
				start := s.tl.now()
				if err := rw.RLock(s.ctx); err != nil {
					return fmt.Errorf("reader %d's RLock: %w", i+1, err)
				}
				wait(i, start)
				mu.Lock()
				if writing && violation == "" {
					violation = fmt.Sprintf("reader %d got in while the writer writes", i+1)
				}
				inside++
				reads[i]++
				mu.Unlock()
				// Holds of different lengths overlap, so that some
				// reader is nearly always inside.
				s.tl.clock.Sleep(s.ctx, hold*time.Duration(1+i%3))
				mu.Lock()
				inside--
				mu.Unlock()
				if err := rw.RUnlock(); err != nil {
					return fmt.Errorf("reader %d's RUnlock: %w", i+1, err)
				}
			}
		}))
	}
	writer := s.newRW(nil, long)
	wrote := s.goDo(func() error {
		defer close(writerDone)
		for w := range writes {
			s.tl.clock.Sleep(s.ctx, pause)
			start := s.tl.now()
			if err := writer.Lock(s.ctx); err != nil {
				return fmt.Errorf("the writer's Lock %d: %w", w+1, err)
			}
			wait(readers, start)
			mu.Lock()
			if inside > 0 && violation == "" {
				violation = fmt.Sprintf("the writer got in with %d readers inside", inside)
			}
			writing = true
			mu.Unlock()
			s.tl.clock.Sleep(s.ctx, hold)
			mu.Lock()
			writing = false
			mu.Unlock()
			if err := writer.Unlock(); err != nil {
				return fmt.Errorf("the writer's Unlock %d: %w", w+1, err)
			}
		}
		return nil
	})
	all := make(chan error, 1)
	go func() {
		var errs []error
		for _, d := range append(done, wrote) {
			errs = append(errs, <-d)
		}
		all <- errors.Join(errs...)
	}()
	s.checkErr("the readers and the writer", s.drive("the readers and the writer", all, limit.Add(s.tl.lifetime), readers+1), nil)
	mu.Lock()
	defer mu.Unlock()
	if violation != "" {
		s.fatalf("%s: %s", rwViolation, violation)
	}
	total := 0
	for _, n := range reads {
		total += n
	}
	t.Logf("%d reads to %d writes (%.0f:1); the longest waits: readers %v, writer %v (hold %v)", total, writes, float64(total)/writes, longest[:readers], longest[readers], hold)
	s.wantFiles("after everyone left", s.countFile("readers"))
}

func scenarioRWTokens(t *testing.T, b Backend) {
	s := newScene(t, b, "with WithFencing each writer gets a token one more than the last, a writer that breaks a dead writer's gate too; readers neither get tokens nor move the counter")
	w1, w2 := s.newRW(nil, locker.WithFencing()), s.newRW(nil, locker.WithFencing())
	reader := s.newRW(nil, locker.WithFencing())
	s.requireErr("the first writer's Lock", w1.Lock(s.ctx), nil)
	s.wantToken("the first writer", w1.Gate(), 1)
	s.requireErr("the first writer's Unlock", w1.Unlock(), nil)
	s.requireErr("a reader's RLock", reader.RLock(s.ctx), nil)
	if reader.Token() != 0 {
		s.errorf("the reader's Token() = %d, want 0 (readers get no token)", reader.Token())
	}
	s.requireErr("the reader's RUnlock", reader.RUnlock(), nil)
	s.requireErr("the second writer's Lock", w2.Lock(s.ctx), nil)
	s.wantToken("the second writer, after a reader came and went", w2.Gate(), 2)
	s.requireErr("the second writer's Unlock", w2.Unlock(), nil)
	s.requireErr("the first writer's TryLock", w1.TryLock(), nil)
	s.wantToken("the first writer again", w1.Gate(), 3)
	// It dies holding the lock.
	exp, err := w1.Gate().Expiration()
	s.requireErr("Expiration", err, nil)
	s.tl.advanceTo(exp.Add(s.tl.slop + s.tl.near))
	s.requireErr("the second writer's TryLock, breaking the dead writer's gate", w2.TryLock(), nil)
	s.wantToken("the second writer, breaking the dead one", w2.Gate(), 4)
	if w1.Token() >= w2.Token() {
		s.errorf("the dead writer's token %d is not less than its breaker's %d", w1.Token(), w2.Token())
	}
	s.checkErr("the broken writer's Unlock", w1.Unlock(), locker.ErrNotLocked)
	s.checkErr("the second writer's Unlock", w2.Unlock(), nil)
	s.wantFiles("after everyone left", s.countFile("readers"), s.path+".fence")
}

// lostReply makes the first call of op on fsys whose last name argument
// is name fail with err; lose says it is performed first (its reply lost).
func lostReply(fsys *faultfs.FS, op faultfs.Op, name string, lose bool, err error) {
	var once sync.Once
	fsys.SetHook(func(o faultfs.Op, args ...string) {
		if o == op && args[len(args)-1] == name {
			once.Do(func() {
				if lose {
					fsys.LoseReply(op, 1, err)
				} else {
					fsys.Fail(op, 1, err)
				}
			})
		}
	})
}

// A sharedFault is a fault a shared lock must see through.
type sharedFault struct {
	name string
	op   faultfs.Op
	slot bool // on a slot's lock file, else on the count file
	lose bool
	err  error
}

var sharedFaults = []sharedFault{
	{"CountRenameReplyLostESTALE", faultfs.OpRename, false, true, errStale},
	{"CountRenameReplyLostENOENT", faultfs.OpRename, false, true, syscall.ENOENT},
	{"CountRenameESTALE", faultfs.OpRename, false, false, errStale},
	// Not done, and ENOENT: as if the temporary file had been removed
	// (by a co-tenant) before the rename; it is written again.
	{"CountRenameENOENT", faultfs.OpRename, false, false, syscall.ENOENT},
	{"SlotLinkESTALE", faultfs.OpLink, true, false, errStale},
	{"SlotLinkReplyLost", faultfs.OpLink, true, true, syscall.EEXIST},
}

func scenarioRWLostReplies(t *testing.T, b Backend) {
	for _, f := range sharedFaults {
		for _, who := range []string{"Reader", "Writer"} {
			if who == "Writer" && f.slot {
				continue // a writer takes a slot only to pass it
			}
			t.Run(f.name+"/"+who, func(t *testing.T) {
				s := newScene(t, b, "a reader or writer whose rename of the count file, or link of its slot, fails for a moment (ESTALE, or ENOENT as if its temporary file had been removed) or is done but its reply lost, gets in all the same, and leaves the files right")
				name := s.countFile("readers")
				if f.slot {
					name = s.slotFile("reader", 0)
				}
				faults := faultfs.New(s.env.FS)
				lostReply(faults, f.op, name, f.lose, f.err)
				rw := s.newRW(faults)
				if who == "Writer" {
					// The writer writes the count (0) after passing a reader.
					r := s.newRW(nil)
					s.requireErr("a reader's RLock", r.RLock(s.ctx), nil)
					s.requireErr("the reader's RUnlock", r.RUnlock(), nil)
					s.requireErr("the writer's Lock", rw.Lock(s.ctx), nil)
					if c := s.look(name); strings.TrimSpace(c.contents) != "0" {
						s.errorf("after the writer passed the readers: %s shows %s, want 0", name, s.describe(c))
					}
					s.checkErr("the writer's Unlock", rw.Unlock(), nil)
				} else {
					s.requireErr("the reader's RLock", rw.RLock(s.ctx), nil)
					if !rw.IsLocked() {
						s.errorf("the reader's IsLocked = false after its RLock")
					}
					if c := s.look(s.countFile("readers")); strings.TrimSpace(c.contents) != "1" {
						s.errorf("after a reader entered: %s shows %s, want 1", s.countFile("readers"), s.describe(c))
					}
					other := s.newRW(nil)
					s.checkErr("a writer's TryLock beside the reader", other.TryLock(), locker.ErrBusy)
					s.checkErr("the reader's RUnlock", rw.RUnlock(), nil)
				}
				if faults.Calls(f.op) == 0 {
					s.errorf("no %v call was made on %s: the scenario injected nothing", f.op, name)
				}
				s.wantFiles("after everyone left", s.countFile("readers"))
			})
		}
	}
}

func scenarioRWBadInput(t *testing.T, b Backend) {
	s := newScene(t, b, "bad input is refused with a clear error and leaves no file behind: an empty path, a separator in the path, a lifetime of 0, a missing directory, a count file that holds no count (left as it was)")
	for _, c := range []struct {
		what string
		path string
		opts []locker.Option
	}{
		{"an empty path", "", nil},
		{"a path with the separator", s.path + locker.DefaultSeparator + "x", nil},
		{"a lifetime of 0", s.path, []locker.Option{locker.WithLifetime(0)}},
	} {
		_, err := locker.NewRWLock(c.path, s.env.FS, append(s.procOpts(), c.opts...)...)
		s.checkErr("NewRWLock with "+c.what, err, locker.ErrInvalid)
	}
	s.wantFiles("after the refused NewRWLocks")

	missing := s.env.Dir + "/missing/resource.lock"
	if rw, err := locker.NewRWLock(missing, s.env.FS, s.procOpts()...); err == nil {
		if err := rw.TryRLock(); err == nil {
			s.errorf("TryRLock in a missing directory: nil error, want one")
		}
		if err := rw.TryLock(); err == nil {
			s.errorf("TryLock in a missing directory: nil error, want one")
		}
	}
	s.wantFiles("after a lock in a missing directory was refused")

	junk := "not a count\n"
	if err := s.env.FS.WriteFile(s.countFile("readers"), []byte(junk), 0o644); err != nil {
		s.fatalf("writing a foreign count file: %v", err)
	}
	before := s.look(s.countFile("readers"))
	rw := s.newRW(nil)
	s.checkErr("RLock with a foreign count file", rw.RLock(s.ctx), locker.ErrForeignFile)
	s.checkErr("TryLock with a foreign count file", rw.TryLock(), locker.ErrForeignFile)
	if after := s.look(s.countFile("readers")); !after.equal(before) {
		s.errorf("the foreign count file changed: before %s; after %s", s.describe(before), s.describe(after))
	}
	if rw.IsLocked() {
		s.errorf("IsLocked = true after the refused RLock and TryLock")
	}
	s.wantFiles("after the refused RLock and TryLock", s.countFile("readers"))
	if left := s.claimsIn(); len(left) > 0 {
		s.errorf("claim or temporary files left: %q", left)
	}
}
