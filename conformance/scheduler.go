package conformance

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/vclock"
	"pgregory.net/rapid"
)

// scheduler runs several actors (goroutines, each driving one lock) one at a
// time. Every backend call an actor makes is a scheduling point: the actor
// stops there until the scheduler lets it go on, and rapid chooses which of
// the stopped actors goes next, and whether the call goes wrong (a fault of
// the network, or the actor's process crashing just before it). Since only
// one actor runs at a time and they interact only through the backend, a
// sequence of choices determines the whole run, and rapid can shrink a
// failing one to a minimal trace.
type scheduler struct {
	events chan event
	trace  *trace
	clk    *vclock.Clock

	mu   sync.Mutex
	free bool // not scheduling (before start and after run): points do not stop
}

type event struct {
	actor int
	desc  string      // the call about to be made; "" when the actor is done
	kind  pointKind   // what sort of point desc is
	goOn  chan resume // receives, when the actor may go on, how
}

// pointKind sorts scheduling points: the start of an operation, a sleep, a
// call that only looks (ReadFile, Stat, ReadDirNames), or one that changes
// something.
type pointKind int

const (
	pointOpStart pointKind = iota
	pointSleep
	pointLook
	pointChange
)

// resume is what a stopped actor is told when it may go on.
type resume struct {
	// mayPass is how far the clock may move on while the actor sleeps:
	// as far as it likes if every other actor is between operations or
	// asleep, and otherwise only so far that none of them has been
	// stopped inside an operation for more than maxStall.
	mayPass time.Duration
	fault   fault // what goes wrong with the call
}

// maxStall bounds how long, in virtual time, an actor stays stopped inside
// an operation (between two backend calls) while others sleep: well under
// the clock slop, since a lease cannot protect against a process that
// stalls in the middle of taking or breaking it for longer than that (the
// documented limit), and the property does not claim it does.
const maxStall = propSlop / 2

// fault is what the scheduler makes go wrong with one backend call.
type fault int

const (
	noFault fault = iota
	// faultStale: the call fails with ESTALE (marked locker.Transient)
	// without reaching the filesystem, as NFS's stale file handle.
	faultStale
	// faultLostReply: the call is performed, but its reply is lost; the
	// client's retransmission gets the answer the filesystem gives it
	// then (EEXIST for a link or create that was done, ENOENT for a
	// remove or rename that was done, ESTALE for the rest).
	faultLostReply
	// faultCrash: the actor's process dies just before the call: the call
	// and every later one of the actor do nothing.
	faultCrash
)

func newScheduler(tr *trace, clk *vclock.Clock) *scheduler {
	return &scheduler{events: make(chan event), trace: tr, clk: clk, free: true}
}

// start makes points stop from now on, until run returns.
func (s *scheduler) start() {
	s.mu.Lock()
	s.free = false
	s.mu.Unlock()
}

func (s *scheduler) isFree() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.free
}

// point stops actor until the scheduler chooses it. desc describes the call
// it is about to make.
func (s *scheduler) point(actor int, desc string, kind pointKind) resume {
	if s.isFree() {
		return resume{mayPass: math.MaxInt64}
	}
	goOn := make(chan resume, 1)
	s.events <- event{actor: actor, desc: desc, kind: kind, goOn: goOn}
	return <-goOn
}

// done tells the scheduler that actor has finished.
func (s *scheduler) done(actor int) {
	if !s.isFree() {
		s.events <- event{actor: actor}
	}
}

// schedule is how one run chooses: the strategy, and how many faults and
// crashes it may still inject.
type schedule struct {
	strategy strategy
	faults   int // faults (ESTALE, lost reply) left to inject
	crashes  int // crashes left to inject
}

// A strategy says where the scheduler may switch from one actor to another.
// Every operation's start and every sleep is a choice; besides those:
type strategy int

const (
	// betweenLookAndAct: only where an actor has looked at something
	// (ReadFile, Stat, ReadDirNames) and is about to change something on
	// the strength of it: the window of check-then-act races. Once
	// chosen, an actor goes on by itself through everything else, so
	// that whole critical sections (a break, an acquisition, a refresh)
	// fit in another actor's window.
	betweenLookAndAct strategy = iota
	// afterEveryLook: wherever an actor has just looked at something,
	// between two looks too (an observation of two calls that another
	// actor's change splits).
	afterEveryLook
	// everyCall: before every backend call.
	everyCall
)

// goesOn reports whether, under st, an actor that was last let go to make
// a call of kind last, and now stops before one of kind next, goes on
// without a choice.
func (st strategy) goesOn(last, next pointKind) bool {
	if next < pointLook {
		return false
	}
	switch st {
	case betweenLookAndAct:
		return !(last == pointLook && next == pointChange)
	case afterEveryLook:
		return last != pointLook
	}
	return false
}

// run schedules n actors, already started, until all are done. Before each
// choice it calls check with the descriptions of the stopped actors' next
// steps; check may fail t. extras names further choices besides the stopped
// actors (such as advancing the clock); choosing extra choice k calls
// onExtra(k). onFault is told of every fault injected, so that the actor
// can be marked crashed before it goes on.
func (s *scheduler) run(t *rapid.T, n int, sc schedule, check func(stopped []string), extras func() []string, onExtra func(k int), onFault func(actor int, f fault)) {
	stopped := map[int]event{}
	stoppedAt := map[int]time.Time{}
	last := map[int]pointKind{} // the kind of the call each actor was last let go to make
	running := n
	current := -1
	steps := 0
	for {
		for running > 0 {
			select {
			case e := <-s.events:
				running--
				if e.desc != "" {
					stopped[e.actor] = e
					stoppedAt[e.actor] = s.clk.Now()
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("an actor neither reached a backend call nor finished within 10s: a lock is blocked outside the backend\n%s", s.trace)
			}
		}
		ids := slices.Sorted(maps.Keys(stopped))
		var next []string
		for _, id := range ids {
			next = append(next, stopped[id].desc)
		}
		check(next)
		if len(stopped) == 0 {
			break
		}
		if steps++; steps > maxSteps {
			t.Fatalf("NO PROGRESS: the lockers made %d backend calls and sleeps without all finishing; the last steps:\n%s", maxSteps, s.trace.tail(60))
		}
		var e event
		if c, ok := stopped[current]; ok && sc.strategy.goesOn(last[current], c.kind) {
			e = c // the current actor goes on by itself
		} else {
			ex := extras()
			k := rapid.IntRange(0, len(ids)+len(ex)-1).Draw(t, "next")
			if k >= len(ids) {
				onExtra(k - len(ids))
				current = -1
				continue
			}
			e = stopped[ids[k]]
		}
		delete(stopped, e.actor)
		current = e.actor
		last[e.actor] = e.kind
		f := noFault
		if e.kind >= pointLook && sc.faults+sc.crashes > 0 {
			f = drawFault(t, e.kind, &sc)
			if f != noFault {
				onFault(e.actor, f)
			}
		}
		running++
		mayPass := time.Duration(math.MaxInt64)
		for id, o := range stopped {
			if o.kind >= pointLook {
				mayPass = min(mayPass, max(stoppedAt[id].Add(maxStall).Sub(s.clk.Now()), 0))
			}
		}
		e.goOn <- resume{mayPass: mayPass, fault: f}
	}
	s.mu.Lock()
	s.free = true
	s.mu.Unlock()
}

// maxSteps bounds the scheduling points of one run. Every operation of the
// interleavings ends within a bounded number of steps (waits time out, and
// sleeps move the virtual clock on), so a run that goes past it has found a
// locker that spins, or waits for ever.
const maxSteps = 5000

// drawFault draws what happens to a call of the given kind: mostly nothing;
// rarely ESTALE, a lost reply (for a call that changes something) or a
// crash, while sc allows them.
func drawFault(t *rapid.T, kind pointKind, sc *schedule) fault {
	// Small numbers, which rapid shrinks towards, mean no fault.
	n := rapid.IntRange(0, 39).Draw(t, "fault")
	var f fault
	switch {
	case n == 39 && sc.crashes > 0:
		f = faultCrash
		sc.crashes--
	case n == 38 && sc.faults > 0:
		f = faultStale
		sc.faults--
	case n == 37 && sc.faults > 0 && kind == pointChange:
		f = faultLostReply
		sc.faults--
	}
	return f
}

// trace is the numbered log of a run: every backend call with its result,
// every lock operation and every clock change, in the order they happened.
type trace struct {
	mu    sync.Mutex
	dir   string
	start time.Time
	lines []string
	steps map[string][]int // each actor's steps, by line number
}

func (tr *trace) add(format string, args ...any) { tr.addBy("", format, args...) }

// addBy adds a line about actor's doing.
func (tr *trace) addBy(actor, format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	if actor != "" {
		line = "[" + actor + "] " + line
		if tr.steps == nil {
			tr.steps = map[string][]int{}
		}
		tr.steps[actor] = append(tr.steps[actor], len(tr.lines)+1)
	}
	tr.lines = append(tr.lines, line)
}

// short makes the names in s relative to the lock directory.
func (tr *trace) short(s string) string {
	return strings.ReplaceAll(s, tr.dir+string(filepath.Separator), "")
}

// tail returns the last n lines of the trace.
func (tr *trace) tail(n int) string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var b strings.Builder
	for i := max(len(tr.lines)-n, 0); i < len(tr.lines); i++ {
		fmt.Fprintf(&b, "%4d. %s\n", i+1, tr.lines[i])
	}
	return b.String()
}

func (tr *trace) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var b strings.Builder
	for i, l := range tr.lines {
		fmt.Fprintf(&b, "%4d. %s\n", i+1, l)
	}
	for _, actor := range slices.Sorted(maps.Keys(tr.steps)) {
		fmt.Fprintf(&b, "      %s's steps: %v\n", actor, tr.steps[actor])
	}
	return b.String()
}

// actorState is what the scheduled backend and clock of one actor share.
type actorState struct {
	crashed    atomic.Bool
	crashedCh  chan struct{} // closed when the actor crashes
	lostRename atomic.Bool   // a rename of this actor was performed and its reply lost
	lastLinkAt atomic.Int64  // the virtual time (UnixNano) of its last link to the lock path
	keepAlive  *keepAliveWatch
}

func newActorState() *actorState { return &actorState{crashedCh: make(chan struct{})} }

func (a *actorState) crash() {
	if !a.crashed.Swap(true) {
		close(a.crashedCh)
	}
}

// errCrashed is what every backend call of a crashed actor returns: its
// process is gone, and nothing it does reaches the filesystem.
var errCrashed = fmt.Errorf("the process crashed: %w", syscall.EIO)

// scheduledFS makes each call of one actor a scheduling point, injects the
// faults the scheduler chooses, and logs every call.
type scheduledFS struct {
	inner locker.FS
	s     *scheduler
	tr    *trace
	clk   *vclock.Clock
	st    *actorState
	path  string // the lock path
	actor int
	name  string
}

func (f *scheduledFS) call(op, name, desc string, kind pointKind, do func() error) error {
	return f.callShow(op, name, desc, kind, do, func() string { return "ok" })
}

// callShow is call, with show describing a successful result.
func (f *scheduledFS) callShow(op, name, desc string, kind pointKind, do func() error, show func() string) error {
	if f.st.crashed.Load() {
		return &os.PathError{Op: op, Path: name, Err: errCrashed}
	}
	desc = f.tr.short(desc)
	r := f.s.point(f.actor, desc, kind)
	var err error
	note := ""
	switch r.fault {
	case faultCrash:
		f.st.crash()
		f.tr.addBy(f.name, "CRASHES before %s: the process is gone", desc)
		return &os.PathError{Op: op, Path: name, Err: errCrashed}
	case faultStale:
		err = locker.Transient(&os.PathError{Op: op, Path: name, Err: syscall.ESTALE})
		note = " (ESTALE injected; not performed)"
	case faultLostReply:
		res := do()
		err = lostReplyError(op, name)
		note = fmt.Sprintf(" (performed: %s; reply lost, the retry sees this)", resultText(f.tr, res, show))
		if op == "rename" && res == nil {
			f.st.lostRename.Store(true)
		}
	default:
		err = do()
	}
	f.tr.addBy(f.name, "%s = %s%s", desc, resultText(f.tr, err, show), note)
	return err
}

func resultText(tr *trace, err error, show func() string) string {
	if err != nil {
		return "error: " + tr.short(err.Error())
	}
	return show()
}

// lostReplyError is what a client sees when it retransmits a request whose
// first reply was lost, the request having been performed.
func lostReplyError(op, name string) error {
	switch op {
	case "link", "open":
		return &os.PathError{Op: op, Path: name, Err: syscall.EEXIST}
	case "unlink", "rename":
		return &os.PathError{Op: op, Path: name, Err: syscall.ENOENT}
	}
	return locker.Transient(&os.PathError{Op: op, Path: name, Err: syscall.ESTALE})
}

func (f *scheduledFS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	return f.call("open", name, fmt.Sprintf("WriteFile(%s)", name), pointChange, func() error { return f.inner.WriteFile(name, data, perm) })
}

func (f *scheduledFS) ReadFile(name string) (data []byte, err error) {
	err = f.callShow("open", name, fmt.Sprintf("ReadFile(%s)", name), pointLook, func() error {
		data, err = f.inner.ReadFile(name)
		return err
	}, func() string { return fmt.Sprintf("%q", f.tr.short(string(data))) })
	if err != nil {
		data = nil
	}
	return data, err
}

func (f *scheduledFS) Link(oldname, newname string) error {
	if newname == f.path {
		f.st.lastLinkAt.Store(f.clk.Now().UnixNano())
	}
	return f.call("link", newname, fmt.Sprintf("Link(%s, %s)", oldname, newname), pointChange, func() error { return f.inner.Link(oldname, newname) })
}

func (f *scheduledFS) Stat(name string) (fi locker.FileInfo, err error) {
	err = f.callShow("stat", name, fmt.Sprintf("Stat(%s)", name), pointLook, func() error {
		fi, err = f.inner.Stat(name)
		return err
	}, func() string { return fmt.Sprintf("links %d, mtime %v", fi.Links, fi.ModTime.Sub(f.tr.start)) })
	if err != nil {
		fi = locker.FileInfo{}
	}
	return fi, err
}

func (f *scheduledFS) Chtimes(name string, atime, mtime time.Time) error {
	return f.call("utimensat", name, fmt.Sprintf("Chtimes(%s, %s)", name, mtime.Sub(f.tr.start)), pointChange, func() error { return f.inner.Chtimes(name, atime, mtime) })
}

func (f *scheduledFS) Rename(oldname, newname string) error {
	return f.call("rename", oldname, fmt.Sprintf("Rename(%s, %s)", oldname, newname), pointChange, func() error { return f.inner.Rename(oldname, newname) })
}

func (f *scheduledFS) Remove(name string) error {
	return f.call("unlink", name, fmt.Sprintf("Remove(%s)", name), pointChange, func() error { return f.inner.Remove(name) })
}

// ProcessAlive is not a scheduling point: it changes nothing.
func (f *scheduledFS) ProcessAlive(host string, pid int) (bool, error) {
	if pc, ok := f.inner.(locker.ProcessChecker); ok {
		return pc.ProcessAlive(host, pid)
	}
	return true, nil
}

// listingFS is a scheduledFS over a backend that can list a directory, so
// that waiting locks sweep dead claimants' files (locker.DirReader).
type listingFS struct{ *scheduledFS }

func (f listingFS) ReadDirNames(dir string) (names []string, err error) {
	err = f.callShow("open", dir, "ReadDirNames(.)", pointLook, func() error {
		names, err = f.inner.(locker.DirReader).ReadDirNames(dir)
		return err
	}, func() string { return fmt.Sprintf("%q", names) })
	return names, err
}

// newScheduledFS returns the scheduled backend of one actor.
func newScheduledFS(f *scheduledFS) locker.FS {
	if _, ok := f.inner.(locker.DirReader); ok {
		return listingFS{f}
	}
	return f
}

// scheduledClock is an actor's clock. Its Sleep is a scheduling point; the
// virtual time moves on by the sleep only if every other actor is between
// operations, so that no actor is stalled inside an operation for longer
// than the interleaving property allows.
type scheduledClock struct {
	clk   *vclock.Clock
	s     *scheduler
	tr    *trace
	st    *actorState
	actor int
	name  string
}

func (c *scheduledClock) Now() time.Time { return c.clk.Now() }

func (c *scheduledClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.st.crashed.Load() {
		// A crashed actor's code runs on without effect; a loop that
		// sleeps until it is stopped (the keep-alive) waits to be.
		if ctx.Done() != nil {
			<-ctx.Done()
		}
		return ctx.Err()
	}
	kind := pointSleep
	if k := c.st.keepAlive; k != nil && ctx.Done() != nil {
		// The keep-alive's own wait between refreshes: the holder is
		// between operations, as a paused process is.
		if k.sleeps.Add(1) > 1 {
			k.cycle(d)
			<-ctx.Done()
			return ctx.Err()
		}
		kind = pointOpStart
	}
	q := quantum(d)
	if pass := min(q, c.s.point(c.actor, fmt.Sprintf("Sleep(%v)", d), kind).mayPass); pass == q {
		c.clk.Advance(q)
		c.tr.addBy(c.name, "slept %v (as %v); clock %v", d, q, c.clk.Now().Sub(c.tr.start))
	} else {
		c.clk.Advance(pass)
		c.tr.addBy(c.name, "slept %v, but the clock moves on only %v (others are inside operations); clock %v", d, pass, c.clk.Now().Sub(c.tr.start))
	}
	if c.st.keepAlive != nil && kind == pointOpStart {
		c.st.keepAlive.woke.Store(c.clk.Now().UnixNano())
	}
	return ctx.Err()
}

// quantum is how long a sleep of d lasts in the interleavings: the least
// power of two of seconds (…, 1/4 s, 1/2 s, 1 s, 2 s, 4 s, …) that is at
// least d. A sleep may last longer than asked, and this makes a run
// repeatable: the locker jitters its waits at random (between half the
// current backoff step and the whole step, a power of two of its minimum
// wait), and the jittered wait always rounds up to the whole step.
func quantum(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	q := time.Second
	for q < d {
		q *= 2
	}
	for q/2 >= d && q > time.Millisecond {
		q /= 2
	}
	return q
}

// keepAliveWatch follows one refresh of a KeepAlive driven by the
// scheduler: its first sleep is a scheduling point, its refresh runs on the
// actor's scheduled backend, and its second sleep ends the cycle.
type keepAliveWatch struct {
	sleeps atomic.Int32
	woke   atomic.Int64  // the virtual time the refresh began
	next   atomic.Int64  // the duration of the second sleep
	ended  chan struct{} // closed at the second sleep
	once   sync.Once
}

func newKeepAliveWatch() *keepAliveWatch { return &keepAliveWatch{ended: make(chan struct{})} }

func (k *keepAliveWatch) cycle(next time.Duration) {
	k.next.Store(int64(next))
	k.once.Do(func() { close(k.ended) })
}
