package conformance

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// runScenarios runs one subtest per rule of flufl.lock's algorithm (see
// docs/algorithm.md, "The rules, step by step"), each on a fresh Env made
// by b.New. A failure names the rule, what was done, what was expected and
// what happened.
//
// Locks run on a virtual clock, with flufl.lock's default lifetime and clock
// slop, so that each boundary is checked to the nanosecond; a backend with
// RealTime set runs them on the real clock with short lifetimes instead (see
// timeline).
func runScenarios(t *testing.T, b Backend) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { runTimed(t, b, sc.run) })
	}
	for _, sc := range interruptedScenarios {
		t.Run(sc.name, func(t *testing.T) { runTimed(t, b, sc.run) })
	}
}

var scenarios = []struct {
	name string
	run  func(*testing.T, Backend)
}{
	{"Acquire", scenarioAcquire},
	{"AlreadyLocked", scenarioAlreadyLocked},
	{"SecondLockTimesOut", scenarioSecondLockTimesOut},
	{"ContextCancellation", scenarioContextCancellation},
	{"HoldingNeedsTheLink", scenarioHoldingNeedsTheLink},
	{"Release", scenarioRelease},
	{"UnconditionalRelease", scenarioUnconditionalRelease},
	{"HandOff", scenarioHandOff},
	{"RefreshMovesExpiry", scenarioRefreshMovesExpiry},
	{"LifetimeCountsFromAcquisition", scenarioLifetimeCountsFromAcquisition},
	{"BreakAfterLifetimePlusSlop", scenarioBreakAfterLifetimePlusSlop},
	{"WaiterBreaksExpiredLock", scenarioWaiterBreaksExpiredLock},
	{"BreakerRemovesOldClaim", scenarioBreakerRemovesOldClaim},
	{"BreakerSparesReplacedLock", scenarioBreakerSparesReplacedLock},
	{"BrokenHolderRetakes", scenarioBrokenHolderRetakes},
	{"BrokenHolderRetakesMidMove", scenarioBrokenHolderRetakesMidMove},
	{"ForeignFileUntouched", scenarioForeignFileUntouched},
	{"ForeignObjects", scenarioForeignObjects},
	{"ForeignObjectsAtBreakPath", scenarioForeignBreakLock},
	{"ForeignObjectsAtOwnNames", scenarioForeignObjectsAtOwnNames},
	{"ForeignObjectsSwappedIn", scenarioObjectsSwappedIn},
	{"MissingDirectory", scenarioMissingDirectory},
	{"LinkErrorsRetried", scenarioLinkErrorsRetried},
	{"ClaimWriteErrorsRetried", scenarioClaimWriteErrorsRetried},
	{"WireFormat", scenarioWireFormat},
	{"State", scenarioState},
	{"Details", scenarioDetails},
	{"NoLeftovers", scenarioNoLeftovers},
	{"SkewedClocks", scenarioSkewedClocks},
	{"WatcherWakesWaiter", scenarioWatcherWakesWaiter},
	{"KeepAlive", scenarioKeepAlive},
	{"KeepAliveReportsLoss", scenarioKeepAliveReportsLoss},
	{"DeadClaimantsSwept", scenarioDeadClaimantsSwept},
	{"DeadClaimantsSweptByATaker", scenarioTakerSweeps},
	{"FairWaitersInOrder", scenarioFairOrder},
	{"FairTryDoesNotPassTheQueue", scenarioFairTryDoesNotPass},
	{"FairDeadWaiterSkipped", scenarioFairDeadWaiter},
}

func scenarioAcquire(t *testing.T, b Backend) {
	s := newScene(t, b, "Lock takes a free lock: the lock file becomes a second link to the claim file and holds the claim name")
	l := s.newLock()
	if l.IsLocked() {
		s.errorf("IsLocked before Lock: got true, want false")
	}
	s.requireErr("Lock of a free lock", l.Lock(s.ctx), nil)
	if !l.IsLocked() {
		s.errorf("IsLocked after Lock: got false, want true")
	}
	lock, claim := s.look(l.LockFile()), s.look(l.ClaimFile())
	if !lock.exists {
		s.fatalf("after Lock: no lock file at %s", l.LockFile())
	}
	if !claim.exists {
		s.fatalf("after Lock: no claim file at %s", l.ClaimFile())
	}
	if lock.contents != l.ClaimFile() {
		s.errorf("after Lock: lock file contains %q, want the claim name %q", lock.contents, l.ClaimFile())
	}
	if claim.contents != l.ClaimFile() {
		s.errorf("after Lock: claim file contains %q, want its own name %q", claim.contents, l.ClaimFile())
	}
	if !lock.mtime.Equal(claim.mtime) {
		s.errorf("after Lock: lock file mtime %s, claim file mtime %s: want one file (a hard link), with one mtime", s.tl.at(lock.mtime), s.tl.at(claim.mtime))
	}
	switch {
	case lock.links == 2:
	case b.NoLinkCounts && lock.links < 2 && claim.links < 2:
		t.Logf("%s does not count links (lock file %d, claim file %d); the lock decides ownership by the claim name alone", b.Name, lock.links, claim.links)
	default:
		s.errorf("after Lock: lock file has %d links and claim file %d, want 2 (the lock file and the claim file)", lock.links, claim.links)
	}
	s.wantFiles("after Lock", l.LockFile(), l.ClaimFile())
	s.checkErr("Unlock", l.Unlock(), nil)
}

func scenarioAlreadyLocked(t *testing.T, b Backend) {
	s := newScene(t, b, "a Lock that holds the lock is refused a second acquisition with ErrAlreadyLocked, and keeps the lock unchanged")
	l := s.newLock()
	s.requireErr("Lock of a free lock", l.Lock(s.ctx), nil)
	before := s.look(s.path)
	s.checkErr("TryLock by the holder", l.TryLock(), locker.ErrAlreadyLocked)
	s.checkErr("Lock by the holder", l.Lock(s.ctx), locker.ErrAlreadyLocked)
	if !l.IsLocked() {
		s.errorf("after the refused TryLock and Lock: IsLocked = false, want true (the holder lost its lock)")
	}
	if after := s.look(s.path); !after.equal(before) {
		s.errorf("the refused TryLock and Lock changed the lock file: before %s; after %s", s.describe(before), s.describe(after))
	}
	s.wantFiles("after the refused TryLock and Lock", l.LockFile(), l.ClaimFile())
}

func scenarioSecondLockTimesOut(t *testing.T, b Backend) {
	s := newScene(t, b, "a Lock waiting for a held lock gives up after its timeout with ErrTimeout, names the holder, and leaves no claim file")
	s.tl.autoAdvance()
	const host, pid = "holder.example.org", 4242
	holder := s.newLock(locker.WithHostname(host), locker.WithPID(pid))
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	exp := s.expiry(holder)

	timeout := s.tl.lifetime / 2 // the lock cannot be broken meanwhile
	waiter := s.newLock(locker.WithTimeout(timeout))
	start := s.tl.now()
	err := waiter.Lock(s.ctx)
	waited := s.tl.now().Sub(start)
	s.requireErr(fmt.Sprintf("second Lock with WithTimeout(%v)", timeout), err, locker.ErrTimeout)
	if errors.Is(err, context.DeadlineExceeded) {
		s.errorf("second Lock: error %q satisfies context.DeadlineExceeded, but no context deadline passed (the WithTimeout timeout ran out)", err)
	}
	if limit := timeout + s.tl.maxBackoff + s.tl.lag; waited < timeout || waited > limit {
		s.errorf("second Lock gave up after waiting %v, want between the timeout %v and %v", waited, timeout, limit)
	}
	var le *locker.Error
	switch {
	case !errors.As(err, &le):
		s.errorf("second Lock: error %q (%T) is not a *locker.Error", err, err)
	case le.Holder == nil:
		s.errorf("second Lock: error %q has no Holder, want host %q pid %d", err, host, pid)
	default:
		if le.Holder.Hostname != host || le.Holder.PID != pid {
			s.errorf("second Lock: error's Holder is host %q pid %d, want host %q pid %d", le.Holder.Hostname, le.Holder.PID, host, pid)
		}
		if !le.Holder.Expires.Equal(exp) {
			s.errorf("second Lock: error's Holder expires %s, want the lock file's mtime %s", s.tl.at(le.Holder.Expires), s.tl.at(exp))
		}
	}
	for _, want := range []string{host, strconv.Itoa(pid)} {
		if !strings.Contains(err.Error(), want) {
			s.errorf("second Lock: message %q does not mention the holder's %q", err, want)
		}
	}
	if s.look(waiter.ClaimFile()).exists {
		s.errorf("after the timeout: the waiter's claim file %s still exists", waiter.ClaimFile())
	}
	s.wantFiles("after the timeout", holder.LockFile(), holder.ClaimFile())

	err = waiter.TryLock()
	s.checkErr("TryLock of a held lock", err, locker.ErrBusy)
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.Hostname != host || le.Holder.PID != pid {
		s.errorf("TryLock of a held lock: error %q does not carry the holder host %q pid %d", err, host, pid)
	}
	s.wantFiles("after the refused TryLock", holder.LockFile(), holder.ClaimFile())
	if !holder.IsLocked() {
		s.errorf("after the waiter gave up: holder's IsLocked = false, want true")
	}
}

func scenarioContextCancellation(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiting Lock ends with its context: ErrTimeout and context.DeadlineExceeded at the deadline, context.Canceled when cancelled")
	holder := s.newLock(locker.WithLifetime(time.Hour))
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	before := s.look(s.path)
	waiter := s.newLock()
	checkClaimGone := func(when string) {
		t.Helper()
		if s.look(waiter.ClaimFile()).exists {
			s.errorf("%s: the waiter's claim file %s still exists", when, waiter.ClaimFile())
		}
	}

	// The deadline is in real time; on a virtual clock the waiter sleeps
	// until the context ends its wait.
	dctx, cancel := context.WithTimeout(s.ctx, 50*time.Millisecond)
	err := waiter.Lock(dctx)
	cancel()
	what := "Lock with a context whose deadline passes while it waits"
	s.checkErr(what, err, locker.ErrTimeout)
	s.checkErr(what, err, context.DeadlineExceeded)
	checkClaimGone("after the deadline")

	cctx, cancel := context.WithCancel(s.ctx)
	cancel()
	err = waiter.Lock(cctx)
	what = "Lock with a context cancelled before the call"
	s.checkErr(what, err, context.Canceled)
	if errors.Is(err, locker.ErrTimeout) {
		s.errorf("%s: error %q satisfies ErrTimeout, want only context.Canceled", what, err)
	}
	checkClaimGone("after the cancelled call")

	cctx, cancel = context.WithCancel(s.ctx)
	done := s.goLock(cctx, waiter)
	s.tl.waitAsleep(1)
	cancel()
	err = s.await("Lock whose context was cancelled", done)
	what = "Lock with a context cancelled while it waits"
	s.checkErr(what, err, context.Canceled)
	if errors.Is(err, locker.ErrTimeout) || errors.Is(err, context.DeadlineExceeded) {
		s.errorf("%s: error %q satisfies ErrTimeout or DeadlineExceeded, want only context.Canceled", what, err)
	}
	checkClaimGone("after the cancelled wait")

	if !holder.IsLocked() {
		s.errorf("after the waiter gave up: holder's IsLocked = false, want true")
	}
	if after := s.look(s.path); !after.equal(before) {
		s.errorf("the waiter changed the holder's lock file: before %s; after %s", s.describe(before), s.describe(after))
	}
	s.wantFiles("after the waits", holder.LockFile(), holder.ClaimFile())
}

func scenarioHoldingNeedsTheLink(t *testing.T, b Backend) {
	t.Run("ClaimRemoved", func(t *testing.T) {
		s := newScene(t, b, "a Lock holds the lock only while the lock file is a second link to its claim file (flufl.lock's link-count rule)")
		l := s.newLock()
		s.requireErr("Lock", l.Lock(s.ctx), nil)
		if n := s.look(s.path).links; n != 2 && b.NoLinkCounts {
			t.Skipf("needs link counts, which %s does not report (the lock file has %d link): there a lock whose claim file was removed cannot be told from a held one, and the lock decides ownership by the claim name alone", b.Name, n)
		}
		// Something other than the lock removes the claim file: the lock
		// file still holds the claim name, but is no longer a link to the
		// claim.
		if err := s.env.FS.Remove(l.ClaimFile()); err != nil {
			t.Fatalf("removing the claim file behind the lock's back: %v", err)
		}
		before := s.look(s.path)
		if l.IsLocked() {
			s.errorf("IsLocked with the lock file holding the claim name but %d link(s) and no claim file: got true, want false", before.links)
		}
		s.checkErr("Unlock with the claim file gone", l.Unlock(), locker.ErrNotLocked)
		if after := s.look(s.path); !after.equal(before) {
			s.errorf("Unlock of a lock file not linked to the claim changed it: before %s; after %s", s.describe(before), s.describe(after))
		}
	})
	t.Run("LockFileReplaced", func(t *testing.T) {
		s := newScene(t, b, "a Lock whose lock file was removed behind its back no longer holds the lock, and leaves the next holder's lock alone")
		l := s.newLock()
		s.requireErr("Lock", l.Lock(s.ctx), nil)
		if err := s.env.FS.Remove(s.path); err != nil {
			t.Fatalf("removing the lock file behind the lock's back: %v", err)
		}
		if l.IsLocked() {
			s.errorf("IsLocked with no lock file: got true, want false")
		}
		s.checkErr("Refresh with no lock file", l.Refresh(), locker.ErrNotLocked)
		next := s.newLock()
		s.requireErr("another Lock's TryLock", next.TryLock(), nil)
		before := s.look(s.path)
		if l.IsLocked() {
			s.errorf("IsLocked with another Lock's lock file: got true, want false")
		}
		s.checkErr("Refresh with another Lock's lock file", l.Refresh(), locker.ErrNotLocked)
		s.checkErr("Unlock with another Lock's lock file", l.Unlock(), locker.ErrNotLocked)
		if after := s.look(s.path); !after.equal(before) || !next.IsLocked() {
			s.errorf("the old holder's Refresh and Unlock disturbed the new holder: lock file before %s; after %s; new holder's IsLocked = %v", s.describe(before), s.describe(after), next.IsLocked())
		}
		s.wantFiles("after the old holder's Unlock", next.LockFile(), next.ClaimFile())
	})
	t.Run("LockFileReplacedUnlockAtOnce", func(t *testing.T) {
		s := newScene(t, b, "a Lock whose lock file was removed behind its back and taken by another, and that releases without looking first, leaves the next holder's lock alone")
		l := s.newLock()
		s.requireErr("Lock", l.Lock(s.ctx), nil)
		if err := s.env.FS.Remove(s.path); err != nil {
			t.Fatalf("removing the lock file behind the lock's back: %v", err)
		}
		next := s.newLock()
		s.requireErr("another Lock's TryLock", next.TryLock(), nil)
		before := s.look(s.path)
		s.checkErr("the old holder's Unlock with another Lock's lock file", l.Unlock(), locker.ErrNotLocked)
		if after := s.look(s.path); !after.equal(before) || !next.IsLocked() {
			s.errorf("the old holder's Unlock disturbed the new holder: lock file before %s; after %s; new holder's IsLocked = %v", s.describe(before), s.describe(after), next.IsLocked())
		}
	})
}

func scenarioRelease(t *testing.T, b Backend) {
	s := newScene(t, b, "Unlock removes the lock file and the claim file; Unlock of a lock not held fails with ErrNotLocked")
	l := s.newLock()
	s.checkErr("Unlock of a lock never taken", l.Unlock(), locker.ErrNotLocked)
	s.wantFiles("after Unlock of a lock never taken")

	s.requireErr("Lock", l.Lock(s.ctx), nil)
	s.requireErr("Unlock of a held lock", l.Unlock(), nil)
	if l.IsLocked() {
		s.errorf("after Unlock: IsLocked = true, want false")
	}
	if f := s.look(s.path); f.exists {
		s.errorf("after Unlock: lock file still exists (%s)", s.describe(f))
	}
	if s.look(l.ClaimFile()).exists {
		s.errorf("after Unlock: claim file %s still exists", l.ClaimFile())
	}
	s.wantFiles("after Unlock")
	s.checkErr("second Unlock", l.Unlock(), locker.ErrNotLocked)

	s.requireErr("TryLock after Unlock (a released Lock can be taken again)", l.TryLock(), nil)
	s.checkErr("Unlock after the second acquisition", l.Unlock(), nil)
	s.wantFiles("after the second Unlock")
}

func scenarioUnconditionalRelease(t *testing.T, b Backend) {
	s := newScene(t, b, "UnlockUnconditionally of a lock not held succeeds and leaves another holder's lock alone")
	l := s.newLock()
	s.checkErr("UnlockUnconditionally of a lock never taken", l.UnlockUnconditionally(), nil)
	s.wantFiles("after UnlockUnconditionally of a lock never taken")

	holder := s.newLock()
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	before := s.look(s.path)
	s.checkErr("UnlockUnconditionally of another Lock's lock", l.UnlockUnconditionally(), nil)
	s.checkErr("Unlock of another Lock's lock", l.Unlock(), locker.ErrNotLocked)
	if !holder.IsLocked() {
		s.errorf("after another Lock's UnlockUnconditionally and Unlock: holder's IsLocked = false, want true")
	}
	if after := s.look(s.path); !after.equal(before) {
		s.errorf("another Lock's UnlockUnconditionally and Unlock changed the lock file: before %s; after %s", s.describe(before), s.describe(after))
	}
	s.wantFiles("after another Lock's UnlockUnconditionally and Unlock", holder.LockFile(), holder.ClaimFile())

	s.checkErr("holder's UnlockUnconditionally", holder.UnlockUnconditionally(), nil)
	if holder.IsLocked() {
		s.errorf("after the holder's UnlockUnconditionally: IsLocked = true, want false")
	}
	s.wantFiles("after the holder's UnlockUnconditionally")
}

func scenarioHandOff(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiting Lock takes a released lock within one backoff step")
	holder := s.newLock()
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	waiter := s.newLock()
	done := s.goLock(s.ctx, waiter)
	s.tl.waitAsleep(1)
	released := s.tl.now()
	s.requireErr("holder's Unlock", holder.Unlock(), nil)
	s.tl.advance(s.tl.maxBackoff)
	s.requireErr("waiter's Lock", s.await("waiter's Lock", done), nil)
	acquired := s.expiry(waiter).Add(-waiter.Lifetime())
	if d, limit := acquired.Sub(released), s.tl.maxBackoff+s.tl.lag; d > limit+s.tl.tolerance {
		s.errorf("the lock released at %s was taken at %s (its expiry less the lifetime), %v later; want within the longest backoff step %v", s.tl.at(released), s.tl.at(acquired), d, limit)
	}
	if !waiter.IsLocked() || holder.IsLocked() {
		s.errorf("after the hand-off: waiter's IsLocked = %v, holder's = %v; want true, false", waiter.IsLocked(), holder.IsLocked())
	}
	s.wantFiles("after the hand-off", waiter.LockFile(), waiter.ClaimFile())
}

func scenarioRefreshMovesExpiry(t *testing.T, b Backend) {
	s := newScene(t, b, "Refresh and RefreshLifetime move the lock's expiry to now + lifetime; refreshing a lock not held fails with ErrNotLocked")
	lt := s.tl.lifetime
	l := s.newLock()
	s.checkErr("Refresh of a lock never taken", l.Refresh(), locker.ErrNotLocked)
	s.checkErr("RefreshLifetime of a lock never taken", l.RefreshLifetime(lt), locker.ErrNotLocked)
	s.wantFiles("after refreshing a lock never taken")

	s.requireErr("Lock", l.Lock(s.ctx), nil)
	first := s.expiry(l)
	step := lt / 3

	s.tl.advance(step)
	lo := s.tl.now()
	s.requireErr("Refresh of a held lock", l.Refresh(), nil)
	hi := s.tl.now()
	if ok, want := s.tl.between(s.expiry(l), lo.Add(lt), hi.Add(lt)); !ok {
		s.errorf("Refresh at %s: Expiration() = %s, want now + lifetime %v = %s", s.tl.at(lo), s.tl.at(s.expiry(l)), lt, want)
	}

	other := s.newLock()
	exp := s.expiry(l)
	s.checkErr("another Lock's Refresh", other.Refresh(), locker.ErrNotLocked)
	if got := s.expiry(l); !got.Equal(exp) {
		s.errorf("another Lock's Refresh moved the holder's expiry from %s to %s", s.tl.at(exp), s.tl.at(got))
	}

	s.tl.advance(step)
	longer := 4 * lt
	lo = s.tl.now()
	s.requireErr(fmt.Sprintf("RefreshLifetime(%v) of a held lock", longer), l.RefreshLifetime(longer), nil)
	hi = s.tl.now()
	if ok, want := s.tl.between(s.expiry(l), lo.Add(longer), hi.Add(longer)); !ok {
		s.errorf("RefreshLifetime(%v) at %s: Expiration() = %s, want now + %v = %s", longer, s.tl.at(lo), s.tl.at(s.expiry(l)), longer, want)
	}
	if got := l.Lifetime(); got != longer {
		s.errorf("after RefreshLifetime(%v): Lifetime() = %v", longer, got)
	}
	s.checkErr("RefreshLifetime(0)", l.RefreshLifetime(0), locker.ErrInvalid)
	if got := l.Lifetime(); got != longer {
		s.errorf("after the refused RefreshLifetime(0): Lifetime() = %v, want %v unchanged", got, longer)
	}

	// The refreshed lock outlives its first expiry.
	boundary := first.Add(s.tl.slop)
	s.tl.advanceTo(boundary.Add(s.tl.near))
	s.checkErr(fmt.Sprintf("another Lock's TryLock at first expiry+slop+%v of a refreshed lock", s.tl.near), other.TryLock(), locker.ErrBusy)
	if !l.IsLocked() {
		s.errorf("after another Lock tried to take the refreshed lock: holder's IsLocked = false, want true")
	}
	s.wantFiles("after another Lock's TryLock", l.LockFile(), l.ClaimFile())
	s.checkErr("Unlock", l.Unlock(), nil)
}

func scenarioLifetimeCountsFromAcquisition(t *testing.T, b Backend) {
	s := newScene(t, b, "a lock expires a lifetime after it was acquired, not after the waiter's first attempt")
	lt := s.tl.lifetime
	holder := s.newLock()
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	waiter := s.newLock()
	start := s.tl.now()
	done := s.goLock(s.ctx, waiter)
	s.tl.waitAsleep(1)
	s.tl.advance(lt / 3) // the waiter tries again, finds the lock busy, waits again
	s.tl.waitAsleep(1)
	lo := s.tl.now() // on the real clock the waiter may take the lock as soon as it is released
	s.requireErr("holder's Unlock", holder.Unlock(), nil)
	// The waiter may take the lock as soon as it is released (a watcher
	// wakes it) or at its next poll: any time from lo to hi.
	s.tl.advance(s.tl.maxBackoff)
	s.requireErr("waiter's Lock", s.await("waiter's Lock", done), nil)
	hi := s.tl.now()
	exp := s.expiry(waiter)
	if ok, want := s.tl.between(exp, lo.Add(lt), hi.Add(lt)); !ok {
		s.errorf("lock taken after waiting from %s until %s: Expiration() = %s, want acquisition + lifetime = %s (first attempt + lifetime would be %s)",
			s.tl.at(start), s.tl.at(lo), s.tl.at(exp), want, s.tl.at(start.Add(lt)))
	}
	s.checkErr("waiter's Unlock", waiter.Unlock(), nil)
}

func scenarioBreakAfterLifetimePlusSlop(t *testing.T, b Backend) {
	s := newScene(t, b, "a lock may be broken only after lifetime+slop")
	holder := s.newLock()
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	breaker := s.newLock()
	boundary := s.expiry(holder).Add(s.tl.slop)

	probes := []struct {
		offset time.Duration
		name   string
	}{
		{-s.tl.near, "expiry+slop-" + s.tl.near.String()},
		{0, "expiry+slop"},
	}
	for _, p := range probes {
		if p.offset == 0 && s.tl.virtual == nil {
			continue // the real clock cannot stop at an instant
		}
		s.tl.advanceTo(boundary.Add(p.offset))
		what := "TryLock at " + p.name
		err := breaker.TryLock()
		if !s.inTime(boundary, what) {
			return
		}
		s.checkErr(what, err, locker.ErrBusy)
		if !holder.IsLocked() {
			s.fatalf("after %s: holder's IsLocked = false, want true (the lock was broken too early)", what)
		}
		s.wantFiles("after "+what, holder.LockFile(), holder.ClaimFile())
	}

	s.tl.advanceTo(boundary.Add(s.tl.near))
	s.requireErr("TryLock at expiry+slop+"+s.tl.near.String(), breaker.TryLock(), nil)
	if !breaker.IsLocked() || holder.IsLocked() {
		s.errorf("after breaking: breaker's IsLocked = %v, old holder's = %v; want true, false", breaker.IsLocked(), holder.IsLocked())
	}
	if got := s.look(s.path); got.contents != breaker.ClaimFile() {
		s.errorf("after breaking: lock file %s, want the breaker's claim %q", s.describe(got), breaker.ClaimFile())
	}
	before := s.look(s.path)
	s.checkErr("old holder's Refresh after its lock was broken", holder.Refresh(), locker.ErrNotLocked)
	s.checkErr("old holder's TryLock of the new holder's lock", holder.TryLock(), locker.ErrBusy)
	s.checkErr("old holder's Unlock after its lock was broken", holder.Unlock(), locker.ErrNotLocked)
	s.checkErr("old holder's UnlockUnconditionally after its lock was broken", holder.UnlockUnconditionally(), nil)
	if !breaker.IsLocked() {
		s.errorf("after the old holder's Refresh, TryLock and Unlock: new holder's IsLocked = false, want true")
	}
	if after := s.look(s.path); !after.equal(before) {
		s.errorf("the old holder's Refresh, TryLock and Unlock changed the new holder's lock file: before %s; after %s", s.describe(before), s.describe(after))
	}
	s.wantFiles("after the old holder's Refresh, TryLock and Unlock", breaker.LockFile(), breaker.ClaimFile())
}

func scenarioWaiterBreaksExpiredLock(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiting Lock breaks an abandoned lock within one backoff step after lifetime+slop")
	s.tl.autoAdvance()
	holder := s.newLock()
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	boundary := s.expiry(holder).Add(s.tl.slop)
	waiter := s.newLock()
	s.requireErr("waiter's Lock", waiter.Lock(s.ctx), nil)
	acquired := s.expiry(waiter).Add(-waiter.Lifetime())
	limit := boundary.Add(s.tl.maxBackoff + s.tl.lag)
	if !acquired.After(boundary.Add(-s.tl.tolerance)) || acquired.After(limit.Add(s.tl.tolerance)) {
		s.errorf("waiter took the abandoned lock at %s (its expiry less the lifetime), want after expiry+slop %s and by %s", s.tl.at(acquired), s.tl.at(boundary), s.tl.at(limit))
	}
	if s.look(holder.ClaimFile()).exists {
		s.errorf("after breaking: the old holder's claim file %s still exists", holder.ClaimFile())
	}
	s.wantFiles("after breaking", waiter.LockFile(), waiter.ClaimFile())
}

func scenarioBreakerRemovesOldClaim(t *testing.T, b Backend) {
	for _, how := range []string{"TryLock", "Lock", "TryLockDespiteESTALE"} {
		t.Run(how, func(t *testing.T) {
			s := newScene(t, b, "a breaker removes the expired lock and its holder's claim file, and leaves only its own (a look at what it moved aside that fails for a moment with ESTALE is tried again)")
			s.tl.autoAdvance()
			holder := s.newLock()
			s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
			faults := faultfs.New(s.env.FS)
			// Without sweeps, which would remove the old claim file
			// afterwards, once the breaker holds the lock: the rule is
			// the break's.
			breaker := s.newLockOn(faults, s.path, locker.WithSweep(false))
			claimMoved := 0
			if how == "TryLockDespiteESTALE" {
				// The breaker's first rename of the holder's claim file
				// aside fails for a moment, and so do its first looks at
				// what the second rename moved.
				faults.SetHook(func(op faultfs.Op, args ...string) {
					if op != faultfs.OpRename || len(args) == 0 || args[0] != holder.ClaimFile() {
						return
					}
					switch claimMoved++; claimMoved {
					case 1:
						faults.Fail(faultfs.OpRename, 1, locker.Transient(syscall.ESTALE))
					case 2:
						faults.Fail(faultfs.OpStat, 1, locker.Transient(syscall.ESTALE))
						faults.Fail(faultfs.OpReadFile, 1, locker.Transient(syscall.ESTALE))
					}
				})
			}
			var err error
			if how == "Lock" {
				err = breaker.Lock(s.ctx)
			} else {
				s.tl.advanceTo(s.expiry(holder).Add(s.tl.slop + s.tl.near))
				err = breaker.TryLock()
			}
			faults.SetHook(nil)
			s.requireErr(how+" of an expired lock", err, nil)
			if how == "TryLockDespiteESTALE" && claimMoved == 0 {
				s.fatalf("the breaker never moved the old holder's claim file aside; this case needs it to")
			}
			if s.look(holder.ClaimFile()).exists {
				s.errorf("after %s broke the lock: the old holder's claim file %s still exists", how, holder.ClaimFile())
			}
			s.wantFiles("after "+how+" broke the lock", breaker.LockFile(), breaker.ClaimFile())
			if got := s.look(s.path); got.contents != breaker.ClaimFile() {
				s.errorf("after %s broke the lock: lock file %s, want the breaker's claim %q", how, s.describe(got), breaker.ClaimFile())
			}
			s.checkErr("breaker's Unlock", breaker.Unlock(), nil)
			s.wantFiles("after the breaker's Unlock")
		})
	}
}

func scenarioBreakerSparesReplacedLock(t *testing.T, b Backend) {
	refreshed := func(s *scene, old *locker.Lock) *locker.Lock {
		exp := s.tl.now().Add(s.tl.lifetime)
		if err := s.env.FS.Chtimes(old.ClaimFile(), exp, exp); err != nil {
			s.t.Fatalf("refreshing the old lock as flufl.lock does: %v", err)
		}
		return old
	}
	replacedByExpired := func(s *scene, old *locker.Lock) *locker.Lock {
		// The fresh holder's clock is far behind: its lock is
		// expired from the start.
		fresh := s.newLock()
		s.fluflUnlock(old)
		s.requireErr("fresh TryLock", fresh.TryLock(), nil)
		past := s.tl.now().Add(-time.Hour)
		if err := s.env.FS.Chtimes(fresh.ClaimFile(), past, past); err != nil {
			s.t.Fatalf("dating the fresh lock: %v", err)
		}
		return fresh
	}
	replaced := func(s *scene, old *locker.Lock) *locker.Lock {
		fresh := s.newLock()
		s.fluflUnlock(old)
		s.requireErr("fresh TryLock", fresh.TryLock(), nil)
		return fresh
	}
	cases := []struct {
		name string
		rule string
		// meanwhile runs between the breaker's judgment that old's lock
		// is expired and its attempt to break it (its rename of the lock
		// file aside, or as when says, earlier); it returns the Lock
		// that must then hold the lock.
		meanwhile func(s *scene, old *locker.Lock) *locker.Lock
		// when is when meanwhile runs: at the rename (""), at the
		// breaker's taking the break lock, before it looks at the lock
		// again ("second look"), or after that look, at its last look
		// at the break lock before the move ("move"), which it must
		// follow with a look at the lock file.
		when string
		// putBackFault, if set, strikes the breaker's put-back of the
		// lock file: "fails once" (ESTALE, not done) or "reply lost"
		// (done, but ESTALE comes back).
		putBackFault string
		// viaBreak: the breaker calls Break instead of TryLock (and
		// must not report a put-back done as one that failed).
		viaBreak bool
	}{
		// The meanwhile steps act as a process that does not know
		// nfslock's break lock would: a flufl.lock process, or a holder
		// whose clock is wrong by more than the slop. (An nfslock holder
		// whose lock has expired refreshes and releases only under the
		// break lock, so it cannot act while the breaker holds it.)
		{"Refreshed", "a breaker does not break a lock refreshed after it judged it expired",
			refreshed, "", "", false},
		{"Replaced", "a breaker does not break a lock released and taken afresh after it judged the old one expired",
			replaced, "", "", false},
		{"ReplacedByExpired", "a breaker removes only the lock it judged expired, not another expired lock that replaced it",
			replacedByExpired, "", "", false},
		{"ReplacedByExpiredBeforeSecondLook", "a breaker that looks at the lock again under the break lock leaves alone another expired lock that replaced the one it judged",
			replacedByExpired, "second look", "", false},
		{"ReplacedBeforeSecondLook", "a breaker that looks at the lock again under the break lock leaves alone, without moving it aside even for a moment, a lock released and taken afresh after it judged the old one expired",
			replaced, "second look", "", false},
		{"RefreshedBeforeSecondLook", "a breaker that looks at the lock again under the break lock leaves alone, without moving it aside even for a moment, a lock refreshed after it judged it expired",
			refreshed, "second look", "", false},
		{"ReplacedBeforeTheMove", "a breaker looks at the lock again just before it moves it aside, after its last look at the break lock, and leaves alone a lock released and taken afresh since its look under the break lock",
			replaced, "move", "", false},
		{"RefreshedPutBackFailsOnce", "a breaker that moved aside a lock refreshed after it judged it expired puts it back, trying again a put-back that fails for a moment",
			refreshed, "", "fails once", false},
		{"RefreshedPutBackReplyLost", "a breaker that moved aside a lock refreshed after it judged it expired puts it back, and knows its put-back done when the reply is lost",
			refreshed, "", "reply lost", false},
		{"RefreshedPutBackReplyLostBreak", "Break, finding the lock it moved aside refreshed, puts it back, knows its put-back done when the reply is lost, and reports the lock busy",
			refreshed, "", "reply lost", true},
		{"RefreshedPutBackReplyLostExists", "a breaker that moved aside a lock refreshed after it judged it expired puts it back, and knows its put-back done when the reply is lost and the link, sent again, finds the name taken (EEXIST), as an NFS client that sends a call again with a new XID sees it",
			refreshed, "", "reply lost, exists", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, tc.rule)
			old := s.newLock()
			s.requireErr("old holder's Lock", old.Lock(s.ctx), nil)
			s.tl.advanceTo(s.expiry(old).Add(s.tl.slop + s.tl.near))
			faults := faultfs.New(s.env.FS)
			events := &lockEvents{}
			breaker := s.newLockOn(faults, s.path, locker.WithLogger(slog.New(events)))
			var holder *locker.Lock
			putBack, movedFresh, linkedBreak, lookedUnder := false, false, false, false
			aside := breaker.ClaimFile() + ".moved"
			faults.SetHook(func(op faultfs.Op, args ...string) {
				if op == faultfs.OpLink && len(args) == 2 && args[1] == s.path && strings.HasSuffix(args[0], ".moved") && !putBack {
					putBack = true
					switch tc.putBackFault {
					case "fails once":
						faults.Fail(op, 1, locker.Transient(syscall.ESTALE))
					case "reply lost":
						faults.LoseReply(op, 1, locker.Transient(syscall.ESTALE))
					case "reply lost, exists":
						faults.LoseReply(op, 1, syscall.EEXIST)
					}
				}
				at := op == faultfs.OpRename
				switch tc.when {
				case "second look":
					at = op == faultfs.OpLink && strings.HasSuffix(args[len(args)-1], ".break")
				case "move":
					// Once it holds the break lock and has looked at the
					// lock file under it, or cleared its aside name, its
					// next look at the break lock is the one just before
					// the move. (Either step alone marks it: the
					// mutation test takes each away in turn.)
					switch {
					case op == faultfs.OpLink && len(args) == 2 && args[1] == s.path+".break":
						linkedBreak = true
					case linkedBreak && (op == faultfs.OpReadFile || op == faultfs.OpStat) && args[0] == s.path,
						linkedBreak && op == faultfs.OpRemove && args[0] == aside:
						lookedUnder = true
					}
					at = lookedUnder && op == faultfs.OpReadFile && args[0] == s.path+".break"
				}
				if at && holder == nil {
					holder = tc.meanwhile(s, old)
					return
				}
				// Once it has looked again under the break lock, the
				// breaker must not move the new or refreshed lock aside:
				// while it is aside, its name is free for a taker, and
				// the holder would lose it (the put-back finds the
				// name taken).
				if op == faultfs.OpRename && args[0] == s.path && holder != nil && tc.when != "" {
					movedFresh = true
				}
			})
			var err error
			if tc.viaBreak {
				s.tl.autoAdvance() // Break sleeps before it looks again
				_, err = breaker.Break()
			} else {
				err = breaker.TryLock()
			}
			faults.SetHook(nil)
			if holder == nil {
				s.fatalf("breaker's TryLock of an expired lock never took the break lock or renamed the lock file aside (got %s); this scenario needs the breaker to do both", errText(err))
			}
			if tc.putBackFault != "" && !putBack {
				s.fatalf("breaker's TryLock (%s) never put the lock file back with link; this case needs it to", errText(err))
			}
			s.checkErr("breaker's TryLock", err, locker.ErrBusy)
			if tc.putBackFault == "reply lost" && errors.Is(err, fs.ErrExist) {
				s.errorf("breaker's TryLock: got %s; its put-back was done, the reply lost, and it took the lock file its own retry found for someone else's taking the lock path while it was aside", errText(err))
			}
			if _, notes := events.report(); tc.putBackFault != "" && strings.Contains(notes, "could not restore") {
				s.errorf("the breaker's put-back was done, but the breaker took it for failed: %s", notes)
			}
			if movedFresh {
				s.errorf("TWO HOLDERS POSSIBLE: under the break lock, the breaker moved aside a lock that was no longer the expired one it judged; a taker linking while it was aside would hold the lock with the holder")
			}
			if !holder.IsLocked() || breaker.IsLocked() {
				s.errorf("after the breaker's TryLock: holder's IsLocked = %v, breaker's = %v; want true, false", holder.IsLocked(), breaker.IsLocked())
			}
			if got := s.look(s.path); got.contents != holder.ClaimFile() {
				s.errorf("after the breaker's TryLock: lock file %s, want the holder's claim %q", s.describe(got), holder.ClaimFile())
			}
			s.wantFiles("after the breaker's TryLock", holder.LockFile(), holder.ClaimFile())
		})
	}
}

// scenarioBrokenHolderRetakes: the holder of an expired lock finds it gone
// while its breaker is between moving the lock file aside and removing the
// holder's claim file, and takes the lock again with its claim file written
// afresh. The breaker must leave that claim file alone: where links are not
// counted (sshfs) nothing would tell the holder that its claim file went,
// and it would rely on a lock that a waiter breaks as soon as the date
// the holder first gave it has passed.
func scenarioBrokenHolderRetakes(t *testing.T, b Backend) {
	s := newScene(t, b, "a breaker removes the broken holder's claim file only while it is the dead one: a holder that takes the lock again, with its claim file written afresh, before the breaker removes it keeps the lock and its claim file")
	holder := s.expiredHolder(s.env.FS)
	faults := faultfs.New(s.env.FS)
	breaker := s.newLockOn(faults, s.path)
	var retook error
	moved := false
	faults.SetHook(func(op faultfs.Op, args ...string) {
		// Just after the breaker's rename of the lock file aside: the
		// hook runs before each call, so wait for the call after it.
		if moved {
			moved = false
			faults.SetHook(nil)
			retook = holder.TryLock()
			return
		}
		moved = op == faultfs.OpRename && len(args) > 0 && args[0] == s.path
	})
	err := breaker.TryLock()
	faults.SetHook(nil)
	if retook == nil && !holder.IsLocked() {
		s.fatalf("the breaker's TryLock never moved the lock file aside and went on (got %s); this scenario needs it to", errText(err))
	}
	s.wantRetakerKeeps(holder, breaker, retook, err)
	// Once its new date has passed, the lock may be broken again, and
	// the claim file with it.
	s.tl.advanceTo(s.expiry(holder).Add(s.tl.slop + s.tl.near))
	s.checkErr("breaker's TryLock once the lock taken again has expired", breaker.TryLock(), nil)
	s.checkErr("breaker's Unlock", breaker.Unlock(), nil)
	s.wantFiles("after the breaker's Unlock")
}

// wantRetakerKeeps checks the end of the BrokenHolderRetakes scenarios: the
// holder's TryLock took its lock again (retook), the breaker's TryLock
// found it busy (err), and the holder keeps the lock and its claim file.
func (s *scene) wantRetakerKeeps(holder, breaker *locker.Lock, retook, err error) {
	s.t.Helper()
	s.requireErr("holder's TryLock, with its lock moved aside", retook, nil)
	s.checkErr("breaker's TryLock", err, locker.ErrBusy)
	if !s.look(holder.ClaimFile()).exists {
		s.errorf("TWO HOLDERS POSSIBLE: the breaker removed (or did not put back) the claim file %s with which the holder had taken the lock again", holder.ClaimFile())
	}
	if !holder.IsLocked() || breaker.IsLocked() {
		s.errorf("after the breaker's TryLock: holder's IsLocked = %v, breaker's = %v; want true, false", holder.IsLocked(), breaker.IsLocked())
	}
	if got := s.look(s.path); got.contents != holder.ClaimFile() {
		s.errorf("after the breaker's TryLock: lock file %s, want the holder's claim %q", s.describe(got), holder.ClaimFile())
	}
	s.wantFiles("after the breaker's TryLock", holder.LockFile(), holder.ClaimFile())
}

// scenarioBrokenHolderRetakesMidMove: as scenarioBrokenHolderRetakes, but
// the holder takes the lock again just before the breaker moves its claim
// file aside (after the breaker judged it dead), so that the breaker must
// put it back; the put-back fails for a moment, or succeeds with its reply
// lost, and must be tried again and understood.
func scenarioBrokenHolderRetakesMidMove(t *testing.T, b Backend) {
	for _, how := range []string{"PutBack", "PutBackFailsOnce", "PutBackReplyLost"} {
		t.Run(how, func(t *testing.T) {
			s := newScene(t, b, "a breaker that moves aside the claim file with which the broken lock's holder has just taken the lock again puts it back, trying again a put-back that fails for a moment and recognising one whose reply was lost")
			holder := s.expiredHolder(s.env.FS)
			faults := faultfs.New(s.env.FS)
			breaker := s.newLockOn(faults, s.path)
			var retook error
			retaken, putBack := false, false
			faults.SetHook(func(op faultfs.Op, args ...string) {
				if len(args) < 2 {
					return
				}
				if op == faultfs.OpRename && args[0] == holder.ClaimFile() && !retaken {
					retaken = true
					retook = holder.TryLock()
				}
				if (op == faultfs.OpLink || op == faultfs.OpRename) && args[1] == holder.ClaimFile() && strings.HasSuffix(args[0], ".moved") && !putBack {
					putBack = true
					switch how {
					case "PutBackFailsOnce":
						faults.Fail(op, 1, locker.Transient(syscall.ESTALE))
					case "PutBackReplyLost":
						faults.LoseReply(op, 1, locker.Transient(syscall.ESTALE))
					}
				}
			})
			err := breaker.TryLock()
			faults.SetHook(nil)
			if !retaken || !putBack {
				s.fatalf("the breaker's TryLock (%s) did not move the holder's claim file aside (%v) and put it back (%v); this scenario needs it to", errText(err), retaken, putBack)
			}
			s.wantRetakerKeeps(holder, breaker, retook, err)
			s.checkErr("holder's Unlock", holder.Unlock(), nil)
			s.wantFiles("after the holder's Unlock")
		})
	}
}

func scenarioForeignFileUntouched(t *testing.T, b Backend) {
	join := func(parts ...string) string { return strings.Join(parts, locker.DefaultSeparator) }
	cases := []struct {
		name     string
		contents func(path string) string
	}{
		{"Empty", func(string) string { return "" }},
		{"Text", func(string) string { return "precious data\n" }},
		{"ThreeFields", func(string) string { return join("a", "b", "c") }},
		{"FiveFields", func(p string) string { return join(p, "otherhost", "1234", "5678", "9") }},
		{"ClaimForAnotherLockFile", func(p string) string {
			return join(filepath.Join(filepath.Dir(p), "other.lock"), "otherhost", "1234", "5678")
		}},
		{"NonNumericPID", func(p string) string { return join(p, "otherhost", "x", "5678") }},
		// Its "claim file", which a breaker would remove, would be some
		// other file: <dir>/x|1234|5678.
		{"HostWithPathSeparator", func(p string) string { return join(p, "otherhost/x", "1234", "5678") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, "a file at the lock path that is not a lock is never changed or removed, and Lock fails at once with ErrForeignFile")
			abs, err := filepath.Abs(s.path)
			if err != nil {
				t.Fatal(err)
			}
			contents := tc.contents(abs)
			if err := s.env.FS.WriteFile(s.path, []byte(contents), 0o644); err != nil {
				t.Fatalf("writing a foreign file at %s: %v", s.path, err)
			}
			// Long after any lifetime and slop.
			old := s.tl.now().Add(-24 * time.Hour)
			if err := s.env.FS.Chtimes(s.path, old, old); err != nil {
				t.Fatalf("dating the foreign file: %v", err)
			}
			before := s.look(s.path)
			faults := faultfs.New(s.env.FS)
			l := s.newLockOn(faults, s.path)
			desc := fmt.Sprintf("a file containing %q dated %s", contents, s.tl.at(before.mtime))

			s.checkErr("Lock of "+desc, l.Lock(s.ctx), locker.ErrForeignFile)
			if n := faults.Calls(faultfs.OpLink); n != 1 {
				s.errorf("Lock of %s made %d link attempts, want exactly 1", desc, n)
			}
			s.checkErr("TryLock of "+desc, l.TryLock(), locker.ErrForeignFile)
			if n := faults.Calls(faultfs.OpLink); n != 2 {
				s.errorf("TryLock of %s made %d link attempts, want exactly 1", desc, n-1)
			}
			s.checkErr("Unlock with "+desc+" at the lock path", l.Unlock(), locker.ErrNotLocked)
			s.checkErr("UnlockUnconditionally with "+desc+" at the lock path", l.UnlockUnconditionally(), nil)
			if after := s.look(s.path); !after.equal(before) {
				s.errorf("the foreign file was changed: before %s; after %s", s.describe(before), s.describe(after))
			}
			if s.look(l.ClaimFile()).exists {
				s.errorf("after the refused Lock and TryLock: claim file %s left behind", l.ClaimFile())
			}
			s.wantFiles("after the refused Lock and TryLock", s.path)
		})
	}
}

func scenarioMissingDirectory(t *testing.T, b Backend) {
	s := newScene(t, b, "a lock in a missing directory fails at once with fs.ErrNotExist and leaves nothing behind")
	path := filepath.Join(s.env.Dir, "missing", "resource.lock")
	l := s.newLockOn(s.env.FS, path)
	s.checkErr("Lock of "+path, l.Lock(s.ctx), fs.ErrNotExist)
	s.checkErr("TryLock of "+path, l.TryLock(), fs.ErrNotExist)
	s.wantFiles("after Lock and TryLock in a missing directory")
}

// scenarioClaimWriteErrorsRetried: writing the claim file fails for a
// moment (ESTALE: on NFS, the file just made was replaced at its name
// before the write reached it, as the co-tenant attack does), with the
// file made or not. The Lock writes it afresh and takes the lock.
func scenarioClaimWriteErrorsRetried(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name   string
		inject func(*faultfs.FS)
	}{
		{"ESTALE", func(f *faultfs.FS) { f.Fail(faultfs.OpWriteFile, 1, errStale) }},
		{"ESTALEAfterCreate", func(f *faultfs.FS) { f.LoseReply(faultfs.OpWriteFile, 1, errStale) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, "a claim file whose write fails for a moment (a transient error such as ESTALE), whether or not the file was made, is written afresh, and the lock taken")
			faults := faultfs.New(s.env.FS)
			l := s.newLockOn(faults, s.path)
			tc.inject(faults)
			s.checkErr("TryLock with the claim file's first write failing with "+tc.name, l.TryLock(), nil)
			if !l.IsLocked() {
				s.errorf("after TryLock: IsLocked = false, want true")
			}
			s.wantFiles("after TryLock", l.LockFile(), l.ClaimFile())
			s.checkErr("Unlock", l.Unlock(), nil)
			s.wantFiles("after Unlock")
		})
	}
}

func scenarioLinkErrorsRetried(t *testing.T, b Backend) {
	cases := []struct {
		name      string
		inject    func(*faultfs.FS)
		wantErr   error
		wantLinks int // 0: any number
	}{
		{"ENOENT", func(f *faultfs.FS) { f.Fail(faultfs.OpLink, 1, syscall.ENOENT) }, nil, 2},
		{"ESTALE", func(f *faultfs.FS) { f.Fail(faultfs.OpLink, 1, locker.Transient(syscall.ESTALE)) }, nil, 2},
		{"EIO", func(f *faultfs.FS) { f.Fail(faultfs.OpLink, 1, syscall.EIO) }, syscall.EIO, 1},
		{"LostReply", func(f *faultfs.FS) { f.LoseReply(faultfs.OpLink, 1, syscall.EEXIST) }, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rule := "link failing with ENOENT or a transient error is retried"
			switch tc.name {
			case "EIO":
				rule = "link failing with any other error fails Lock with that error and leaves no files"
			case "LostReply":
				rule = "a link whose reply was lost (EEXIST) is recognised as acquisition by the claim in the lock file"
			}
			s := newScene(t, b, rule)
			s.tl.autoAdvance()
			faults := faultfs.New(s.env.FS)
			l := s.newLockOn(faults, s.path)
			tc.inject(faults)
			start := s.tl.now()
			err := l.Lock(s.ctx)
			took := s.tl.now().Sub(start)
			s.checkErr("Lock with the first link failing with "+tc.name, err, tc.wantErr)
			if limit := s.tl.maxBackoff + s.tl.lag; took > limit {
				s.errorf("Lock with the first link failing with %s took %v of the lock's clock, want at most one backoff step (%v) on a free lock", tc.name, took, limit)
			}
			if n := faults.Calls(faultfs.OpLink); tc.wantLinks > 0 && n != tc.wantLinks {
				s.errorf("Lock with the first link failing with %s made %d link attempts, want %d", tc.name, n, tc.wantLinks)
			}
			if tc.wantErr != nil {
				s.wantFiles("after Lock failed")
				return
			}
			if !l.IsLocked() {
				s.errorf("after Lock: IsLocked = false, want true")
			}
			s.wantFiles("after Lock", l.LockFile(), l.ClaimFile())
			s.checkErr("TryLock by the holder", l.TryLock(), locker.ErrAlreadyLocked)
			s.checkErr("Unlock", l.Unlock(), nil)
			s.wantFiles("after Unlock")
		})
	}
}

func scenarioWireFormat(t *testing.T, b Backend) {
	cases := []struct {
		name string
		sep  string
		opts []locker.Option
	}{
		{"DefaultSeparator", locker.DefaultSeparator, nil},
		{"PlusSeparator", "+", []locker.Option{locker.WithSeparator("+")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, "claim name and lock file follow flufl.lock's format: <lockpath>SEP<host>SEP<pid>SEP<random>, contents the name itself, mtime the expiry")
			abs, err := filepath.Abs(s.path)
			if err != nil {
				t.Fatal(err)
			}
			l := s.newLock(tc.opts...)
			claim := l.ClaimFile()
			if !filepath.IsAbs(l.LockFile()) || l.LockFile() != abs {
				s.errorf("LockFile() = %q, want the absolute path %q", l.LockFile(), abs)
			}
			prefix := strings.Join([]string{abs, LocalHost, strconv.Itoa(l.PID()), ""}, tc.sep)
			if !strings.HasPrefix(claim, prefix) {
				s.fatalf("claim name %q, want %q followed by a random number", claim, prefix)
			}
			random := strings.TrimPrefix(claim, prefix)
			if r, err := strconv.ParseInt(random, 10, 64); err != nil || r < 0 || strconv.FormatInt(r, 10) != random {
				s.errorf("claim name %q: random part %q is not a decimal int64 >= 0", claim, random)
			}
			if filepath.Dir(claim) != filepath.Dir(abs) {
				s.errorf("claim file %q is not in the lock file's directory %q", claim, filepath.Dir(abs))
			}

			lo := s.tl.now()
			s.requireErr("TryLock", l.TryLock(), nil)
			hi := s.tl.now()
			checkContents := func(which, name string) {
				t.Helper()
				got := s.look(name).contents
				switch {
				case got == claim:
				case strings.TrimSpace(got) == claim:
					s.errorf("%s contains %q: want exactly the claim name, with no newline or space", which, got)
				default:
					s.errorf("%s contains %q, want exactly the claim name %q", which, got, claim)
				}
			}
			checkContents("claim file", claim)
			checkContents("lock file", abs)
			mtime := s.look(abs).mtime
			if ok, want := s.tl.between(mtime, lo.Add(s.tl.lifetime), hi.Add(s.tl.lifetime)); !ok {
				s.errorf("lock taken at %s: lock file mtime %s, want acquisition + lifetime %v = %s", s.tl.at(lo), s.tl.at(mtime), s.tl.lifetime, want)
			}
			if exp := s.expiry(l); !exp.Equal(mtime) {
				s.errorf("Expiration() = %s, want the lock file's mtime %s", s.tl.at(exp), s.tl.at(mtime))
			}
			s.wantFiles("after TryLock", abs, claim)

			s.requireErr("Unlock", l.Unlock(), nil)
			s.requireErr("TryLock after Unlock", l.TryLock(), nil)
			if l.ClaimFile() != claim {
				s.errorf("claim name changed from %q to %q: want it fixed for the life of the Lock", claim, l.ClaimFile())
			}
			checkContents("lock file after a second acquisition", abs)
			s.checkErr("Unlock", l.Unlock(), nil)

			twin := s.newLock(append(tc.opts, locker.WithPID(l.PID()))...)
			if twin.ClaimFile() == claim {
				s.errorf("two Locks of one host and pid share the claim name %q: want a random part chosen per Lock", claim)
			}
		})
	}
}

func scenarioState(t *testing.T, b Backend) {
	const rule = "State infers flufl.lock's six states"
	needSpawn := func(t *testing.T, s *scene) {
		if s.env.Spawn == nil {
			t.Skipf("%s: Env.Spawn is nil: no way to start a live process on this host", b.Name)
		}
	}
	t.Run("Unlocked", func(t *testing.T) {
		s := newScene(t, b, rule+": Unlocked when there is no lock file")
		s.wantState(s.newLock(), locker.Unlocked, "with no lock file")
	})
	t.Run("Ours", func(t *testing.T) {
		s := newScene(t, b, rule+": Ours when the claim names this host and pid and has not expired")
		l := s.newLock()
		s.requireErr("Lock", l.Lock(s.ctx), nil)
		s.wantState(l, locker.Ours, "while held")
		twin := s.newLock(locker.WithPID(l.PID()))
		s.wantState(twin, locker.Ours, "asked by another Lock of the same host and pid")
		if twin.IsLocked() {
			s.errorf("IsLocked of another Lock of the same host and pid = true, want false (its claim name differs)")
		}
	})
	t.Run("OursExpired", func(t *testing.T) {
		s := newScene(t, b, rule+": OursExpired when the claim names this host and pid and has expired")
		l := s.newLock()
		s.requireErr("Lock", l.Lock(s.ctx), nil)
		exp := s.expiry(l)
		s.tl.advanceTo(exp.Add(-s.tl.near))
		s.wantState(l, locker.Ours, "just before expiry")
		if s.tl.virtual != nil {
			s.tl.advanceTo(exp)
			s.wantState(l, locker.Ours, "at expiry exactly")
		}
		s.tl.advanceTo(exp.Add(s.tl.near))
		s.wantState(l, locker.OursExpired, "just after expiry")
	})
	t.Run("Stale", func(t *testing.T) {
		s := newScene(t, b, rule+": Stale when the claim names another process of this host that is dead")
		needSpawn(t, s)
		pid, kill := s.env.Spawn(t)
		holder := s.newLock(locker.WithPID(pid), locker.WithLifetime(time.Hour))
		s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
		kill()
		s.wantState(s.newLock(), locker.Stale, fmt.Sprintf("after the holder, pid %d of this host, died", pid))
	})
	t.Run("TheirsExpired", func(t *testing.T) {
		s := newScene(t, b, rule+": TheirsExpired when another live process of this host holds an expired lock")
		needSpawn(t, s)
		pid, _ := s.env.Spawn(t)
		holder := s.newLock(locker.WithPID(pid))
		s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
		s.tl.advanceTo(s.expiry(holder).Add(s.tl.near))
		s.wantState(s.newLock(), locker.TheirsExpired, fmt.Sprintf("after the lock of live pid %d of this host expired", pid))
	})
	t.Run("UnknownLiveLocal", func(t *testing.T) {
		s := newScene(t, b, rule+": Unknown when another live process of this host holds an unexpired lock")
		needSpawn(t, s)
		pid, _ := s.env.Spawn(t)
		holder := s.newLock(locker.WithPID(pid))
		s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
		s.wantState(s.newLock(), locker.Unknown, fmt.Sprintf("while live pid %d of this host holds the lock", pid))
	})
	t.Run("UnknownOtherHost", func(t *testing.T) {
		s := newScene(t, b, rule+": Unknown when the claim names another host, expired or not")
		holder := s.newLock(locker.WithHostname("elsewhere.example.org"))
		s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
		l := s.newLock()
		s.wantState(l, locker.Unknown, "while another host holds the lock")
		s.tl.advanceTo(s.expiry(holder).Add(s.tl.near))
		s.wantState(l, locker.Unknown, "after another host's lock expired")
		// Another host with this Lock's pid is still another host.
		s.requireErr("holder's Unlock", holder.Unlock(), nil)
		same := s.newLock(locker.WithHostname("elsewhere.example.org"), locker.WithPID(l.PID()))
		s.requireErr("Lock by another host with the same pid", same.Lock(s.ctx), nil)
		s.wantState(l, locker.Unknown, "while another host holds the lock under this Lock's pid")
	})
	t.Run("UnknownForeignFile", func(t *testing.T) {
		s := newScene(t, b, rule+": Unknown when the lock file is not a lock")
		if err := s.env.FS.WriteFile(s.path, []byte("not a lock"), 0o644); err != nil {
			t.Fatal(err)
		}
		s.wantState(s.newLock(), locker.Unknown, "with a foreign file at the lock path")
	})
	t.Run("Names", func(t *testing.T) {
		names := []struct {
			s    locker.State
			name string
		}{
			{locker.Unlocked, "unlocked"},
			{locker.Ours, "ours"},
			{locker.OursExpired, "ours_expired"},
			{locker.Stale, "stale"},
			{locker.TheirsExpired, "theirs_expired"},
			{locker.Unknown, "unknown"},
		}
		for _, n := range names {
			if got := n.s.String(); got != n.name {
				t.Errorf("rule: states have flufl.lock's names: State(%d).String() = %q, want %q", int(n.s), got, n.name)
			}
		}
	})
}

func scenarioDetails(t *testing.T, b Backend) {
	s := newScene(t, b, "Details reads the holder's host, pid and lock file, and the expiry, from the lock file")
	l := s.newLock()
	_, err := l.Details()
	s.checkErr("Details with no lock file", err, locker.ErrNotLocked)
	_, err = l.Expiration()
	s.checkErr("Expiration with no lock file", err, locker.ErrNotLocked)

	const host, pid = "elsewhere.example.org", 4242
	holder := s.newLock(locker.WithHostname(host), locker.WithPID(pid))
	lo := s.tl.now()
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	hi := s.tl.now()
	exp := s.expiry(holder)
	if ok, want := s.tl.between(exp, lo.Add(s.tl.lifetime), hi.Add(s.tl.lifetime)); !ok {
		s.errorf("holder's Expiration() = %s, want %s", s.tl.at(exp), want)
	}
	want := locker.Details{Hostname: host, PID: pid, LockFile: holder.LockFile(), Expires: exp}
	for _, asker := range []struct {
		who string
		l   *locker.Lock
	}{{"another Lock", l}, {"the holder", holder}} {
		got, err := asker.l.Details()
		if err != nil {
			s.errorf("Details asked by %s: %v", asker.who, err)
			continue
		}
		if got.Hostname != want.Hostname || got.PID != want.PID || got.LockFile != want.LockFile || !got.Expires.Equal(want.Expires) {
			s.errorf("Details asked by %s = {host %q pid %d lock file %q expires %s}, want {host %q pid %d lock file %q expires %s}",
				asker.who, got.Hostname, got.PID, got.LockFile, s.tl.at(got.Expires), want.Hostname, want.PID, want.LockFile, s.tl.at(want.Expires))
		}
	}
	if got, err := l.Expiration(); err != nil || !got.Equal(exp) {
		s.errorf("Expiration asked by another Lock = %s, %s; want %s", s.tl.at(got), errText(err), s.tl.at(exp))
	}
	s.requireErr("holder's Unlock", holder.Unlock(), nil)
	_, err = l.Details()
	s.checkErr("Details after the holder's Unlock", err, locker.ErrNotLocked)

	if err := s.env.FS.WriteFile(s.path, []byte("not a lock"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = l.Details()
	s.checkErr("Details with a foreign file at the lock path", err, locker.ErrForeignFile)
}

func scenarioNoLeftovers(t *testing.T, b Backend) {
	s := newScene(t, b, "once every lock is released or broken, no claim or temporary file is left")
	s.tl.autoAdvance()
	a, c, e := s.newLock(), s.newLock(), s.newLock()
	d := s.newLock(locker.WithHostname("elsewhere.example.org"))
	faults := faultfs.New(s.env.FS)
	f := s.newLockOn(faults, s.path)
	waiter := s.newLock(locker.WithTimeout(s.tl.lifetime / 4))

	s.requireErr("a's Lock", a.Lock(s.ctx), nil)
	s.checkErr("c's TryLock while a holds", c.TryLock(), locker.ErrBusy)
	s.checkErr("waiter's Lock with a timeout while a holds", waiter.Lock(s.ctx), locker.ErrTimeout)
	cctx, cancel := context.WithCancel(s.ctx)
	cancel()
	s.checkErr("e's Lock with a cancelled context", e.Lock(cctx), context.Canceled)
	s.wantFiles("while a holds the lock", a.LockFile(), a.ClaimFile())
	s.requireErr("a's Unlock", a.Unlock(), nil)
	s.wantFiles("after a's Unlock")

	faults.LoseReply(faultfs.OpLink, 1, syscall.EEXIST)
	s.requireErr("f's Lock with a lost link reply", f.Lock(s.ctx), nil)
	s.requireErr("f's Unlock", f.Unlock(), nil)
	faults.Fail(faultfs.OpLink, 1, syscall.EIO)
	s.checkErr("f's Lock with link failing with EIO", f.Lock(s.ctx), syscall.EIO)
	s.wantFiles("after f's locks")

	s.requireErr("c's TryLock", c.TryLock(), nil)
	s.requireErr("d's Lock, breaking c's lock once it expires", d.Lock(s.ctx), nil)
	s.wantFiles("after d broke c's lock", d.LockFile(), d.ClaimFile())
	s.checkErr("c's Refresh after its lock was broken", c.Refresh(), locker.ErrNotLocked)
	s.checkErr("c's Unlock after its lock was broken", c.Unlock(), locker.ErrNotLocked)
	s.requireErr("d's Unlock", d.Unlock(), nil)
	for _, l := range []*locker.Lock{a, c, d, e, f, waiter} {
		s.checkErr("UnlockUnconditionally of "+l.ClaimFile(), l.UnlockUnconditionally(), nil)
	}
	s.wantFiles("after lock, unlock, timeout, cancel, lost reply, link error and break by several locks")
}

// fluflUnlock releases l's lock the way flufl.lock does: it removes the lock
// file and the claim file, without nfslock's break lock.
func (s *scene) fluflUnlock(l *locker.Lock) {
	s.t.Helper()
	for _, name := range []string{l.LockFile(), l.ClaimFile()} {
		if err := s.env.FS.Remove(name); err != nil {
			s.t.Fatalf("releasing as flufl.lock does: %v", err)
		}
	}
}

// skewedClock is a host clock that is off by a fixed amount.
type skewedClock struct {
	locker.Clock
	off time.Duration
}

func (c skewedClock) Now() time.Time { return c.Clock.Now().Add(c.off) }

// scenarioSkewedClocks: a host whose clock is a minute fast must not break
// a live lock whose holder refreshes on time, and a holder whose clock is a
// minute slow must not have its refreshed lock broken by a correct host. The
// locks learn the file server's clock from the files they write.
func scenarioSkewedClocks(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name               string
		holderOff, someOff time.Duration
	}{
		{"FastBreaker", 0, time.Minute},
		{"SlowHolder", -time.Minute, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, "a host whose clock is wrong by more than the slop neither breaks a live, refreshed lock nor has it broken")
			if !b.RealTime && s.env.Clock == nil {
				t.Skip("the backend's file times come from a clock the suite does not drive, so host clocks cannot be skewed against it")
			}
			holder := s.newLock(locker.WithClock(skewedClock{s.tl.clock, tc.holderOff}))
			other := s.newLock(locker.WithClock(skewedClock{s.tl.clock, tc.someOff}), locker.WithHostname("other"))
			s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
			for i := 1; i <= 6; i++ {
				s.tl.advance(s.tl.lifetime / 3)
				s.requireErr(fmt.Sprintf("holder's refresh %d, on time", i), holder.Refresh(), nil)
				s.requireErr(fmt.Sprintf("TryLock by the host whose clock is %v off, after refresh %d", tc.someOff, i), other.TryLock(), locker.ErrBusy)
			}
			for _, l := range []struct {
				l   *locker.Lock
				off time.Duration
			}{{holder, tc.holderOff}, {other, tc.someOff}} {
				if got := l.l.ClockOffset(); (got + l.off).Abs() > time.Second {
					s.errorf("ClockOffset() of a host whose clock is %v off: %v, want about %v", l.off, got, -l.off)
				}
			}
			s.requireErr("holder's Unlock", holder.Unlock(), nil)
			s.wantFiles("after the holder's Unlock")
		})
	}
}

// scenarioKeepAlive: a kept-alive lock outlives several lifetimes, and is
// never broken meanwhile.
func scenarioKeepAlive(t *testing.T, b Backend) {
	s := newScene(t, b, "a lock kept alive in the background is never broken")
	holder := s.newLock()
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	ka, err := holder.KeepAlive(s.ctx)
	s.requireErr("KeepAlive", err, nil)
	other := s.newLock(locker.WithHostname("other"))
	for i := 1; i <= 9; i++ { // three lifetimes
		s.tl.waitAsleep(1)
		s.tl.advance(s.tl.lifetime / 3)
		s.tl.waitAsleep(1)
		s.requireErr(fmt.Sprintf("TryLock by another after %d refresh intervals", i), other.TryLock(), locker.ErrBusy)
	}
	if ka.Err() != nil || !holder.IsLocked() {
		s.fatalf("after three lifetimes: KeepAlive.Err() = %v, IsLocked = %v; want nil, true", ka.Err(), holder.IsLocked())
	}
	s.requireErr("holder's Unlock", holder.Unlock(), nil)
	select {
	case <-ka.Context().Done():
	default:
		s.errorf("the KeepAlive's context is not done after Unlock")
	}
	s.wantFiles("after Unlock")
}

// scenarioKeepAliveReportsLoss: the holder is paused inside a refresh past
// its lifetime plus the slop (alive, but not running); another process
// breaks the lock and takes it; the holder's Lost channel closes when it
// runs again, and its Unlock leaves the new holder's lock alone.
func scenarioKeepAliveReportsLoss(t *testing.T, b Backend) {
	s := newScene(t, b, "a kept-alive holder that was paused past its lifetime learns that it lost the lock")
	faults := faultfs.New(s.env.FS)
	holder := s.newLockOn(faults, s.path)
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	var paused atomic.Bool
	resume := make(chan struct{})
	faults.SetHook(func(op faultfs.Op, args ...string) {
		if op == faultfs.OpChtimes && paused.Load() {
			<-resume
		}
	})
	defer func() {
		if paused.Swap(false) {
			close(resume)
		}
	}()
	ka, err := holder.KeepAlive(s.ctx)
	s.requireErr("KeepAlive", err, nil)
	expiry := s.expiry(holder)
	paused.Store(true)
	s.tl.waitAsleep(1)
	s.tl.advance(s.tl.lifetime / 3) // the keep-alive starts a refresh, and is paused in it
	s.tl.advanceTo(expiry.Add(s.tl.slop + s.tl.near))
	other := s.newLock(locker.WithHostname("other"))
	s.requireErr("TryLock by another once the paused holder's lock expired", other.TryLock(), nil)
	select {
	case <-ka.Lost():
		s.fatalf("Lost closed while the holder was still paused")
	default:
	}
	paused.Store(false)
	close(resume)
	select {
	case <-ka.Lost():
	case <-s.ctx.Done():
		s.fatalf("the paused holder's Lost channel did not close after its lock was broken and taken")
	}
	if !errors.Is(ka.Err(), locker.ErrLost) || !errors.Is(context.Cause(ka.Context()), locker.ErrLost) {
		s.errorf("KeepAlive.Err() = %v, context cause %v; want ErrLost", ka.Err(), context.Cause(ka.Context()))
	}
	s.checkErr("the lost holder's Unlock", holder.Unlock(), locker.ErrNotLocked)
	if !other.IsLocked() {
		s.errorf("the new holder lost the lock to the old holder's Unlock")
	}
}

// scenarioWatcherWakesWaiter: where the backend can watch a directory, a
// waiting Lock takes a released lock at once, not at its next poll (here an
// hour away).
func scenarioWatcherWakesWaiter(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiting Lock wakes when the lock is released, where the backend can watch the directory")
	if _, ok := s.env.FS.(locker.Watcher); !ok {
		t.Skip("the backend cannot watch a directory (it does not implement locker.Watcher); waiters poll")
	}
	holder := s.newLock()
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	waiter := s.newLock(locker.WithBackoff(time.Hour, time.Hour))
	done := s.goLock(s.ctx, waiter)
	s.tl.waitAsleep(1)
	s.requireErr("holder's Unlock", holder.Unlock(), nil)
	// No clock advance: only the watcher can wake the waiter.
	s.requireErr("waiter's Lock, woken by the release", s.await("waiter's Lock", done), nil)
	if !waiter.IsLocked() {
		s.errorf("the woken waiter does not hold the lock")
	}
	s.requireErr("waiter's Unlock", waiter.Unlock(), nil)
	s.wantFiles("after the waiter's Unlock")
}
