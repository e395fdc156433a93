package conformance

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// Fencing tokens (locker.WithFencing): every acquisition gets a token
// greater than every token given before for the lock file, including after
// a holder crashed or was broken, and the counter, <lockfile>.fence, is the
// one file the lock leaves behind on purpose.

// fencingViolation begins the message of a broken fencing property.
const fencingViolation = "FENCING VIOLATED"

// runFencing runs the fencing tests, directly under the suite so that
// -run 'Conformance/.*Fencing' selects them:
//
//	Fencing/Scenarios/...  one test per rule
//	Fencing/StateMachine   the state machine with every lock fencing
//	Fencing/Interleavings  the interleavings with every lock fencing
func runFencing(t *testing.T, b Backend) {
	t.Run("Scenarios", func(t *testing.T) {
		for _, sc := range fencingScenarios {
			t.Run(sc.name, func(t *testing.T) { sc.run(t, b) })
		}
	})
	t.Run("StateMachine", func(t *testing.T) { runMachine(t, b, true) })
	t.Run("Interleavings", func(t *testing.T) {
		check(t, b, 1, interleavingProperty(t, b, fencingCase))
	})
}

// counterName is the base name of the counter of the lock file path.
func counterName(path string) string { return filepath.Base(path) + ".fence" }

// tokenLog records the fencing tokens handed out in one run of a property,
// in the order the acquisitions returned them, and the first violation.
// A nil *tokenLog records nothing: the locks do not fence.
type tokenLog struct {
	tr *trace // where to log each token, or nil

	mu        sync.Mutex
	n         int    // tokens given
	max       uint64 // the greatest so far
	maxBy     string // who got it
	violation string
	// aLockCrashed: a Lock crashed in the middle of an acquisition, after
	// it may have moved the counter on for a token it never returned.
	aLockCrashed bool
}

// crashed records that a Lock crashed in the middle of an operation.
func (g *tokenLog) crashed() {
	if g == nil {
		return
	}
	g.mu.Lock()
	g.aLockCrashed = true
	g.mu.Unlock()
}

// record notes that by's acquisition returned token.
func (g *tokenLog) record(by string, token uint64) {
	if g == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	if g.tr != nil {
		g.tr.addBy(by, "got fencing token %d", token)
	}
	if token > g.max {
		g.max, g.maxBy = token, by
		return
	}
	if g.violation != "" {
		return
	}
	if g.n == 1 {
		g.violation = fmt.Sprintf("%s: %s's acquisition got token %d, want a token of at least 1", fencingViolation, by, token)
		return
	}
	g.violation = fmt.Sprintf("%s: %s's acquisition got token %d, not greater than token %d given before to %s", fencingViolation, by, token, g.max, g.maxBy)
}

// failure returns the first violation recorded, or "".
func (g *tokenLog) failure() string {
	if g == nil {
		return ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.violation
}

// checkCounter returns a violation, or "": once any token was given the
// counter must exist and hold at least the greatest token given (else the
// next acquisition could be given a token given before); before, it must
// not exist.
func (g *tokenLog) checkCounter(fsys locker.FS, path string) string {
	if g == nil {
		return ""
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	data, err := fsys.ReadFile(path + ".fence")
	switch {
	case g.n == 0 && err == nil && !g.aLockCrashed:
		return fmt.Sprintf("no acquisition has returned a token, but the counter %s exists, holding %q", counterName(path), data)
	case g.n == 0:
		return ""
	case err != nil:
		return fmt.Sprintf("%s: %d tokens were given, but the counter %s cannot be read: %v", fencingViolation, g.n, counterName(path), err)
	}
	c, err := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if err != nil || c < g.max {
		return fmt.Sprintf("%s: the counter %s holds %q, want a number at least the greatest token given, %d (to %s)", fencingViolation, counterName(path), data, g.max, g.maxBy)
	}
	return ""
}

// withCounter returns the names the lock may leave in its directory besides
// want: the counter, once any token was given.
func (g *tokenLog) withCounter(want []string, path string) []string {
	if g == nil {
		return want
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.n == 0 {
		return want
	}
	return append(want, counterName(path))
}

// mayHaveCounter returns the counter's name if it may exist although no
// token was given (a Lock crashed in the middle of an acquisition).
func (g *tokenLog) mayHaveCounter(path string) []string {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.aLockCrashed {
		return []string{counterName(path)}
	}
	return nil
}

// withoutCounter returns names without the counter, when the locks fence.
func (g *tokenLog) withoutCounter(names []string, path string) []string {
	if g == nil {
		return names
	}
	var out []string
	for _, n := range names {
		if n != counterName(path) {
			out = append(out, n)
		}
	}
	return out
}

var fencingScenarios = []struct {
	name string
	run  func(*testing.T, Backend)
}{
	{"TokensIncrease", scenarioFencingTokensIncrease},
	{"BreakerGetsGreaterToken", scenarioFencingBreakerGetsGreaterToken},
	{"StalledHolderCannotMoveCounter", scenarioFencingStalledHolder},
	{"CounterFailureReleasesLock", scenarioFencingCounterFailure},
	{"ExpiredHolderCommitsUnderBreakLock", scenarioFencingCommitUnderBreakLock},
	{"ForeignCounterUntouched", scenarioFencingForeignCounter},
}

// wantToken reports a failure unless l's token is want and the counter
// holds it.
func (s *scene) wantToken(who string, l *locker.Lock, want uint64) {
	s.t.Helper()
	if got := l.Token(); got != want {
		s.errorf("%s: Token() = %d, want %d", who, got, want)
	}
	if c := s.look(s.path + ".fence"); strings.TrimSpace(c.contents) != strconv.FormatUint(want, 10) {
		s.errorf("%s: the counter %s shows %s, want the token %d", who, counterName(s.path), s.describe(c), want)
	}
}

func scenarioFencingTokensIncrease(t *testing.T, b Backend) {
	s := newScene(t, b, "with WithFencing each acquisition gets a token one more than the last; a Lock without fencing neither moves nor creates the counter; the counter is the only file left")
	plain := s.newLock()
	s.requireErr("Lock without fencing", plain.Lock(s.ctx), nil)
	if plain.Token() != 0 || plain.FenceFile() != "" {
		s.errorf("a Lock without fencing: Token() = %d, FenceFile() = %q; want 0 and \"\"", plain.Token(), plain.FenceFile())
	}
	s.wantFiles("after Lock without fencing", plain.LockFile(), plain.ClaimFile())
	s.requireErr("Unlock", plain.Unlock(), nil)

	a, b2 := s.newLock(locker.WithFencing()), s.newLock(locker.WithFencing())
	if want := s.path + ".fence"; a.FenceFile() != want {
		s.errorf("FenceFile() = %q, want %q", a.FenceFile(), want)
	}
	for i, l := range []*locker.Lock{a, b2, a, plain, b2} {
		var err error
		if i%2 == 0 {
			err = l.Lock(s.ctx)
		} else {
			err = l.TryLock()
		}
		s.requireErr(fmt.Sprintf("acquisition %d", i+1), err, nil)
		want := uint64(i + 1)
		if i >= 3 {
			want-- // the plain Lock's acquisition gave no token
		}
		if l == plain {
			s.wantFiles("while a Lock without fencing holds the lock", l.LockFile(), l.ClaimFile(), s.path+".fence")
		} else {
			s.wantToken(fmt.Sprintf("acquisition %d", i+1), l, want)
			s.wantFiles(fmt.Sprintf("after acquisition %d", i+1), l.LockFile(), l.ClaimFile(), s.path+".fence")
		}
		s.requireErr(fmt.Sprintf("Unlock %d", i+1), l.Unlock(), nil)
	}
	s.wantToken("after the last release", b2, 4)
	s.wantFiles("after every lock was released", s.path+".fence")
}

func scenarioFencingBreakerGetsGreaterToken(t *testing.T, b Backend) {
	s := newScene(t, b, "a holder whose expired lock is broken has a smaller token than its breaker")
	old := s.newLock(locker.WithFencing())
	s.requireErr("the old holder's Lock", old.Lock(s.ctx), nil)
	s.tl.advanceTo(s.expiry(old).Add(s.tl.slop + s.tl.near))
	breaker := s.newLock(locker.WithFencing())
	s.requireErr("TryLock of the lock expired for longer than the slop", breaker.TryLock(), nil)
	if old.Token() >= breaker.Token() {
		s.errorf("the broken holder has token %d, its breaker %d: want the breaker's greater", old.Token(), breaker.Token())
	}
	s.wantToken("the breaker", breaker, 2)
	s.checkErr("Refresh by the broken holder", old.Refresh(), locker.ErrNotLocked)
	s.wantFiles("after the break", breaker.LockFile(), breaker.ClaimFile(), s.path+".fence")
	s.checkErr("the breaker's Unlock", breaker.Unlock(), nil)
}

// pausedFS returns a backend over fsys that stops the first call of op on
// a name ending in suffix until resume is called; stopped is closed when it
// stops there.
func pausedFS(fsys locker.FS, op faultfs.Op, suffix string) (b *faultfs.FS, stopped <-chan struct{}, resume func()) {
	b = faultfs.New(fsys)
	stop, cont := make(chan struct{}), make(chan struct{})
	var once sync.Once
	b.SetHook(func(o faultfs.Op, args ...string) {
		if o != op || !strings.HasSuffix(args[len(args)-1], suffix) {
			return
		}
		first := false
		once.Do(func() { first = true })
		if first {
			close(stop)
			<-cont
		}
	})
	var resumeOnce sync.Once
	return b, stop, func() { resumeOnce.Do(func() { close(cont) }) }
}

func scenarioFencingStalledHolder(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name string
		op   faultfs.Op
	}{
		{"BeforeReadingTheCounter", faultfs.OpReadFile},
		{"BeforeRenamingOverTheCounter", faultfs.OpRename},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, "a holder that stalls after taking the lock and before its token is written, until its lock is broken, gets no token and does not move the counter; its breaker's token is one more than the last given, and no file of the stalled holder is left")
			first := s.newLock(locker.WithFencing())
			s.requireErr("the first Lock", first.Lock(s.ctx), nil)
			s.requireErr("the first Unlock", first.Unlock(), nil)

			fsys, stopped, resume := pausedFS(s.env.FS, tc.op, ".fence")
			t.Cleanup(resume)
			stalled := s.newLockOn(fsys, s.path, locker.WithFencing())
			res := make(chan error, 1)
			go func() { res <- stalled.TryLock() }()
			select {
			case <-stopped:
			case err := <-res:
				s.fatalf("TryLock returned %s without reaching the counter", errText(err))
			}
			s.tl.advanceTo(s.expiry(stalled).Add(s.tl.slop + s.tl.near))
			// The breaker does not sweep: the stalled holder's pid, made
			// up, runs no process here, so a sweep would remove its
			// temporary token file as a dead process's, and hide
			// whether the break itself does.
			breaker := s.newLock(locker.WithFencing(), locker.WithSweep(false))
			s.requireErr("TryLock breaking the stalled holder's expired lock", breaker.TryLock(), nil)
			s.wantToken("the breaker", breaker, 2)
			s.wantFiles("after the break (the stalled holder's claim and temporary files go with its lock)", breaker.LockFile(), breaker.ClaimFile(), s.path+".fence")

			resume()
			err := s.await("the stalled holder's TryLock", res)
			if err == nil {
				s.fatalf("the stalled holder's TryLock succeeded, with token %d, after its lock was broken", stalled.Token())
			}
			if got := stalled.Token(); got != 0 {
				s.errorf("the stalled holder's Token() = %d, want 0 (no token given)", got)
			}
			s.wantToken("the breaker, after the stalled holder resumed", breaker, 2)
			s.wantFiles("after the stalled holder gave up", breaker.LockFile(), breaker.ClaimFile(), s.path+".fence")
			if !breaker.IsLocked() {
				s.errorf("the breaker lost its lock when the stalled holder resumed")
			}
			s.checkErr("the breaker's Unlock", breaker.Unlock(), nil)
		})
	}
}

func scenarioFencingCounterFailure(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name string
		op   faultfs.Op
		lose bool // the call is performed, its reply lost
	}{
		{"ReadCounter", faultfs.OpReadFile, false},
		{"WriteTemporary", faultfs.OpWriteFile, false},
		{"Rename", faultfs.OpRename, false},
		{"RenameReplyLost", faultfs.OpRename, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, "a failed update of the counter fails the acquisition: the lock is released, no claim or temporary file is left, and the next token is still greater than every token given")
			first := s.newLock(locker.WithFencing())
			s.requireErr("the first Lock", first.Lock(s.ctx), nil)
			s.requireErr("the first Unlock", first.Unlock(), nil)
			before := s.look(s.path + ".fence")

			fsys := faultfs.New(s.env.FS)
			var once sync.Once
			fsys.SetHook(func(op faultfs.Op, args ...string) {
				if op == tc.op && strings.Contains(args[0], ".fence") {
					once.Do(func() {
						if tc.lose {
							fsys.LoseReply(op, 1, syscall.EIO)
						} else {
							fsys.Fail(op, 1, syscall.EIO)
						}
					})
				}
			})
			l := s.newLockOn(fsys, s.path, locker.WithFencing())
			s.checkErr("Lock whose counter update fails", l.Lock(s.ctx), syscall.EIO)
			if l.IsLocked() || l.Token() != 0 {
				s.errorf("after the failed Lock: IsLocked() = %v, Token() = %d; want false, 0", l.IsLocked(), l.Token())
			}
			s.wantFiles("after the failed Lock", s.path+".fence")
			if after := s.look(s.path + ".fence"); !tc.lose && after.contents != before.contents {
				s.errorf("the failed update changed the counter: before %s; after %s", s.describe(before), s.describe(after))
			}
			next := s.newLock(locker.WithFencing())
			s.requireErr("the next Lock", next.Lock(s.ctx), nil)
			if next.Token() <= first.Token() {
				s.errorf("the next token is %d, not greater than the one given before, %d", next.Token(), first.Token())
			}
			s.checkErr("the next Unlock", next.Unlock(), nil)
		})
	}
}

// scenarioFencingForeignCounter puts at the counter's name, in turn, text
// that is not a token, the largest token, and each kind of object that no
// lock makes.
func scenarioFencingForeignCounter(t *testing.T, b Backend) {
	const rule = "a counter that does not hold a token that can be exceeded, or an object no lock makes at the counter's name, fails every fencing acquisition at once with ErrForeignFile, without blocking, and is never changed; a Lock without fencing does not read it"
	text := func(contents string) func(*scene, string) []string {
		return func(s *scene, path string) []string {
			s.writeFile(path, contents)
			return nil
		}
	}
	cases := append([]foreignObjectCase{
		{"Text", text("not a token\n")},
		{"LargestToken", text("18446744073709551615\n")},
	}, foreignObjectCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, rule)
			counter := s.path + ".fence"
			extra := tc.make(s, counter)
			watched := append([]string{counter}, extra...)
			before := s.describeObjects(watched)
			l := s.newLock(locker.WithFencing())
			s.checkErr("Lock", s.bounded("Lock", func() error { return l.Lock(s.ctx) }), locker.ErrForeignFile)
			s.checkErr("TryLock", s.bounded("TryLock", l.TryLock), locker.ErrForeignFile)
			s.wantUnchanged(watched, before)
			s.wantFiles("after the refused acquisitions", watched...)
			plain := s.newLock()
			s.checkErr("Lock without fencing, which does not read the counter", plain.Lock(s.ctx), nil)
			s.checkErr("Unlock", plain.Unlock(), nil)
		})
	}
}

// scenarioFencingCommitUnderBreakLock: a holder whose lock expired before
// it wrote its token (it stalled after taking the lock) checks that it
// still holds the lock and renames its token over the counter under the
// break lock, so that a breaker that does not fence (and so does not remove
// its temporary file) cannot break it between the check and the rename and
// let a fencing successor take a token it then writes again.
func scenarioFencingCommitUnderBreakLock(t *testing.T, b Backend) {
	s := newScene(t, b, "a fencing holder whose lock expired before its token was written checks and writes it under the break lock: no breaker comes between, and no token is given twice")
	first := s.newLock(locker.WithFencing())
	s.requireErr("the first Lock", first.Lock(s.ctx), nil)
	s.requireErr("the first Unlock", first.Unlock(), nil)

	faults := faultfs.New(s.env.FS)
	holder := s.newLockOn(faults, s.path, locker.WithFencing())
	readingCounter, renaming := make(chan struct{}), make(chan struct{})
	goOn := make(chan struct{})
	var once1, once2 sync.Once
	faults.SetHook(func(op faultfs.Op, args ...string) {
		last := args[len(args)-1]
		switch {
		case op == faultfs.OpReadFile && strings.HasSuffix(last, ".fence"):
			once1.Do(func() { close(readingCounter); <-goOn })
		case op == faultfs.OpRename && strings.HasSuffix(last, ".fence"):
			once2.Do(func() { close(renaming); <-goOn })
		}
	})
	res := make(chan error, 1)
	go func() { res <- holder.TryLock() }()
	t.Cleanup(func() {
		select {
		case <-goOn:
		default:
			close(goOn)
		}
	})
	wait := func(what string, c chan struct{}) {
		select {
		case <-c:
		case err := <-res:
			s.fatalf("the holder's TryLock returned %s before %s", errText(err), what)
		case <-time.After(safetyTimeout):
			s.fatalf("the holder's TryLock never reached %s", what)
		}
	}
	// The holder stalls before reading the counter until its lock has
	// expired, then stalls again just before renaming its token over it.
	wait("reading the counter", readingCounter)
	s.tl.advanceTo(s.expiry(holder).Add(s.tl.slop + s.tl.near))
	goOn <- struct{}{}
	wait("renaming its token over the counter", renaming)

	// Meanwhile a Lock that does not fence tries to break the expired
	// lock, and a fencing one to take it.
	plain := s.newLock()
	if err := plain.TryLock(); err == nil {
		s.errorf("a Lock without fencing broke the holder's lock while the holder was writing its token")
		s.checkErr("its Unlock", plain.Unlock(), nil)
	}
	successor := s.newLock(locker.WithFencing())
	succErr := successor.TryLock()
	close(goOn)
	err := s.await("the holder's TryLock", res)
	if succErr == nil && err == nil && holder.Token() <= successor.Token() {
		s.errorf("%s: the successor got token %d, and then the holder, whose lock had been broken, token %d", fencingViolation, successor.Token(), holder.Token())
	}
	if err == nil && succErr == nil {
		s.errorf("both the holder's TryLock and its successor's succeeded")
	}
}
