package conformance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/vclock"
)

// attemptCalls is about how many backend calls one attempt to take a busy
// lock makes (link, look, break lock, sweep): what a scenario on the real
// clock waits for, counted in Backend.Latency.
const attemptCalls = 20

// A timeline is the time a scenario's locks live in.
//
// On a virtual clock (Backend.RealTime false) time moves only when the
// scenario moves it, so every boundary is checked to the nanosecond with
// flufl.lock's default lifetime and clock slop. On the real clock the
// lifetimes are a fraction of a second, each boundary is checked a margin
// either side of it, and times read back from the filesystem are compared
// with a small tolerance.
type timeline struct {
	t       testing.TB
	clock   locker.Clock
	virtual *vclock.Clock // nil on the real clock
	origin  time.Time     // when the scenario began; times in messages count from it

	lifetime   time.Duration // of every lock unless a scenario says otherwise
	slop       time.Duration // the clock slop of every lock
	minBackoff time.Duration
	maxBackoff time.Duration
	// near is how far from a boundary a check "just before" or "just
	// after" it is made.
	near time.Duration
	// tolerance is how far a time read back from the filesystem may stray
	// from the one the lock wrote (timestamp granularity).
	tolerance time.Duration
	// lag is how late, on the real clock, a lock may act after the moment
	// it meant to: scheduling and system calls.
	lag time.Duration
	// settle is how long, on the real clock, a goroutine is given to
	// reach its first wait.
	settle time.Duration
	// granule is the filesystem's timestamp granularity where it is
	// coarse (Backend.TimeGranularity), else zero.
	granule time.Duration
	env     *Env
}

func newTimeline(t testing.TB, b Backend, env *Env) *timeline {
	if b.RealTime {
		now := time.Now()
		// The margins fit a local disk; a slow mount (Backend.Latency)
		// widens them to a few attempts to take the lock, and a backend
		// whose processes act late (Backend.Lag) to that lag; the
		// lifetime and slop follow, in the same proportions.
		attempt := attemptCalls * b.Latency
		near := max(120*time.Millisecond, 4*attempt, b.Lag)
		tl := &timeline{
			t:          t,
			env:        env,
			clock:      locker.RealClock{},
			origin:     now,
			lifetime:   max(400*time.Millisecond, near*10/3),
			slop:       max(200*time.Millisecond, near*5/3),
			minBackoff: time.Millisecond,
			maxBackoff: max(20*time.Millisecond, attempt),
			near:       near,
			tolerance:  5 * time.Millisecond,
			lag:        near,
			settle:     max(50*time.Millisecond, 2*attempt, b.Lag/2),
		}
		if g := b.TimeGranularity; g > tl.tolerance {
			// Coarse file times (whole seconds on sshfs): a lock refuses
			// a lifetime of two granules or less, and a stored expiry is
			// up to a granule early.
			tl.lifetime = max(tl.lifetime, 3*g)
			tl.slop = max(tl.slop, g)
			tl.tolerance = g
			tl.granule = g
		}
		return tl
	}
	clk := env.Clock
	if clk == nil {
		clk = vclock.New(virtualStart)
	}
	clk.AutoAdvance(false)
	return &timeline{
		t:          t,
		env:        env,
		clock:      clk,
		virtual:    clk,
		origin:     clk.Now(),
		lifetime:   locker.DefaultLifetime,
		slop:       locker.DefaultClockSlop,
		minBackoff: time.Millisecond,
		maxBackoff: 20 * time.Millisecond,
		near:       time.Nanosecond,
		// A stored expiry is up to a granule early where file times are
		// coarse (memfs like sshfs: whole seconds).
		tolerance: b.TimeGranularity,
		granule:   b.TimeGranularity,
	}
}

// opts returns the options that put a lock on this timeline.
func (tl *timeline) opts() []locker.Option {
	return append(clockOptions(tl.env, tl.clock, tl.virtual != nil),
		locker.WithLifetime(tl.lifetime),
		locker.WithClockSlop(tl.slop),
		locker.WithBackoff(tl.minBackoff, tl.maxBackoff),
	)
}

func (tl *timeline) now() time.Time { return tl.clock.Now() }

// autoAdvance makes a virtual clock move by itself whenever a lock sleeps,
// for scenarios in which only the lock under test waits.
func (tl *timeline) autoAdvance() {
	if tl.virtual != nil {
		tl.virtual.AutoAdvance(true)
	}
}

// advance moves time forward by d: on the real clock, by sleeping.
func (tl *timeline) advance(d time.Duration) {
	if tl.virtual != nil {
		tl.virtual.Advance(d)
		return
	}
	time.Sleep(d)
}

// advanceTo moves time forward to when, if it is not already past it.
func (tl *timeline) advanceTo(when time.Time) {
	if tl.virtual != nil {
		if when.After(tl.virtual.Now()) {
			tl.virtual.Set(when)
		}
		return
	}
	time.Sleep(time.Until(when))
}

// lateInGranule moves time on, where the filesystem keeps coarse times,
// until a lock taken now would expire late in a granule (85% of the way
// through it), so that the expiry the filesystem keeps is most of a granule
// before the one the lock wrote. It returns the granule, zero where times
// are fine and nothing moved.
func (tl *timeline) lateInGranule() time.Duration {
	g := tl.granule
	if g <= 0 {
		return 0
	}
	exp := tl.now().Add(tl.lifetime)
	into := exp.Sub(exp.Truncate(g))
	want := g * 85 / 100
	if tl.virtual == nil && into >= want && into < g*95/100 {
		return g // late enough already
	}
	d := want - into
	if d < 0 {
		d += g
	}
	tl.advance(d)
	return g
}

// waitAsleep waits until n goroutines wait on the clock, so that the
// scenario knows its waiters have made their first attempt. On the real
// clock it gives them a moment.
func (tl *timeline) waitAsleep(n int) {
	tl.t.Helper()
	if tl.virtual == nil {
		time.Sleep(tl.settle)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tl.virtual.BlockUntilSleepers(ctx, n); err != nil {
		tl.t.Fatalf("waiting for %d lock(s) to wait on the virtual clock: only %d did within 10s of real time (Lock returned or never waited)", n, tl.virtual.Sleepers())
	}
}

// at formats a time relative to the start of the scenario.
func (tl *timeline) at(t time.Time) string {
	if t.IsZero() {
		return "zero time"
	}
	d := t.Sub(tl.origin)
	if d < 0 {
		return "t0-" + (-d).String()
	}
	return "t0+" + d.String()
}

// between reports whether got lies within [lo, hi], give or take the
// tolerance, and describes what was wanted.
func (tl *timeline) between(got, lo, hi time.Time) (bool, string) {
	ok := !got.Before(lo.Add(-tl.tolerance)) && !got.After(hi.Add(tl.tolerance))
	if lo.Equal(hi) && tl.tolerance == 0 {
		return ok, tl.at(lo)
	}
	want := fmt.Sprintf("between %s and %s", tl.at(lo), tl.at(hi))
	if tl.tolerance > 0 {
		want += fmt.Sprintf(" (±%v)", tl.tolerance)
	}
	return ok, want
}

// margins describes the real-time margins for a message.
func (tl *timeline) margins() string {
	return fmt.Sprintf("near %v, lag %v, settle %v, backoff %v, lifetime %v, slop %v", tl.near, tl.lag, tl.settle, tl.maxBackoff, tl.lifetime, tl.slop)
}

// timingTries is how many times in all a scenario on the real clock is run
// while its own steps come too late for what it checks (see scene.inTime).
const timingTries = 3

// A timingRun is one try of a scenario on the real clock.
type timingRun struct {
	top *testing.T // the scenario's test
	run func(*testing.T, Backend)
	try int // from 1
}

// runTimed runs one scenario. On the real clock it arms scene.inTime to run
// it again when its timing was not met.
func runTimed(t *testing.T, b Backend, run func(*testing.T, Backend)) {
	if b.RealTime {
		b.timing = &timingRun{top: t, run: run, try: 1}
	}
	run(t, b)
}

// A scene is one scenario's world: a fresh Env, a timeline, and the rule
// the scenario checks, which every failure message names.
type scene struct {
	t    *testing.T
	env  *Env
	tl   *timeline
	rule string
	path string // the lock file
	// ctx bounds every wait, so that a lock that waits when it should not
	// fails the scenario instead of hanging it.
	ctx    context.Context
	cancel context.CancelFunc
	pids   *unusedPIDs
	b      Backend
}

// safetyTimeout bounds each wait of a scenario in real time (on the real
// clock, plus four of the scenario's lifetimes: see newScene).
const safetyTimeout = 10 * time.Second

func newScene(t *testing.T, b Backend, rule string) *scene {
	t.Helper()
	env := b.New(t)
	if env == nil {
		t.Fatalf("%s: Backend.New returned a nil Env", b.Name)
	}
	tl := newTimeline(t, b, env)
	// On the real clock a scenario spans up to a few lifetimes, which on a
	// mount with coarse times (sshfs: 3 s each) pass the safety timeout
	// alone: a KeepAlive on ctx would stop refreshing mid-scenario, and a
	// waiter give up, with no fault of the lock's.
	timeout := safetyTimeout
	if tl.virtual == nil {
		timeout += 4 * tl.lifetime
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return &scene{
		t:      t,
		env:    env,
		tl:     tl,
		rule:   rule,
		path:   filepath.Join(env.Dir, "resource.lock"),
		ctx:    ctx,
		cancel: cancel,
		pids:   newUnusedPIDs(env.FS),
		b:      b,
	}
}

// inTime reports whether the real clock has not yet reached boundary, the
// moment before which what was to be done; on a virtual clock it always
// has not. Otherwise this machine and mount were too slow just now for the
// scenario's real-time margins, and what it checks next would mean
// nothing, pass or fail: the scenario is run again from the start, as a
// subtest named tryN, up to timingTries tries in all, and inTime reports
// false, upon which the caller returns at once. A scenario whose last try
// is late too fails as inconclusive, naming the margins: a check not made
// is never a pass.
func (s *scene) inTime(boundary time.Time, what string) bool {
	s.t.Helper()
	now := s.tl.now()
	if s.tl.virtual != nil || now.Before(boundary) {
		return true
	}
	miss := fmt.Sprintf("timing: %s was meant to happen before %s but ended at %s; the machine or mount was too slow for the real-time margins (%s)", what, s.tl.at(boundary), s.tl.at(now), s.tl.margins())
	r := s.b.timing
	if r == nil || r.top != s.t || r.try >= timingTries || s.t.Failed() {
		tries := 1
		if r != nil {
			tries = r.try
		}
		s.t.Fatalf("rule: %s: inconclusive after %d tries: %s", s.rule, tries, miss)
	}
	s.t.Logf("%s; running the scenario again (try %d of %d)", miss, r.try+1, timingTries)
	s.cancel() // this try's waits end
	next := &timingRun{run: r.run, try: r.try + 1}
	b := s.b
	b.timing = next
	s.t.Run(fmt.Sprintf("try%d", next.try), func(t *testing.T) {
		next.top = t
		next.run(t, b)
	})
	return false
}

func (s *scene) errorf(format string, args ...any) {
	s.t.Helper()
	s.t.Errorf("rule: %s: %s", s.rule, fmt.Sprintf(format, args...))
}

func (s *scene) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("rule: %s: %s", s.rule, fmt.Sprintf(format, args...))
}

// pid returns a process id of this host (LocalHost) that no other lock of
// the scene has and no process runs.
func (s *scene) pid() int {
	s.t.Helper()
	return s.pids.next(s.t, LocalHost)
}

// newLock returns a lock on the scene's lock file for a process of this
// host (LocalHost) with a pid of its own, on the scene's timeline; opts
// come last and so override those.
func (s *scene) newLock(opts ...locker.Option) *locker.Lock {
	s.t.Helper()
	return s.newLockOn(s.env.FS, s.path, opts...)
}

// newLockOn is like newLock for the lock file path on fsys.
func (s *scene) newLockOn(fsys locker.FS, path string, opts ...locker.Option) *locker.Lock {
	s.t.Helper()
	all := append([]locker.Option{locker.WithHostname(LocalHost), locker.WithPID(s.pid())}, s.tl.opts()...)
	l, err := locker.New(path, fsys, append(all, opts...)...)
	if err != nil {
		s.t.Fatalf("locker.New(%q): %v", path, err)
	}
	return l
}

// errText describes an error for a message.
func errText(err error) string {
	if err == nil {
		return "nil error"
	}
	return fmt.Sprintf("error %q", err)
}

// wantName names an expected error for a message.
func wantName(err error) string {
	switch err {
	case nil:
		return "nil error"
	case locker.ErrAlreadyLocked:
		return "ErrAlreadyLocked"
	case locker.ErrNotLocked:
		return "ErrNotLocked"
	case locker.ErrBusy:
		return "ErrBusy"
	case locker.ErrTimeout:
		return "ErrTimeout"
	case locker.ErrForeignFile:
		return "ErrForeignFile"
	case locker.ErrInvalid:
		return "ErrInvalid"
	case context.Canceled:
		return "context.Canceled"
	case context.DeadlineExceeded:
		return "context.DeadlineExceeded"
	case fs.ErrNotExist:
		return "fs.ErrNotExist"
	}
	return fmt.Sprintf("an error wrapping %q", err)
}

// checkErr reports whether err is want (nil) or wraps it, and reports a
// failure of what if not.
func (s *scene) checkErr(what string, err, want error) bool {
	s.t.Helper()
	if want == nil && err == nil || want != nil && errors.Is(err, want) {
		return true
	}
	s.errorf("%s: got %s, want %s", what, errText(err), wantName(want))
	return false
}

// requireErr is like checkErr but ends the scenario on failure.
func (s *scene) requireErr(what string, err, want error) {
	s.t.Helper()
	if !s.checkErr(what, err, want) {
		s.t.FailNow()
	}
}

// A fileLook is what the backend shows of one file.
type fileLook struct {
	exists   bool
	contents string
	mtime    time.Time
	links    uint64
}

func (f fileLook) equal(g fileLook) bool {
	return f.exists == g.exists && f.contents == g.contents && f.mtime.Equal(g.mtime) && f.links == g.links
}

func (s *scene) describe(f fileLook) string {
	if !f.exists {
		return "no file"
	}
	return fmt.Sprintf("contents %q, mtime %s, %d link(s)", f.contents, s.tl.at(f.mtime), f.links)
}

// look reads and stats name through the backend.
func (s *scene) look(name string) fileLook {
	s.t.Helper()
	data, err := s.env.FS.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return fileLook{}
	}
	if err != nil {
		s.t.Fatalf("reading %s through the backend: %v", name, err)
	}
	fi, err := s.env.FS.Stat(name)
	if err != nil {
		s.t.Fatalf("stat %s through the backend: %v", name, err)
	}
	return fileLook{exists: true, contents: string(data), mtime: fi.ModTime, links: fi.Links}
}

// expiry returns l's expiry, the lock file's mtime, ending the scenario if
// it cannot be read.
func (s *scene) expiry(l *locker.Lock) time.Time {
	s.t.Helper()
	exp, err := l.Expiration()
	if err != nil {
		s.fatalf("Expiration(): %v", err)
	}
	return exp
}

// files returns the sorted names in the scene's directory.
func (s *scene) files() []string {
	s.t.Helper()
	names, err := s.env.List()
	if err != nil {
		s.t.Fatalf("listing %s: %v", s.env.Dir, err)
	}
	slices.Sort(names)
	return names
}

// wantFiles reports a failure unless the directory holds exactly the files
// named by paths (compared by base name).
func (s *scene) wantFiles(when string, paths ...string) bool {
	s.t.Helper()
	return s.wantListed(when, s.files(), paths...)
}

// wantListed is wantFiles for a listing already taken (sorted).
func (s *scene) wantListed(when string, got []string, paths ...string) bool {
	s.t.Helper()
	want := make([]string, len(paths))
	for i, p := range paths {
		want[i] = filepath.Base(p)
	}
	slices.Sort(want)
	if slices.Equal(got, want) {
		return true
	}
	if len(want) == 0 {
		s.errorf("%s: directory %s holds %s, want no files", when, s.env.Dir, quoteAll(got))
	} else {
		s.errorf("%s: directory %s holds %s, want exactly %s", when, s.env.Dir, quoteAll(got), quoteAll(want))
	}
	return false
}

func quoteAll(names []string) string {
	if len(names) == 0 {
		return "nothing"
	}
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}

// wantState reports a failure unless l.State() is want.
func (s *scene) wantState(l *locker.Lock, want locker.State, when string) {
	s.t.Helper()
	got, err := l.State()
	if err != nil || got != want {
		s.errorf("%s: State() = %v, %s; want %v", when, got, errText(err), want)
	}
}

// goLock calls l.Lock(ctx) on a new goroutine and returns where its result
// will be sent. The scenario's cleanup ends the wait, if it is still going,
// and waits for the goroutine, so that it never outlives the Env.
func (s *scene) goLock(ctx context.Context, l *locker.Lock) <-chan error {
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- l.Lock(ctx)
	}()
	s.t.Cleanup(func() {
		s.cancel()
		<-finished
	})
	return done
}

// await returns what a goroutine sends on done, failing the scenario if it
// sends nothing within the safety timeout.
func (s *scene) await(what string, done <-chan error) error {
	s.t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(safetyTimeout + 5*time.Second):
		s.t.Fatalf("rule: %s: %s did not return within %v of real time", s.rule, what, safetyTimeout+5*time.Second)
		return nil
	}
}
