package conformance

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/vclock"
	"pgregory.net/rapid"
)

// The interleaving tests use flufl.lock's default times on a virtual clock.
const (
	propLifetime = locker.DefaultLifetime
	propSlop     = locker.DefaultClockSlop
)

// In the interleavings a waiting Lock gives up after propTimeout, and waits
// between attempts from propMinWait to propMaxWait: a few attempts per
// lifetime, so that a wait past an expiry is a few dozen scheduling points.
// propMaxWait stays below a keep-alive's interval (a third of the lifetime),
// which tells a keep-alive's retry from its next regular refresh.
const (
	propTimeout = 2 * (propLifetime + propSlop)
	propMinWait = time.Second
	propMaxWait = 4 * time.Second
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

// nfslockOptions are the options of the interleavings' nfslock Locks.
func nfslockOptions(env *Env, clk locker.Clock, host string, pid int) []locker.Option {
	return append(clockOptions(env, clk, true), locker.WithHostname(host), locker.WithPID(pid),
		locker.WithLifetime(propLifetime), locker.WithClockSlop(propSlop),
		locker.WithTimeout(propTimeout), locker.WithBackoff(propMinWait, propMaxWait))
}

func makeNfslock(t *rapid.T, env *Env, fsys locker.FS, path, host string, pid int, clk locker.Clock) contender {
	l, err := locker.New(path, fsys, nfslockOptions(env, clk, host, pid)...)
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
// locks' backend calls, for nfslock's locker. ExpiredHolder starts every
// case with a holder whose lock has expired (mostly by more than the slop)
// and who then releases, refreshes, keeps alive or asks about it while the
// others break and take the lock.
func runInterleavings(t *testing.T, b Backend) {
	t.Run("MutualExclusion", func(t *testing.T) {
		check(t, b, 1, interleavingProperty(t, b, nfslockCase))
	})
	t.Run("ExpiredHolder", func(t *testing.T) {
		check(t, b, 2, interleavingProperty(t, b, expiredHolderCase))
	})
	t.Run("Fair", func(t *testing.T) {
		needQueue(t, b, b.New(t).FS)
		check(t, b, 1, interleavingProperty(t, b, fairCase))
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
		rapid.Check(rec, interleavingProperty(t, b, fluflCase(b.NoLinkCounts)))
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

// The operations an actor's program is drawn from.
const (
	opTryLock     = "TryLock"
	opLock        = "Lock"
	opUnlock      = "Unlock"
	opUnlockUncon = "UnlockUnconditionally"
	opRefresh     = "Refresh"
	opKeepAlive   = "KeepAlive" // one refresh by a KeepAlive, then Stop
	opIsLocked    = "IsLocked"
	opState       = "State"
	opBreak       = "Break"
	opForceBreak  = "ForceBreak" // of the crashed holder's lock
)

// interleavingCase says what one interleaving property draws.
type interleavingCase struct {
	name string
	mk   maker // nil: nfslock Locks (with fencing if the property fences)
	// ops are the operations of programs; a repeated one is drawn more often.
	ops []string
	// minLockers and maxLockers bound the number of actors.
	minLockers, maxLockers int
	// holder makes the first actor start out holding the lock, expired
	// by a drawn amount, and its program start with one of holderOps.
	holder    bool
	holderOps []string
	// faults and crashes: how many of each the scheduler may inject.
	faults, crashes int
	// strategies lets rapid choose the strategy of the scheduler (see
	// strategy); otherwise every call is a choice.
	strategies bool
	// fair: every Lock queues (WithFairness).
	fair bool
}

var (
	fluflCase = func(noLinks bool) interleavingCase {
		return interleavingCase{name: "flufl", mk: fluflMaker(noLinks), ops: []string{opTryLock, opTryLock, opRefresh, opUnlock}, minLockers: 2, maxLockers: 3}
	}
	allOps = []string{opTryLock, opTryLock, opLock, opLock, opUnlock, opUnlockUncon, opRefresh, opKeepAlive, opIsLocked, opState, opBreak}
	// nfslockCase: every operation, every start, faults and crashes.
	nfslockCase = interleavingCase{name: "nfslock", ops: allOps, minLockers: 2, maxLockers: 4, faults: 2, crashes: 1, strategies: true}
	// expiredHolderCase: an expired holder acts on its lock while the
	// others break and take it.
	expiredHolderCase = interleavingCase{name: "expired holder", minLockers: 3, maxLockers: 4, holder: true,
		// mostly breakers and claimants
		ops:       []string{opTryLock, opTryLock, opTryLock, opLock, opLock, opLock, opBreak, opBreak, opUnlock, opRefresh, opKeepAlive, opIsLocked, opState},
		holderOps: []string{opUnlock, opUnlockUncon, opRefresh, opKeepAlive, opIsLocked, opState, opTryLock},
		faults:    2, crashes: 1, strategies: true}
	// fairCase: mostly waiting Locks that queue, with every start,
	// faults and crashes (see fair.go in locker).
	fairCase = interleavingCase{name: "fair", ops: []string{opTryLock, opLock, opLock, opLock, opUnlock, opUnlockUncon, opRefresh, opKeepAlive, opBreak}, minLockers: 2, maxLockers: 4, faults: 2, crashes: 1, strategies: true, fair: true}
	// fencingCase: the acquisitions and breaks of every start, with faults
	// and crashes; every lock fences (see fencing.go).
	fencingCase = interleavingCase{name: "fencing", ops: []string{opTryLock, opTryLock, opLock, opUnlock, opRefresh, opKeepAlive, opBreak}, minLockers: 2, maxLockers: 4, faults: 2, crashes: 1, strategies: true}
)

// actor is one lock driven by the scheduler through a drawn program of
// operations. Its belief (does it hold the lock, and until when) is what the
// mutual exclusion invariant is about.
type actor struct {
	name string
	id   int
	c    contender
	l    *locker.Lock // nil for a flufl.lock transcription
	st   *actorState
	ops  []string
	// acquired is told of each acquisition (it records fencing tokens).
	acquired func(a *actor)

	believes bool      // it took the lock and has not let go of it nor been told it lost it
	until    time.Time // the latest expiry it may rely on: when it last acquired or started a successful refresh, plus the lifetime
	// A query (IsLocked, State, or an acquisition that answers
	// ErrAlreadyLocked) must give an answer that was true at some moment
	// while it ran: query names the one running, seen collects what the
	// lock was at each moment (see lockSeenBy), and answer is its answer,
	// once it returned.
	query  string
	seen   map[string]bool
	answer string
}

// The states of the lock as one actor sees them, for its queries.
const (
	seenHeld        = "held by it"              // the lock file is a second link to its claim file
	seenNotHeld     = "not held by it"          //
	seenUnlocked    = "unlocked"                // no lock file
	seenOurs        = "ours"                    // its claim, unexpired
	seenOursExpired = "ours_expired"            // its claim, expired
	seenOther       = "another's or not a lock" // anything else
)

func (a *actor) run(s *scheduler, clk locker.Clock, tr *trace, dead locker.Details) {
	for _, op := range a.ops {
		if a.st.crashed.Load() {
			return
		}
		s.point(a.id, opStart+op, pointOpStart)
		if a.st.crashed.Load() {
			return
		}
		a.query, a.seen, a.answer = op, map[string]bool{}, ""
		at := clk.Now()
		a.st.lastLinkAt.Store(0)
		var err error
		res := ""
		switch op {
		case opTryLock, opLock:
			if op == opTryLock {
				err = a.c.TryLock()
			} else {
				err = a.l.Lock(context.Background())
			}
			switch {
			case errors.Is(err, locker.ErrAlreadyLocked):
				a.answer = seenHeld
			case err == nil:
				from := at
				if t := a.st.lastLinkAt.Load(); t != 0 {
					from = time.Unix(0, t)
				}
				a.believes, a.until = true, from.Add(propLifetime)
				if a.acquired != nil {
					a.acquired(a)
				}
			default:
				a.believes = false
			}
		case opRefresh:
			err = a.c.Refresh()
			if err != nil {
				a.believes = false
			} else if a.believes {
				a.until = at.Add(propLifetime)
			}
		case opUnlock, opUnlockUncon:
			a.believes = false // it stops relying on the lock as it starts to release it
			if op == opUnlock {
				err = a.c.Unlock()
			} else {
				err = a.c.UnlockUnconditionally()
			}
		case opKeepAlive:
			res, err = a.keepAlive()
		case opIsLocked:
			held := a.c.IsLocked()
			res = strconv.FormatBool(held)
			if held {
				// (false is not judged: an error reading the lock file
				// counts as not locked, as documented)
				a.answer = seenHeld
			}
		case opState:
			var st locker.State
			st, err = a.l.State()
			res = st.String()
			switch st {
			case locker.Unlocked:
				a.answer = seenUnlocked
			case locker.Ours:
				a.answer = seenOurs
			case locker.OursExpired:
				a.answer = seenOursExpired
			default:
				a.answer = seenOther
			}
			if err != nil {
				a.answer = ""
			}
		case opBreak:
			var d locker.Details
			d, err = a.l.Break()
			if err == nil {
				res = fmt.Sprintf("broke %s's lock", d.Hostname)
			}
		case opForceBreak:
			err = a.l.ForceBreak(dead)
		}
		if a.answer == "" {
			a.query = "" // no answer to judge
		}
		if a.st.crashed.Load() {
			tr.addBy(a.name, "%s() ended after the crash; believes nothing", op)
			a.believes = false
			a.query = ""
			return
		}
		switch {
		case err != nil && res != "":
			res += ", " + tr.short(err.Error())
		case err != nil:
			res = tr.short(err.Error())
		case res == "":
			res = "ok"
		}
		tr.addBy(a.name, "%s() returned %s; believes it holds the lock: %v", op, res, a.believes)
	}
}

// keepAlive starts a KeepAlive, lets it sleep and refresh once, and stops
// it. A refresh that succeeded moves the actor's belief on, as Refresh
// does; a lost lock ends it.
func (a *actor) keepAlive() (string, error) {
	k := newKeepAliveWatch()
	a.st.keepAlive = k
	defer func() { a.st.keepAlive = nil }()
	ka, err := a.l.KeepAlive(context.Background())
	if err != nil {
		a.believes = false
		return "", err
	}
	select {
	case <-k.ended:
	case <-ka.Lost():
	case <-a.st.crashedCh:
	}
	ka.Stop()
	switch {
	case ka.Err() != nil:
		a.believes = false
		return "lost", ka.Err()
	case a.st.crashed.Load():
		return "", nil
	case time.Duration(k.next.Load()) == propLifetime/3:
		// The keep-alive waits a third of the lifetime after a refresh
		// that succeeded, and less after one that failed (a retry).
		if a.believes {
			a.until = time.Unix(0, k.woke.Load()).Add(propLifetime)
		}
		return "refreshed once", nil
	}
	return "refresh failed, keep-alive retrying", nil
}

// interleavingProperty: several lockers, perhaps after a crashed holder left
// an expired lock or with the first one holding an expired lock, each run a
// short program of operations; every backend call is a scheduling point,
// where a fault may be injected or the locker crash, and the clock may jump
// between any two. After every call, no two lockers may both believe they
// hold an unexpired lock; at the end, once everyone has let go and expired
// locks are broken, no file may remain but those of crashed lockers. With
// fencing (fencingCase), the lockers are nfslock Locks that fence, and their
// tokens must increase (see fencing.go); the counter is the one file that
// may remain.
func interleavingProperty(outer *testing.T, b Backend, ic interleavingCase) func(*rapid.T) {
	return func(t *rapid.T) {
		il := newInterleaving(outer, t, b, ic)
		il.leaveCrashedHolder()
		il.makeActors()
		il.setUpHolder()
		il.run()
		il.letGo()
		il.checkLeftovers()
	}
}

// An interleaving is one case of interleavingProperty, in the way of a rapid
// state machine: its set-up (newInterleaving, leaveCrashedHolder,
// makeActors, setUpHolder), its actions (run: the scheduler's steps, with
// check after each), and its checks at the end (letGo, checkLeftovers).
type interleaving struct {
	t      *rapid.T
	b      Backend
	ic     interleavingCase
	env    *Env
	clk    *vclock.Clock
	path   string
	tr     *trace
	tokens *tokenLog // if the lockers fence
	pids   *unusedPIDs

	dead          locker.Details // the crashed holder, if any
	crashedHolder bool
	deadClaim     string // the crashed holder's claim file, if an nfslock Lock's

	actors []*actor
	s      *scheduler
	// The clock may jump by up to lifetime + slop while every locker is
	// between operations (a holder that pauses, a waiter that comes
	// late), but only by less than the slop while one is inside an
	// operation: a lease cannot protect against a process that stalls
	// in the middle of taking or breaking it for longer than that.
	jumpsLeft int
	idle      bool // every locker is between operations

	crashed []string // files crashed lockers may leave (filesOf)
}

func newInterleaving(outer *testing.T, t *rapid.T, b Backend, ic interleavingCase) *interleaving {
	env := b.New(outer)
	clk := env.Clock
	if clk == nil {
		clk = vclock.New(virtualStart)
	}
	il := &interleaving{t: t, b: b, ic: ic, env: env, clk: clk, path: filepath.Join(env.Dir, "x.lock"), pids: newUnusedPIDs(env.FS)}
	il.tr = &trace{dir: env.Dir, start: clk.Now()}
	il.tr.add("clock starts at 0s; lifetime %v, slop %v", propLifetime, propSlop)
	if ic.name == fencingCase.name {
		il.tokens = &tokenLog{tr: il.tr}
	}
	return il
}

// newContender makes a contender of the case for a process pid of host.
func (il *interleaving) newContender(fsys locker.FS, host string, pid int, c locker.Clock) (contender, *locker.Lock) {
	if il.ic.mk != nil {
		return il.ic.mk(il.t, il.env, fsys, il.path, host, pid, c), nil
	}
	opts := nfslockOptions(il.env, c, host, pid)
	if il.tokens != nil {
		opts = append(opts, locker.WithFencing())
	}
	if il.ic.fair {
		opts = append(opts, locker.WithFairness(true))
	}
	l, err := locker.New(il.path, fsys, opts...)
	if err != nil {
		il.t.Fatalf("locker.New: %v", err)
	}
	return l, l
}

// leaveCrashedHolder, unless the first locker is to hold the lock, may
// leave a lock taken by a holder that crashed, expired past the slop.
func (il *interleaving) leaveCrashedHolder() {
	t, clk := il.t, il.clk
	il.dead = locker.Details{Hostname: "dead", LockFile: il.path}
	il.dead.PID = il.pids.next(t, il.dead.Hostname)
	il.crashedHolder = !il.ic.holder && rapid.Bool().Draw(t, "crashed holder")
	if !il.crashedHolder {
		return
	}
	c, l := il.newContender(il.env.FS, il.dead.Hostname, il.dead.PID, clk)
	if err := c.TryLock(); err != nil {
		t.Fatalf("setting up a crashed holder: %v", err)
	}
	if l != nil {
		il.tokens.record("dead", l.Token())
		il.deadClaim = filepath.Base(l.ClaimFile())
	}
	clk.Advance(propLifetime + propSlop + time.Second)
	il.tr.add("a crashed holder left a lock; the clock moves on to %s, past its expiry + slop", clk.Now().Sub(il.tr.start))
}

// makeActors makes the lockers, each on its own host, with its program.
func (il *interleaving) makeActors() {
	t, ic, clk, tr := il.t, il.ic, il.clk, il.tr
	n := rapid.IntRange(ic.minLockers, ic.maxLockers).Draw(t, "lockers")
	ops := ic.ops
	if il.crashedHolder && ic.mk == nil {
		ops = append(slices.Clone(ops), opForceBreak)
	}
	il.s = newScheduler(tr, clk)
	il.actors = make([]*actor, n)
	for i := range il.actors {
		name := string(rune('A' + i))
		st := newActorState()
		fsys := newScheduledFS(&scheduledFS{inner: il.env.FS, s: il.s, tr: tr, clk: clk, st: st, path: il.path, actor: i, name: name})
		aclk := &scheduledClock{clk: clk, s: il.s, tr: tr, st: st, actor: i, name: name}
		c, l := il.newContender(fsys, "host"+name, il.pids.next(t, "host"+name), aclk)
		a := &actor{name: name, id: i, c: c, l: l, st: st}
		if il.tokens != nil {
			a.acquired = func(a *actor) { il.tokens.record(a.name, a.l.Token()) }
		}
		var prog []string
		if i == 0 && ic.holder {
			prog = append(prog, rapid.SampledFrom(ic.holderOps).Draw(t, "holder's first operation"))
		}
		more := rapid.SliceOfN(rapid.SampledFrom(ops), max(1-len(prog), 0), 3-len(prog)).Draw(t, "program "+name)
		a.ops = append(prog, more...)
		il.actors[i] = a
	}
}

// setUpHolder, in the cases with a holder, has the first locker take the
// lock and pause: mostly past its expiry plus the slop, so that it may be
// broken; sometimes just short of that, or not expired.
func (il *interleaving) setUpHolder() {
	t, clk, tr := il.t, il.clk, il.tr
	if il.ic.holder {
		a := il.actors[0]
		if err := a.c.TryLock(); err != nil {
			t.Fatalf("setting up the holder: %v\n%s", err, tr)
		}
		a.believes, a.until = true, clk.Now().Add(propLifetime)
		if a.acquired != nil {
			a.acquired(a)
		}
		by := rapid.SampledFrom([]time.Duration{
			propLifetime + propSlop + time.Nanosecond, propLifetime + propSlop + time.Second,
			propLifetime + propSlop + 3*time.Second, propLifetime + propSlop + time.Nanosecond,
			propLifetime + propSlop, propLifetime, 0,
		}).Draw(t, "holder's pause")
		clk.Advance(by)
		tr.add("A holds the lock; the clock moves on by %v to %v (the lock expires at %v; it may be broken after %v)",
			by, clk.Now().Sub(tr.start), propLifetime, propLifetime+propSlop)
	}
	for _, a := range il.actors {
		tr.add("%s will run %s", a.name, strings.Join(a.ops, ", "))
	}
}

// jumps are the clock's jumps between two scheduling points.
var jumps = []time.Duration{time.Second, propLifetime, propLifetime + propSlop + time.Nanosecond}

// run runs the lockers' programs, one backend call at a time in the order
// the scheduler draws, with faults, crashes and clock jumps, and checks the
// invariants after every call.
func (il *interleaving) run() {
	t, ic := il.t, il.ic
	sc := schedule{strategy: everyCall}
	if ic.strategies {
		sc.strategy = strategy(rapid.IntRange(0, int(everyCall)).Draw(t, "strategy"))
	}
	if ic.faults > 0 {
		sc.faults = rapid.IntRange(0, ic.faults).Draw(t, "faults")
	}
	if ic.crashes > 0 {
		sc.crashes = rapid.IntRange(0, ic.crashes).Draw(t, "crashes")
	}
	il.s.start()
	for _, a := range il.actors {
		go func() {
			defer il.s.done(a.id)
			a.run(il.s, il.clk, il.tr, il.dead)
		}()
	}
	il.jumpsLeft = rapid.IntRange(0, 2).Draw(t, "clock jumps")
	extras := func() []string {
		switch {
		case il.jumpsLeft == 0:
			return nil
		case il.idle:
			return []string{"jump 1", "jump 2", "jump 3"}
		default:
			return []string{"jump 1"}
		}
	}
	onExtra := func(k int) {
		il.jumpsLeft--
		il.clk.Advance(jumps[k])
		il.tr.add("clock +%v = %v", jumps[k], il.clk.Now().Sub(il.tr.start))
	}
	onFault := func(i int, f fault) {
		if f == faultCrash {
			il.actors[i].st.crash()
		}
	}
	il.s.run(t, len(il.actors), sc, func(stopped []string) {
		il.idle = !slices.ContainsFunc(stopped, func(d string) bool { return !strings.HasPrefix(d, opStart) && !strings.HasPrefix(d, "Sleep(") })
		il.check()
	}, extras, onExtra, onFault)
}

// check is the invariant after every call: no two lockers believe they
// hold an unexpired lock, a query's answer was true at some moment while
// it ran, and fencing tokens increase.
func (il *interleaving) check() {
	t, tr := il.t, il.tr
	now := il.clk.Now()
	var holders []string
	for _, a := range il.actors {
		if a.believes && now.Before(a.until) && !a.st.crashed.Load() {
			holders = append(holders, fmt.Sprintf("%s (relies on it until %v)", a.name, a.until.Sub(tr.start)))
		}
		if a.query == "" || a.l == nil {
			continue
		}
		for _, v := range lockSeenBy(il.env.FS, a.l, now, il.b.NoLinkCounts) {
			a.seen[v] = true
		}
		if a.answer != "" && !a.seen[a.answer] {
			t.Fatalf("QUERY WRONG: %s's %s() answered %q, but the lock was never that while it ran: it was %q (clock at %v)\n%s",
				a.name, a.query, a.answer, slices.Sorted(maps.Keys(a.seen)), now.Sub(tr.start), tr)
		}
		if a.answer != "" {
			a.query = ""
		}
	}
	if len(holders) > 1 {
		t.Fatalf("%s: %s hold the lock at the same time (clock at %v)\n%s", mutexViolation, strings.Join(holders, " and "), now.Sub(tr.start), tr)
	}
	if v := il.tokens.failure(); v != "" {
		t.Fatalf("%s\n%s", v, tr)
	}
}

// letGo has everyone alive let go; then, once any lock left has expired, a
// newcomer breaks it and takes the lock, a second newcomer waits for it
// until it gives up (sweeping the claim files of crashed lockers as it
// waits), and the first releases.
func (il *interleaving) letGo() {
	t, clk, tr, env := il.t, il.clk, il.tr, il.env
	_, lists := env.FS.(locker.DirReader)
	for _, a := range il.actors {
		if a.st.crashed.Load() {
			il.crashed = append(il.crashed, filesOf(a.c, env.Clock == nil || !lists)...)
			continue
		}
		if err := a.c.UnlockUnconditionally(); err != nil {
			t.Fatalf("[%s] UnlockUnconditionally: %v\n%s", a.name, err, tr)
		}
	}
	clk.Advance(propLifetime + propSlop + time.Second)
	tr.add("everyone alive let go; the clock moves on to %v", clk.Now().Sub(tr.start))
	newcomer, nl := il.newContender(env.FS, "newcomer", il.pids.next(t, "newcomer"), clk)
	if err := newcomer.TryLock(); err != nil {
		t.Fatalf("a newcomer could not take the lock after everyone let go and the lock expired: %v\n%s", err, tr)
	}
	if nl != nil {
		il.tokens.record("newcomer", nl.Token())
	}
	if il.ic.mk == nil {
		waiter, err := locker.New(il.path, env.FS, append(nfslockOptions(env, clk, "waiter", il.pids.next(t, "waiter")), locker.WithTimeout(time.Second))...)
		if err != nil {
			t.Fatalf("locker.New: %v", err)
		}
		clk.AutoAdvance(true)
		err = waiter.Lock(context.Background())
		clk.AutoAdvance(false)
		if !errors.Is(err, locker.ErrTimeout) {
			t.Fatalf("a second newcomer's Lock, while the first holds the lock: %v, want ErrTimeout\n%s", err, tr)
		}
	}
	if err := newcomer.Unlock(); err != nil {
		t.Fatalf("the newcomer's Unlock: %v\n%s", err, tr)
	}
	if v := il.tokens.failure() + il.tokens.checkCounter(env.FS, il.path); v != "" {
		t.Fatalf("%s\n%s", v, tr)
	}
}

// checkLeftovers checks that nothing remains once everyone has let go but
// what a locker that crashed between moving a file aside and removing it
// leaves (the documented limit).
func (il *interleaving) checkLeftovers() {
	t, env := il.t, il.env
	names, err := env.List()
	if err != nil {
		t.Fatal(err)
	}
	names = il.tokens.withoutCounter(names, il.path)
	excused := il.excused(names)
	if left := slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(excused, n) }); len(left) > 0 {
		t.Fatalf("LEFTOVER FILES after every lock was released or broken and dead claimants' files swept: %q (all files: %q)\n%s", left, names, il.tr)
	}
}

// excused returns which of names crashed lockers may leave.
func (il *interleaving) excused(names []string) []string {
	env := il.env
	var excused []string
	for _, n := range names {
		// A crashed waiter's ticket, if no one has waited behind it
		// since its date passed.
		if strings.HasPrefix(n, filepath.Base(il.path)+".queue.") {
			if data, err := env.FS.ReadFile(filepath.Join(env.Dir, n)); err == nil && slices.Contains(il.crashed, filepath.Base(string(data))+".moved") {
				excused = append(excused, n)
			}
		}
	}
	for _, n := range il.crashed {
		if !strings.HasSuffix(n, ".moved") && !strings.HasSuffix(n, ".look") {
			excused = append(excused, n)
		}
		if strings.HasSuffix(n, ".look") && slices.Contains(names, n) {
			excused = append(excused, n) // a fresh look at the lock file (see freshlook.go), and the lock file it links
			if data, err := env.FS.ReadFile(filepath.Join(env.Dir, n)); err == nil {
				excused = append(excused, filepath.Base(string(data)))
			}
		}
		if strings.HasSuffix(n, ".moved") && slices.Contains(names, n) {
			excused = append(excused, n)
			// What it moved keeps a link to its claim file, which is
			// then no dead claimant's to sweep.
			if data, err := env.FS.ReadFile(filepath.Join(env.Dir, n)); err == nil {
				excused = append(excused, filepath.Base(string(data)))
			}
		}
	}
	if _, lists := env.FS.(locker.DirReader); !lists {
		// No Lock sweeps on a backend that cannot list a directory:
		// a break lock that a crashed locker held stays until a
		// breaker next needs it (it is then broken as stale); so does
		// one whose claim file is gone, put back by a breaker that
		// moved it aside by mistake just as its owner let go (see
		// locker's removeAside).
		brk := filepath.Base(il.path) + ".break"
		if data, err := env.FS.ReadFile(filepath.Join(env.Dir, brk)); err == nil {
			if claim := filepath.Base(string(data)); slices.Contains(excused, claim) || !slices.Contains(names, claim) {
				excused = append(excused, brk)
			}
		}
		// Nor the crashed holder's claim file when the breaker that
		// was to remove it crashed first.
		if il.deadClaim != "" && len(il.crashed) > 0 {
			excused = append(excused, il.deadClaim)
		}
	}
	return excused
}

// filesOf returns the names of the files that the nfslock Lock c may leave
// if it crashes: what it moved aside, a second name of the lock file it
// made for a fresh look at it; and on a backend whose file times are not
// the suite's virtual clock, or that cannot list a directory (so that no
// Lock sweeps), its claim files.
func filesOf(c contender, unswept bool) []string {
	l, ok := c.(*locker.Lock)
	if !ok {
		return nil
	}
	claim := filepath.Base(l.ClaimFile())
	names := []string{claim + ".moved", claim + ".moved.look", claim + ".ticket"}
	if unswept {
		// Without a listing no sweep removes them. And the filesystem
		// dates a file by its own clock until the lock dates it, while the
		// suite's locks live on a virtual one: a claim file written just
		// before the crash is dated far in their future, and no sweep
		// takes it for a dead one's.
		base := filepath.Base(l.LockFile())
		names = append(names, claim, base+".break"+strings.TrimPrefix(claim, base))
	}
	return names
}

// lockSeenBy tells what the lock file is, at this moment, for the Lock l:
// for IsLocked, whether l holds it (its claim name in the lock file, and,
// where the filesystem counts links, two links to the lock file and two to
// l's claim file); for State, whether there is none, whether it is l's
// claim and expired, or something else. It looks with fsys directly,
// outside the schedule.
func lockSeenBy(fsys locker.FS, l *locker.Lock, now time.Time, noLinks bool) []string {
	data, err := fsys.ReadFile(l.LockFile())
	if err != nil {
		return []string{seenUnlocked, seenNotHeld}
	}
	if string(data) != l.ClaimFile() {
		return []string{seenOther, seenNotHeld}
	}
	lfi, lerr := fsys.Stat(l.LockFile())
	cfi, cerr := fsys.Stat(l.ClaimFile())
	state := seenOurs
	if lerr == nil && lfi.ModTime.Before(now) {
		state = seenOursExpired
	}
	if lerr == nil && cerr == nil && (noLinks || lfi.Links == 2 && cfi.Links == 2) {
		return []string{state, seenHeld}
	}
	return []string{state, seenNotHeld}
}
