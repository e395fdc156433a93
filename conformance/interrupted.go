package conformance

import (
	"errors"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// Scenarios in which one locker acts in the middle of another's operation,
// at the one moment where a weakened lock goes wrong. Each pins down a race
// that the interleaving tests find only now and then (several were found
// there first), so that every run of the suite checks it.

var interruptedScenarios = []struct {
	name string
	run  func(*testing.T, Backend)
}{
	{"QueryMidBreak", scenarioQueryMidBreak},
	{"OrphanedLockRetaken", scenarioOrphanedLockRetaken},
	{"OldLockPutBack", scenarioOldLockPutBack},
	{"HolderCannotReadItsLock", scenarioHolderCannotReadItsLock},
	{"LinkCountsLearntDespiteESTALE", scenarioLinkCountsLearnt},
	{"OldLockNotLearntFrom", scenarioOldLockNotLearntFrom},
	{"StaleClaimLinkedThenBroken", scenarioStaleClaimLinkedThenBroken},
	{"BreakLockLostReply", scenarioBreakLockLostReply},
	{"StaleBreakLockMovedByMistake", scenarioStaleBreakLockMovedByMistake},
	{"BreakLockReplacedMidMove", scenarioBreakLockReplacedMidMove},
	{"LiveBreakLockLeftAlone", scenarioLiveBreakLockLeftAlone},
	{"RefreshUnderReplacedBreakLock", scenarioRefreshUnderReplacedBreakLock},
	{"OrphanedLockBrokenByItsHolder", scenarioOrphanedLockBrokenByItsHolder},
	{"ReleaseDespiteFaults", scenarioReleaseDespiteFaults},
	{"ReleaseReplyLostThenRetaken", scenarioReleaseReplyLostThenRetaken},
	{"BreakLockReleaseReplyLost", scenarioBreakLockReleaseReplyLost},
	{"ConfirmingReadsTheLockAgain", scenarioConfirmingReadsTheLockAgain},
	{"DeadBreakerSwept", scenarioDeadBreakerSwept},
	{"BreakOnRequest", scenarioBreakOnRequest},
	{"KeepAliveReportsForceBreak", scenarioKeepAliveReportsForceBreak},
	{"KeepAliveRefreshesFailing", scenarioKeepAliveRefreshesFailing},
	{"SweepLostRenameReply", scenarioSweepLostRenameReply},
	{"SweepSparesClaimRedatedMeanwhile", scenarioSweepSparesRedated},
	{"SweepPutsBackLinkedClaim", scenarioSweepPutsBackLinked},
	{"SweptWaiterWritesClaimAgain", scenarioSweptWaiterWritesClaimAgain},
	{"ExpiredHolderRefreshKeepsBreakersOut", scenarioExpiredRefreshKeepsBreakersOut},
	{"RefreshAfterLockMovedAside", scenarioRefreshAfterLockMovedAside},
	{"WaiterSeesItsLostReplyAtOnce", scenarioWaiterSeesItsLostReply},
	{"WaiterSeesForeignObjectAtOnce", scenarioWaiterSeesForeignObject},
	{"WaiterSeesForeignObjectMidLook", scenarioWaiterSeesForeignObjectMidLook},
	{"WaiterBreaksReplacedExpiredLockAtOnce", scenarioWaiterBreaksReplacedExpired},
}

// hook runs f once, on the goroutine of the call, before the first call of
// op on fsys whose last name argument satisfies match.
func hook(fsys *faultfs.FS, op faultfs.Op, match func(name string) bool, f func()) {
	var once sync.Once
	fsys.SetHook(func(o faultfs.Op, args ...string) {
		if o == op && len(args) > 0 && match(args[len(args)-1]) {
			once.Do(f)
		}
	})
}

func is(name string) func(string) bool { return func(n string) bool { return n == name } }
func endsWith(suffix string) func(string) bool {
	return func(n string) bool { return strings.HasSuffix(n, suffix) }
}

var errStale = locker.Transient(syscall.ESTALE)

// expiredHolder takes the lock with a Lock on fsys and lets it expire past
// the slop.
func (s *scene) expiredHolder(fsys locker.FS, opts ...locker.Option) *locker.Lock {
	s.t.Helper()
	h := s.newLockOn(fsys, s.path, opts...)
	s.requireErr("the holder's Lock", h.Lock(s.ctx), nil)
	s.tl.advanceTo(s.expiry(h).Add(s.tl.slop + s.tl.near))
	return h
}

func scenarioQueryMidBreak(t *testing.T, b Backend) {
	t.Run("IsLockedWhileMovedAside", func(t *testing.T) { scenarioIsLockedWhileMovedAside(t, b) })
	for _, query := range []string{"IsLocked", "State", "Unlock"} {
		t.Run(query, func(t *testing.T) {
			rule := "an expired holder whose lock is broken and taken afresh between its reading the lock file's contents and its attributes does not answer that it holds the lock"
			if query == "Unlock" {
				rule = "an expired holder whose lock is broken and taken afresh between its Unlock's reading the lock file's contents and its attributes leaves the new lock alone (it looks again under the break lock) and reports ErrNotLocked"
			}
			s := newScene(t, b, rule)
			faults := faultfs.New(s.env.FS)
			holder := s.expiredHolder(faults)
			var taker *locker.Lock
			movedAside := false
			faults.SetHook(func(op faultfs.Op, args ...string) {
				switch {
				case op == faultfs.OpStat && args[0] == s.path && taker == nil:
					taker = s.newLock()
					s.checkErr("the taker's TryLock, breaking the expired lock", taker.TryLock(), nil)
				case op == faultfs.OpRename && args[0] == s.path && taker != nil:
					movedAside = true
				}
			})
			switch query {
			case "IsLocked":
				if holder.IsLocked() {
					s.errorf("IsLocked() = true; want false: the lock file was the taker's when its attributes were read")
				}
			case "State":
				if st, err := holder.State(); st == locker.Ours || st == locker.OursExpired {
					s.errorf("State() = %v (%s); want neither ours nor ours_expired: the lock file was the taker's when its attributes were read", st, errText(err))
				}
			case "Unlock":
				// The attributes read are the taker's, dated in the
				// future: a plain remove, trusting them, would remove
				// the taker's lock.
				s.checkErr("the holder's Unlock", holder.Unlock(), locker.ErrNotLocked)
				if got := s.look(s.path); taker != nil && got.contents != taker.ClaimFile() {
					s.errorf("MUTUAL EXCLUSION VIOLATED: the expired holder's Unlock removed the lock the taker holds: lock file %s", s.describe(got))
				}
				// Nor may it move the taker's lock aside, even for a
				// moment: a third linking meanwhile would hold the lock
				// with the taker (the put-back finds the name taken).
				if movedAside {
					s.errorf("TWO HOLDERS POSSIBLE: the expired holder's Unlock moved aside the lock the taker holds, without looking again under the break lock whose lock it was")
				}
			}
			if taker == nil {
				s.fatalf("%s() never read the lock file's attributes", query)
			}
			if !taker.IsLocked() {
				s.errorf("the taker lost its lock")
			}
		})
	}
}

// orphanLock makes h, whose lock has expired, fail to release it: it cannot
// write its break claim, so the lock file stays behind with its claim name,
// no longer a link to its claim file, which Unlock removes.
func (s *scene) orphanLock(faults *faultfs.FS, h *locker.Lock, noLinks bool) {
	s.t.Helper()
	hook(faults, faultfs.OpWriteFile, endsWith(strings.TrimPrefix(h.ClaimFile(), s.path)), func() {
		faults.Fail(faultfs.OpWriteFile, 1, syscall.EIO)
	})
	if err := h.Unlock(); err == nil {
		s.fatalf("the holder's Unlock with its break claim failing to be written: nil error; want it to fail")
	}
	faults.SetHook(nil)
	if f := s.look(s.path); f.contents != h.ClaimFile() || f.links != 1 && !noLinks {
		s.fatalf("after the failed Unlock the lock file is %s; want the holder's old lock file, with one link", s.describe(f))
	}
}

func scenarioOrphanedLockRetaken(t *testing.T, b Backend) {
	s := newScene(t, b, "a Lock whose old lock file (left behind when removing it failed) is broken and taken afresh between its reading the lock file's contents and its attributes does not take the new lock for its own")
	faults := faultfs.New(s.env.FS)
	holder := s.expiredHolder(faults)
	s.orphanLock(faults, holder, b.NoLinkCounts)
	var taker *locker.Lock
	// The holder's TryLock: its link fails, it reads the lock file (its
	// own old claim name), and before it reads the attributes the taker
	// breaks the old lock and takes the lock.
	reads := 0
	faults.SetHook(func(op faultfs.Op, args ...string) {
		if op == faultfs.OpStat && args[0] == s.path && taker == nil && reads > 0 {
			taker = s.newLock()
			s.checkErr("the taker's TryLock, breaking the old expired lock", taker.TryLock(), nil)
		}
		if op == faultfs.OpReadFile && args[0] == s.path {
			reads++
		}
	})
	err := holder.TryLock()
	faults.SetHook(nil)
	if taker == nil {
		s.fatalf("the holder's TryLock (%s) never read the lock file's attributes after its contents", errText(err))
	}
	s.checkErr("the holder's TryLock, the taker holding the lock", err, locker.ErrBusy)
	if !taker.IsLocked() || holder.IsLocked() {
		s.errorf("IsLocked: taker %v, holder %v; want true, false", taker.IsLocked(), holder.IsLocked())
	}
}

func scenarioOldLockPutBack(t *testing.T, b Backend) {
	s := newScene(t, b, "a Lock does not take for its own an old lock file of its own that a breaker puts back after it wrote its claim file afresh: that lock file's second link is the breaker's, not its claim file")
	if b.NoLinkCounts {
		t.Skipf("%s reports no link counts: a lock file is told from another only by the claim name in it", b.Name)
	}
	holderFS := faultfs.New(s.env.FS)
	holder := s.expiredHolder(holderFS)
	breakerFS := faultfs.New(s.env.FS)
	breaker := s.newLockOn(breakerFS, s.path)

	// The holder's TryLock runs while the breaker has moved its lock aside
	// (it finds the lock path empty, writes its claim afresh) and stops
	// before its link; it links once the breaker has put the old lock back
	// (its check of what it moved failed: ESTALE, however often it tried) and before the breaker
	// removes the name it moved it to.
	linking, link := make(chan struct{}), make(chan struct{})
	var onceLink sync.Once
	holderFS.SetHook(func(op faultfs.Op, args ...string) {
		if op == faultfs.OpLink && args[1] == s.path {
			onceLink.Do(func() {
				close(linking)
				<-link
			})
		}
	})
	holderDone := make(chan error, 1)
	var once, onceRemove sync.Once
	started := func() bool { // the holder's TryLock was started (the breaker has moved the lock aside)
		select {
		case <-linking:
			return true
		default:
			return false
		}
	}
	breakerFS.SetHook(func(op faultfs.Op, args ...string) {
		switch {
		case op == faultfs.OpReadFile && strings.HasSuffix(args[0], ".moved"):
			once.Do(func() {
				go func() { holderDone <- holder.TryLock() }()
				select {
				case <-linking:
				case err := <-holderDone:
					holderDone <- err
				}
			})
		case op == faultfs.OpStat && strings.HasSuffix(args[0], ".moved"):
			breakerFS.Fail(faultfs.OpStat, 1, errStale) // every try of its check
		case op == faultfs.OpRemove && strings.HasSuffix(args[0], ".moved") && started():
			onceRemove.Do(func() {
				close(link)
				s.checkErr("the holder's TryLock, its old lock being put back", s.await("the holder's TryLock", holderDone), locker.ErrBusy)
			})
		}
	})
	err := breaker.TryLock()
	breakerFS.SetHook(nil)
	select {
	case <-linking:
	default:
		s.fatalf("the breaker's TryLock (%s) never moved the expired lock aside while the holder tried to take it again", errText(err))
	}
	if holder.IsLocked() {
		s.errorf("the holder's IsLocked() = true; want false: the lock file is its old one, its claim file a new one")
	}
}

func scenarioHolderCannotReadItsLock(t *testing.T, b Backend) {
	s := newScene(t, b, "a holder whose TryLock cannot read its lock (ESTALE, however often it tries) keeps its lock: it neither takes it for lost nor writes its claim file afresh")
	faults := faultfs.New(s.env.FS)
	holder := s.newLockOn(faults, s.path)
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	// Every stat of the lock file fails while the TryLock runs: a look
	// that fails for a moment is tried again, so one fault would not do.
	faults.SetHook(func(op faultfs.Op, args ...string) {
		if op == faultfs.OpStat && len(args) > 0 && args[0] == s.path {
			faults.Fail(faultfs.OpStat, 1, errStale)
		}
	})
	if err := holder.TryLock(); err == nil {
		s.errorf("the holder's TryLock with reading its lock failing: nil error; want an error")
	}
	faults.SetHook(nil)
	if !holder.IsLocked() {
		s.errorf("after its TryLock failed to read the lock, the holder no longer holds it: lock file %s, claim file %s", s.describe(s.look(s.path)), s.describe(s.look(holder.ClaimFile())))
	}
	s.checkErr("the holder's TryLock", holder.TryLock(), locker.ErrAlreadyLocked)
	s.checkErr("the holder's Unlock", holder.Unlock(), nil)
	s.wantFiles("after Unlock")
}

func scenarioLinkCountsLearnt(t *testing.T, b Backend) {
	s := newScene(t, b, "a Lock learns that the filesystem counts links even if its first look at its claim file after a link fails once (ESTALE); it never takes an old lock file of its own for the lock it holds")
	if b.NoLinkCounts {
		t.Skipf("%s reports no link counts", b.Name)
	}
	faults := faultfs.New(s.env.FS)
	holder := s.newLockOn(faults, s.path)
	linked := false
	faults.SetHook(func(op faultfs.Op, args ...string) {
		switch {
		case op == faultfs.OpLink && args[1] == s.path:
			linked = true
		case op == faultfs.OpStat && args[0] == holder.ClaimFile() && linked:
			linked = false
			faults.Fail(faultfs.OpStat, 1, errStale)
		}
	})
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	faults.SetHook(nil)
	s.tl.advanceTo(s.expiry(holder).Add(s.tl.slop + s.tl.near))
	s.orphanLock(faults, holder, b.NoLinkCounts)
	s.requireErr("the holder's TryLock, its old lock file expired", holder.TryLock(), nil)
	if lf, cf := s.look(s.path), s.look(holder.ClaimFile()); lf.contents != holder.ClaimFile() || lf.links != 2 || cf.links != 2 {
		s.errorf("after TryLock: lock file %s, claim file %s; want the lock file a second link to the claim file (the old lock file broken, not taken over)", s.describe(lf), s.describe(cf))
	}
	s.checkErr("Unlock", holder.Unlock(), nil)
}

// scenarioOldLockNotLearntFrom: a Lock that has not yet learnt whether the
// filesystem counts links finds, at its first link, an old lock file of its
// own (left when giving up an earlier attempt failed: its link's reply was
// lost and it could not look at the lock file) that has the very date its
// claim file now has. Taking that one link for proof that links are not
// counted would make the old file its lock, a file its claim file no longer
// dates. CI's mutation test found this, on memfs, where links are counted.
func scenarioOldLockNotLearntFrom(t *testing.T, b Backend) {
	s := newScene(t, b, "a Lock that finds at its first link an old lock file of its own, a separate file with its claim file's date, does not take it for its lock (nor learn from it that links are not counted), and breaks it once it has expired")
	l := s.newLock()
	exp := s.tl.now().Add(s.tl.lifetime)
	if err := s.env.FS.WriteFile(s.path, []byte(l.ClaimFile()), 0o644); err != nil {
		s.fatalf("writing the old lock file: %v", err)
	}
	if err := s.env.FS.Chtimes(s.path, exp, exp); err != nil {
		s.fatalf("dating the old lock file: %v", err)
	}
	s.checkErr("TryLock with an old lock file of its own at the lock path", l.TryLock(), locker.ErrBusy)
	if l.IsLocked() {
		s.errorf("TWO HOLDERS POSSIBLE: the Lock took for its own an old lock file that its claim file does not date (it expires at %v whatever the Lock does)", exp)
	}
	if got := s.look(s.path); got.contents != l.ClaimFile() {
		s.errorf("after TryLock: lock file %s, want the old lock file left alone", s.describe(got))
	}
	s.tl.advanceTo(exp.Add(s.tl.slop + s.tl.near))
	s.checkErr("TryLock once the old lock file has expired", l.TryLock(), nil)
	if lf, cf := s.look(s.path), s.look(l.ClaimFile()); lf.contents != l.ClaimFile() || !b.NoLinkCounts && (lf.links != 2 || cf.links != 2) {
		s.errorf("after TryLock: lock file %s, claim file %s; want the lock file a second link to the claim file", s.describe(lf), s.describe(cf))
	}
	s.checkErr("Unlock", l.Unlock(), nil)
	s.wantFiles("after Unlock")
}

// scenarioStaleClaimLinkedThenBroken: a Lock paused between dating its
// claim file and linking it takes the lock with a date already past by more
// than the slop (or paused after its link, before it dates the lock again,
// until that date has passed); before it dates the lock again, another
// breaks it as expired and takes it. The first must see that it lost it.
// The interleavings found both (a retry of an ESTALE read that slept
// through a clock jump; a Stat retried while another slept).
func scenarioStaleClaimLinkedThenBroken(t *testing.T, b Backend) {
	for _, pause := range []string{"BeforeLink", "BeforeRedating"} {
		t.Run(pause, func(t *testing.T) {
			s := newScene(t, b, "a Lock that links a claim file whose date has passed by more than the slop (before its link, or before it dates the lock again), and whose lock is broken and taken by another before it dates it again, does not believe it holds the lock")
			faults := faultfs.New(s.env.FS)
			slow := s.newLockOn(faults, s.path)
			var other *locker.Lock
			var otherErr error
			paused, broke := false, false
			faults.SetHook(func(op faultfs.Op, args ...string) {
				switch {
				case op == faultfs.OpLink && len(args) == 2 && args[1] == s.path && !paused:
					paused = true
					if pause == "BeforeLink" {
						s.tl.advanceTo(s.tl.now().Add(s.tl.lifetime + s.tl.slop + s.tl.near))
					} else {
						// No longer fresh (a claim dated at most a hundredth
						// of the lifetime, and never more than 100 ms, ago
						// counts as just dated): it will be dated again.
						s.tl.advanceTo(s.tl.now().Add(min(s.tl.lifetime/100, 100*time.Millisecond) + 10*time.Millisecond))
					}
				case op == faultfs.OpChtimes && len(args) > 0 && args[0] == slow.ClaimFile() && paused && !broke:
					if pause == "BeforeRedating" {
						s.tl.advanceTo(s.tl.now().Add(s.tl.lifetime + s.tl.slop + s.tl.near))
					}
					// The other breaks the lock; the slow Lock's re-dating
					// lands just after the lock file was moved aside and
					// removed, before the other looks at the slow Lock's
					// claim file (which it then leaves: it is alive).
					broke = true
					otherFaults := faultfs.New(s.env.FS)
					otherFaults.SetHook(func(op faultfs.Op, args ...string) {
						if op == faultfs.OpStat && len(args) > 0 && args[0] == slow.ClaimFile() {
							otherFaults.SetHook(nil)
							exp := s.tl.now().Add(s.tl.lifetime)
							if err := s.env.FS.Chtimes(slow.ClaimFile(), exp, exp); err != nil {
								s.t.Errorf("re-dating the slow Lock's claim file: %v", err)
							}
						}
					})
					other = s.newLockOn(otherFaults, s.path)
					otherErr = other.TryLock()
				}
			})
			err := slow.TryLock()
			faults.SetHook(nil)
			if !broke {
				s.fatalf("the slow Lock's TryLock (%s) never dated its claim file again after its link; this scenario needs it to", errText(err))
			}
			s.requireErr("the other's TryLock, breaking the lock taken with a stale date", otherErr, nil)
			if slow.IsLocked() && other.IsLocked() || err == nil {
				s.errorf("MUTUAL EXCLUSION VIOLATED: the slow Lock's TryLock returned %s after its lock was broken and taken by another (the slow Lock's IsLocked = %v, the other's = %v)", errText(err), slow.IsLocked(), other.IsLocked())
			}
			s.checkErr("the slow Lock's TryLock", err, locker.ErrBusy)
			if got := s.look(s.path); got.contents != other.ClaimFile() {
				s.errorf("lock file %s, want the other's claim %q", s.describe(got), other.ClaimFile())
			}
			s.checkErr("the other's Unlock", other.Unlock(), nil)
			s.wantFiles("after the other's Unlock")
		})
	}
}

func scenarioBreakLockLostReply(t *testing.T, b Backend) {
	s := newScene(t, b, "a breaker whose link of the break lock succeeds but whose reply is lost (EEXIST) knows the break lock is its own, and breaks the expired lock")
	old := s.expiredHolder(s.env.FS)
	faults := faultfs.New(s.env.FS)
	breaker := s.newLockOn(faults, s.path)
	hook(faults, faultfs.OpLink, endsWith(".break"), func() { faults.LoseReply(faultfs.OpLink, 1, syscall.EEXIST) })
	s.checkErr("the breaker's TryLock", breaker.TryLock(), nil)
	s.wantFiles("after the break", breaker.LockFile(), breaker.ClaimFile())
	if old.IsLocked() {
		s.errorf("the old holder still holds the lock")
	}
	s.checkErr("the breaker's Unlock", breaker.Unlock(), nil)
}

// scenarioStaleBreakLockMovedByMistake: three breakers of a break lock
// left by a breaker that crashed. Breaker D judges it stale; before D moves
// it aside, breaker A breaks it, takes the break lock and looks that it is
// its own, about to move the expired lock aside; D then moves A's fresh
// break lock aside by mistake, and while its name is free breaker C links
// its own there. D must put A's back over C's: A has looked already and
// goes on, C looks after and leaves the lock alone. Put back with link, A's
// would be lost (C's is there) and A and C would break the lock at once,
// each believing it held the break lock.
func scenarioStaleBreakLockMovedByMistake(t *testing.T, b Backend) {
	s := newScene(t, b, "a breaker of a stale break lock that moves aside by mistake another's fresh one puts it back, even over one a third took while the name was free: the breaker that held it goes on, the third leaves the lock alone")
	holder := s.expiredHolder(s.env.FS)
	crashed := s.crashedBreaker()
	aFS, cFS, dFS := faultfs.New(s.env.FS), faultfs.New(s.env.FS), faultfs.New(s.env.FS)
	// A does not sweep once it holds the lock, which would remove the
	// crashed breaker's claim file where it looks dead already: what is
	// left is the breakers' doing alone.
	a, c, d := s.newLockOn(aFS, s.path, locker.WithSweep(false)), s.newLockOn(cFS, s.path), s.newLockOn(dFS, s.path)
	// A stops holding the break lock, having looked that it is its own,
	// just before it moves the expired lock aside.
	aPaused, aGoOn := s.pauseAt(aFS, func(op faultfs.Op, args []string) bool { return op == faultfs.OpRename && args[0] == s.path })
	// C stops just after its link of the break lock, before it looks.
	cPaused, cGoOn := s.pauseAt(cFS, after(faultfs.OpLink, s.breakPath()))
	var aDone, cDone <-chan error
	var cTook fileLook
	s.moveFreshBreakLockAside(dFS, func() {
		aDone = s.startPaused("breaker A's TryLock", a.TryLock, aPaused)
	}, func() {
		cDone = s.startPaused("breaker C's TryLock", c.TryLock, cPaused)
		cTook = s.look(s.breakPath())
	})
	dErr := d.TryLock()
	dFS.SetHook(nil)
	if cTook.contents != s.breakClaim(c) {
		s.fatalf("with A's break lock moved aside by breaker D (whose TryLock returned %s), breaker C did not take the free break lock: break lock %s; this scenario needs it to", errText(dErr), s.describe(cTook))
	}
	s.checkErr("breaker D's TryLock", dErr, locker.ErrBusy)
	if got := s.look(s.breakPath()); got.contents != s.breakClaim(a) {
		s.errorf("TWO BREAKERS AT ONCE: after breaker D moved A's fresh break lock aside by mistake (C taking the free name meanwhile), the break lock is %s; want A's %q put back, since A has looked already that it holds it and goes on to break the lock", s.describe(got), s.breakClaim(a))
	}
	// Were C to move the lock file aside, a taker would find the name
	// free and take it.
	taker := s.newLock()
	errNotTried := errors.New("not tried")
	took := errNotTried
	cFS.SetHook(func(op faultfs.Op, args ...string) {
		if op == faultfs.OpRename && args[0] == s.path && took == errNotTried {
			took = taker.TryLock()
		}
	})
	cGoOn()
	s.checkErr("breaker C's TryLock, its break lock replaced by A's", s.await("breaker C's TryLock", cDone), locker.ErrBusy)
	if got := s.look(s.breakPath()); got.contents != s.breakClaim(a) {
		s.errorf("TWO BREAKERS POSSIBLE: breaker C, letting go of the break lock, did not leave A's alone: the break lock is %s, A still at work under it", s.describe(got))
	}
	if took != errNotTried {
		s.errorf("breaker C, its break lock replaced by A's, moved the lock file aside (a taker's TryLock then returned %s); want it to look first and leave the lock to A", errText(took))
	}
	aGoOn()
	s.checkErr("breaker A's TryLock", s.await("breaker A's TryLock", aDone), nil)
	if !a.IsLocked() || c.IsLocked() || d.IsLocked() || holder.IsLocked() {
		s.errorf("IsLocked: A %v, C %v, D %v, the old holder %v; want only A", a.IsLocked(), c.IsLocked(), d.IsLocked(), holder.IsLocked())
	}
	// The crashed breaker's claim file stays until it looks dead and a
	// waiter sweeps it.
	s.wantFiles("after the three breakers", a.LockFile(), a.ClaimFile(), crashed.ClaimFile())
	s.checkErr("breaker A's Unlock", a.Unlock(), nil)
	s.wantFiles("after A's Unlock", crashed.ClaimFile())
}

// scenarioBreakLockReplacedMidMove: as in StaleBreakLockMovedByMistake, but
// the third breaker, C, takes the free break lock and also looks that it
// is its own and moves the expired lock aside before A's break lock is put
// back over its own. C must look again before it removes what it moved,
// and put it back: A, which held the break lock all along, goes on.
func scenarioBreakLockReplacedMidMove(t *testing.T, b Backend) {
	s := newScene(t, b, "a breaker whose break lock is replaced while it has the lock file aside (it took it while a breaker of a stale one had another's aside by mistake, which is put back over it) puts the lock file back: the breaker that held the break lock all along goes on")
	holder := s.expiredHolder(s.env.FS)
	aFS, cFS := faultfs.New(s.env.FS), faultfs.New(s.env.FS)
	a, c := s.newLockOn(aFS, s.path), s.newLockOn(cFS, s.path)
	aPaused, aGoOn := s.pauseAt(aFS, func(op faultfs.Op, args []string) bool { return op == faultfs.OpRename && args[0] == s.path })
	aDone := s.startPaused("breaker A's TryLock", a.TryLock, aPaused)
	// What a breaker of a stale break lock does by mistake: move A's
	// fresh one aside, and put it back with rename.
	moved := s.path + ".break-moved-by-a-breaker-of-a-stale-one"
	s.requireErr("moving A's break lock aside", s.env.FS.Rename(s.breakPath(), moved), nil)
	cPaused, cGoOn := s.pauseAt(cFS, func(op faultfs.Op, args []string) bool {
		return op == faultfs.OpReadFile && strings.HasSuffix(args[0], ".moved")
	})
	cDone := s.startPaused("breaker C's TryLock", c.TryLock, cPaused)
	if got := s.look(s.path); got.exists {
		s.fatalf("breaker C did not move the expired lock aside (lock file %s); this scenario needs it to", s.describe(got))
	}
	s.requireErr("putting A's break lock back", s.env.FS.Rename(moved, s.breakPath()), nil)
	cGoOn()
	s.checkErr("breaker C's TryLock, its break lock replaced by A's", s.await("breaker C's TryLock", cDone), locker.ErrBusy)
	if got := s.look(s.path); got.contents != holder.ClaimFile() {
		s.errorf("TWO BREAKERS AT ONCE: breaker C, its break lock replaced by A's while it had the expired lock aside, did not put it back: lock file %s", s.describe(got))
	}
	aGoOn()
	s.checkErr("breaker A's TryLock", s.await("breaker A's TryLock", aDone), nil)
	if !a.IsLocked() || c.IsLocked() || holder.IsLocked() {
		s.errorf("IsLocked: A %v, C %v, the old holder %v; want only A", a.IsLocked(), c.IsLocked(), holder.IsLocked())
	}
	s.wantFiles("after the two breakers", a.LockFile(), a.ClaimFile())
	s.checkErr("breaker A's Unlock", a.Unlock(), nil)
	s.wantFiles("after A's Unlock")
}

// scenarioLiveBreakLockLeftAlone: a breaker that finds the break lock held,
// and not expired, by another breaker at work leaves it alone: it does not
// move it aside even for a moment (while it is aside, its name is free for
// a third to take).
func scenarioLiveBreakLockLeftAlone(t *testing.T, b Backend) {
	s := newScene(t, b, "a breaker that finds a live break lock leaves it alone, never moving it aside, and reports the lock busy; the breaker holding it goes on")
	holder := s.expiredHolder(s.env.FS)
	aFS, bFS := faultfs.New(s.env.FS), faultfs.New(s.env.FS)
	a, other := s.newLockOn(aFS, s.path), s.newLockOn(bFS, s.path)
	aPaused, aGoOn := s.pauseAt(aFS, func(op faultfs.Op, args []string) bool { return op == faultfs.OpRename && args[0] == s.path })
	aDone := s.startPaused("breaker A's TryLock", a.TryLock, aPaused)
	moved := false
	bFS.SetHook(func(op faultfs.Op, args ...string) {
		moved = moved || op == faultfs.OpRename && args[0] == s.breakPath()
	})
	s.checkErr("the other breaker's TryLock, the break lock held by A", other.TryLock(), locker.ErrBusy)
	bFS.SetHook(nil)
	if moved {
		s.errorf("the other breaker moved A's live break lock aside (it has not expired): while it is aside a third may take the free name")
	}
	if got := s.look(s.breakPath()); got.contents != s.breakClaim(a) {
		s.errorf("the break lock is %s; want A's %q", s.describe(got), s.breakClaim(a))
	}
	aGoOn()
	s.checkErr("breaker A's TryLock", s.await("breaker A's TryLock", aDone), nil)
	if !a.IsLocked() || other.IsLocked() || holder.IsLocked() {
		s.errorf("IsLocked: A %v, the other %v, the old holder %v; want only A", a.IsLocked(), other.IsLocked(), holder.IsLocked())
	}
	s.checkErr("breaker A's Unlock", a.Unlock(), nil)
	s.wantFiles("after A's Unlock")
}

// scenarioRefreshUnderReplacedBreakLock: an expired holder refreshes under
// a break lock it took while its name was free, a breaker of a stale break
// lock having moved aside by mistake the fresh one of breaker B, which had
// judged the holder's lock expired; the mover puts B's back over the
// holder's. B then moves the refreshed lock aside, finds it refreshed, and
// cannot put it back: a taker linked a lock of its own meanwhile. The
// holder, finding when done that the break lock was not its own, must look
// again under it, and learn that it lost the lock.
func scenarioRefreshUnderReplacedBreakLock(t *testing.T, b Backend) {
	s := newScene(t, b, "an expired holder whose refresh was done under a break lock that was no longer its own when done looks again, under the break lock, and learns that it lost the lock if the breaker that held it broke it")
	hFS, bFS, dFS := faultfs.New(s.env.FS), faultfs.New(s.env.FS), faultfs.New(s.env.FS)
	holder := s.expiredHolder(hFS)
	crashed := s.crashedBreaker()
	breaker, mover, taker := s.newLockOn(bFS, s.path), s.newLockOn(dFS, s.path), s.newLock()
	// B stops holding the break lock, about to move the expired lock aside.
	bPaused, bGoOn := s.pauseAt(bFS, func(op faultfs.Op, args []string) bool { return op == faultfs.OpRename && args[0] == s.path })
	// The holder's Refresh stops after its link of the break lock and its
	// refresh, before it reads the break lock to let it go.
	hPaused, hGoOn := s.pauseAt(hFS, func(op faultfs.Op, args []string) bool {
		return op == faultfs.OpReadFile && args[0] == s.breakPath()
	})
	var bDone, hDone <-chan error
	s.moveFreshBreakLockAside(dFS, func() {
		bDone = s.startPaused("breaker B's TryLock", breaker.TryLock, bPaused)
	}, func() {
		hDone = s.startPaused("the holder's Refresh", holder.Refresh, hPaused)
	})
	s.checkErr("the mover's TryLock", mover.TryLock(), locker.ErrBusy)
	dFS.SetHook(nil)
	if got := s.look(s.breakPath()); got.contents != s.breakClaim(breaker) {
		s.fatalf("after the mover put back breaker B's break lock, the break lock is %s; want B's", s.describe(got))
	}
	// B moves the refreshed lock aside; the taker takes the free name.
	var took error
	hook(bFS, faultfs.OpReadFile, endsWith(".moved"), func() { took = taker.TryLock() })
	bGoOn()
	s.checkErr("breaker B's TryLock, the lock it moved aside refreshed", s.await("breaker B's TryLock", bDone), locker.ErrBusy)
	s.requireErr("the taker's TryLock, the lock moved aside", took, nil)
	s.tl.autoAdvance() // the holder may wait for the break lock
	hGoOn()
	if err := s.await("the holder's Refresh", hDone); !errors.Is(err, locker.ErrNotLocked) {
		s.errorf("MUTUAL EXCLUSION VIOLATED: the holder's Refresh returned %s, want ErrNotLocked: it refreshed under a break lock that was not its own when done, and its lock was broken and taken by another (the taker's IsLocked = %v)", errText(err), taker.IsLocked())
	}
	if holder.IsLocked() || !taker.IsLocked() {
		s.errorf("IsLocked: the holder %v, the taker %v; want false, true", holder.IsLocked(), taker.IsLocked())
	}
	s.checkErr("the taker's Unlock", taker.Unlock(), nil)
	s.checkErr("the holder's Unlock", holder.Unlock(), locker.ErrNotLocked)
	s.wantFiles("after the taker's Unlock", crashed.ClaimFile())
}

// scenarioOrphanedLockBrokenByItsHolder: a holder whose Unlock failed
// after its lock expired, leaving its lock file (its claim file removed),
// takes the lock again. The lock file holds its claim name, and its new
// claim file has the same name; but the lock file is the old one, dated
// with the old expiry. Where links are not counted only that date tells
// them apart: taken for its own, the holder would rely on a lock that any
// waiter breaks at once.
func scenarioOrphanedLockBrokenByItsHolder(t *testing.T, b Backend) {
	s := newScene(t, b, "a holder that takes the lock again over its own old lock file, left behind when its Unlock failed, breaks that expired file and holds a lock dated afresh, which others respect")
	faults := faultfs.New(s.env.FS)
	holder := s.expiredHolder(faults)
	s.orphanLock(faults, holder, b.NoLinkCounts)
	s.requireErr("the holder's TryLock over its old lock file", holder.TryLock(), nil)
	lf, cf := s.look(s.path), s.look(holder.ClaimFile())
	if lf.contents != holder.ClaimFile() || !lf.mtime.Equal(cf.mtime) || !lf.mtime.After(s.tl.now()) {
		s.errorf("after TryLock: lock file %s, claim file %s; want the lock file the holder's, dated afresh with its claim file's date: the old one expired long ago", s.describe(lf), s.describe(cf))
	}
	other := s.newLock()
	if err := other.TryLock(); !s.checkErr("another Lock's TryLock", err, locker.ErrBusy) {
		s.errorf("MUTUAL EXCLUSION VIOLATED: the holder took its old, expired lock file for its lock; another broke it and holds the lock too (holder's IsLocked = %v)", holder.IsLocked())
	}
	s.checkErr("the holder's Unlock", holder.Unlock(), nil)
	s.wantFiles("after the holder's Unlock")
}

// scenarioReleaseDespiteFaults: an Unlock whose removals fail for a moment
// (ESTALE) or lose their replies still releases the lock, at once: nothing
// left for others to wait out.
func scenarioReleaseDespiteFaults(t *testing.T, b Backend) {
	cases := []struct {
		name, rule string
		// fault strikes the first removal of target(holder), by op.
		target func(s *scene, h *locker.Lock) string
		fault  func(f *faultfs.FS, op faultfs.Op)
	}{
		{"LockRemoveReplyLost", "a holder whose removal of its lock file succeeds but whose reply is lost (ENOENT) knows it released the lock",
			func(s *scene, h *locker.Lock) string { return s.path },
			func(f *faultfs.FS, op faultfs.Op) { f.LoseReply(op, 1, syscall.ENOENT) }},
		{"LockRemoveFailsOnce", "a holder whose removal of its lock file fails for a moment (ESTALE) tries again and releases the lock",
			func(s *scene, h *locker.Lock) string { return s.path },
			func(f *faultfs.FS, op faultfs.Op) { f.Fail(op, 1, errStale) }},
		{"ClaimRemoveFailsOnce", "a holder whose removal of its claim file fails for a moment (ESTALE) tries again and leaves nothing behind",
			func(s *scene, h *locker.Lock) string { return h.ClaimFile() },
			func(f *faultfs.FS, op faultfs.Op) { f.Fail(op, 1, errStale) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, tc.rule)
			faults := faultfs.New(s.env.FS)
			holder := s.newLockOn(faults, s.path)
			s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
			// The removal is a remove, or under the break lock a
			// rename aside (then a remove of the aside name).
			struck := false
			faults.SetHook(func(op faultfs.Op, args ...string) {
				if (op == faultfs.OpRemove || op == faultfs.OpRename) && args[0] == tc.target(s, holder) && !struck {
					struck = true
					tc.fault(faults, op)
				}
			})
			s.checkErr("the holder's Unlock", holder.Unlock(), nil)
			faults.SetHook(nil)
			if !struck {
				s.fatalf("the holder's Unlock never removed %s nor moved it aside; this scenario needs it to", tc.target(s, holder))
			}
			s.wantFiles("after the holder's Unlock")
			next := s.newLock()
			s.checkErr("the next Lock's TryLock, at once", next.TryLock(), nil)
			s.checkErr("the next Lock's Unlock", next.Unlock(), nil)
		})
	}
}

// scenarioConfirmingReadsTheLockAgain: where links are not counted, a
// holder confirms that the lock file is its own by its claim name and by
// its date, which must be its claim file's. If the lock file is replaced,
// between its reading the name and the date, by another's lock dated in
// the same second (a process whose clock is wrong by more than the slop
// breaking it, or the race of an old lock file of ours broken and taken
// afresh), the date is the other's: only reading the name again after it
// tells. The interleavings found this only about once in thousands of
// cases.
func scenarioConfirmingReadsTheLockAgain(t *testing.T, b Backend) {
	s := newScene(t, b, "a holder confirming its lock where links are not counted reads the lock file's name again after its date, and does not take another's lock dated in the same second for its own")
	if !b.NoLinkCounts {
		t.Skipf("%s counts links: the lock file's second link, not its date, tells it from another", b.Name)
	}
	faults := faultfs.New(s.env.FS)
	holder := s.newLockOn(faults, s.path)
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	other := s.newLock(locker.WithHostname("clock-wrong.example.org"))
	// IsLocked reads the lock file and its attributes, then confirms: it
	// reads the name again, dates its claim file, then the lock file's
	// date (the second stat of the lock path), then the name once more.
	stats := 0
	replaced := false
	faults.SetHook(func(op faultfs.Op, args ...string) {
		if op != faultfs.OpStat || args[0] != s.path {
			return
		}
		if stats++; stats == 2 {
			replaced = true
			date := s.look(holder.ClaimFile()).mtime
			claim := other.ClaimFile()
			s.requireErr("writing the other's claim file", s.env.FS.WriteFile(claim, []byte(claim), 0o666), nil)
			s.requireErr("dating it as the holder's", s.env.FS.Chtimes(claim, date, date), nil)
			s.requireErr("linking it beside the lock", s.env.FS.Link(claim, claim+".new"), nil)
			s.requireErr("putting it in the lock file's place", s.env.FS.Rename(claim+".new", s.path), nil)
		}
	})
	locked := holder.IsLocked()
	faults.SetHook(nil)
	if !replaced {
		s.fatalf("the holder's IsLocked never looked at the lock file's date after its claim file's; this scenario needs it to")
	}
	if locked {
		s.errorf("MUTUAL EXCLUSION VIOLATED: IsLocked() = true with the lock file %s, another's lock dated in the same second as the holder's claim file", s.describe(s.look(s.path)))
	}
}

// scenarioReleaseReplyLostThenRetaken: a holder's removal of its lock file
// (a remove; for an expired lock, under the break lock, a rename aside) is
// done, but its reply is lost as ESTALE, a failure of a moment that the
// holder tries again; before it does, a waiter takes the free name. A blind
// retry would remove the waiter's lock: the holder may try again only
// while the lock file is still its own.
func scenarioReleaseReplyLostThenRetaken(t *testing.T, b Backend) {
	for _, expired := range []bool{false, true} {
		name, rule := "Held", "a holder whose removal of its lock file is done but answered ESTALE, and whose lock is taken by another before it tries again, leaves the new lock alone"
		if expired {
			name, rule = "Expired", "an expired holder whose move of its lock file aside, under the break lock, is done but answered ESTALE, and whose lock is taken by another before it tries again, leaves the new lock alone"
		}
		t.Run(name, func(t *testing.T) {
			s := newScene(t, b, rule)
			faults := faultfs.New(s.env.FS)
			var holder *locker.Lock
			// An unexpired lock is removed with a remove; an expired one
			// under the break lock, moved aside first.
			removal := faultfs.OpRemove
			if expired {
				holder, removal = s.expiredHolder(faults), faultfs.OpRename
			} else {
				holder = s.newLockOn(faults, s.path)
				s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
			}
			taker := s.newLock()
			errNotTried := errors.New("not tried")
			took, lost := errNotTried, false
			faults.SetHook(func(op faultfs.Op, args ...string) {
				switch {
				case !lost && op == removal && args[0] == s.path:
					lost = true
					faults.LoseReply(op, 1, errStale)
				case lost && took == errNotTried:
					took = taker.TryLock()
				}
			})
			s.tl.autoAdvance() // the expired holder may wait for the break lock
			err := holder.Unlock()
			faults.SetHook(nil)
			if !lost {
				if !expired {
					// A locker that releases even its unexpired lock
					// under the break lock never removes it this way.
					t.Skipf("the holder's Unlock (%s) did not remove its unexpired lock file with a remove: this case is for that remove", errText(err))
				}
				s.fatalf("the expired holder's Unlock (%s) never moved its lock file aside; this scenario needs it to", errText(err))
			}
			s.requireErr("the taker's TryLock, the lock file removed", took, nil)
			s.checkErr("the holder's Unlock", err, nil)
			if got := s.look(s.path); got.contents != taker.ClaimFile() || !taker.IsLocked() {
				s.errorf("MUTUAL EXCLUSION VIOLATED: the holder, trying again a removal that was done, removed the lock the taker took meanwhile: lock file %s, taker's IsLocked = %v", s.describe(got), taker.IsLocked())
			}
			s.checkErr("the taker's Unlock", taker.Unlock(), nil)
			s.wantFiles("after the taker's Unlock")
		})
	}
}

// scenarioBreakLockReleaseReplyLost: as ReleaseReplyLostThenRetaken, for
// the break lock: a breaker's removal of its break lock is done but
// answered ESTALE, and another breaker takes the free name before it tries
// again. A blind retry would remove the other's break lock, and a third
// could take it while the other is at work: two breakers at once.
func scenarioBreakLockReleaseReplyLost(t *testing.T, b Backend) {
	s := newScene(t, b, "a breaker whose release of the break lock is done but answered ESTALE, and which another breaker takes before it tries again, leaves the other's break lock alone")
	old := s.expiredHolder(s.env.FS)
	faults := faultfs.New(s.env.FS)
	breaker := s.newLockOn(faults, s.path)
	other := s.breakClaim(s.newLock(locker.WithHostname("other-breaker.example.org")))
	taken, lost := false, false
	faults.SetHook(func(op faultfs.Op, args ...string) {
		switch {
		case !lost && op == faultfs.OpRemove && args[0] == s.breakPath():
			lost = true
			faults.LoseReply(op, 1, errStale)
		case lost && !taken:
			taken = true
			s.requireErr("the other breaker's break claim", s.env.FS.WriteFile(other, []byte(other), 0o666), nil)
			s.requireErr("the other breaker's link of the break lock", s.env.FS.Link(other, s.breakPath()), nil)
		}
	})
	err := breaker.TryLock()
	faults.SetHook(nil)
	if !taken {
		s.fatalf("the breaker's TryLock (%s) never released the break lock with a remove; this scenario needs it to", errText(err))
	}
	s.checkErr("the breaker's TryLock", err, nil)
	if got := s.look(s.breakPath()); got.contents != other {
		s.errorf("TWO BREAKERS POSSIBLE: the breaker, trying again a release that was done, removed the break lock another took meanwhile: break lock %s", s.describe(got))
	}
	if !breaker.IsLocked() || old.IsLocked() {
		s.errorf("IsLocked: the breaker %v, the old holder %v; want true, false", breaker.IsLocked(), old.IsLocked())
	}
	for _, name := range []string{s.breakPath(), other} {
		s.requireErr("the other breaker letting go", s.env.FS.Remove(name), nil)
	}
	s.checkErr("the breaker's Unlock", breaker.Unlock(), nil)
	s.wantFiles("after the other breaker's release and the breaker's Unlock")
}

// scenarioDeadBreakerSwept: a breaker died holding the break lock, with
// the lock held by a live holder, so no one needs to break the break lock.
// Waiters sweep under the break lock: they break that stale break lock and
// remove it and the dead breaker's break claim file. A sweep outside the
// break lock would leave them forever.
func scenarioDeadBreakerSwept(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiter's sweep, done under the break lock, breaks a break lock left by a breaker that died and removes it with its claim file")
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	dead := s.breakClaim(s.newLock(locker.WithHostname("dead.example.org")))
	s.requireErr("writing the dead breaker's break claim", s.env.FS.WriteFile(dead, []byte(dead), 0o666), nil)
	old := s.tl.now().Add(-s.tl.slop - s.tl.lifetime)
	s.requireErr("dating it", s.env.FS.Chtimes(dead, old, old), nil)
	s.requireErr("linking it to the break lock", s.env.FS.Link(dead, s.breakPath()), nil)
	s.sweepOnce(s.env.FS)
	if s.wantFiles("after a waiter's sweep", holder.LockFile(), holder.ClaimFile()) {
		s.checkErr("the holder's Unlock", holder.Unlock(), nil)
	}
}

// breakPath is the scene's break lock; breakClaim, the break claim of l.
func (s *scene) breakPath() string { return s.path + ".break" }
func (s *scene) breakClaim(l *locker.Lock) string {
	return s.breakPath() + strings.TrimPrefix(l.ClaimFile(), s.path)
}

// crashedBreaker leaves a break lock whose breaker crashed just after
// taking it, and moves the clock on until it may be broken. The crashed
// breaker's claim file stays.
func (s *scene) crashedBreaker() *locker.Lock {
	s.t.Helper()
	fsys := faultfs.New(s.env.FS)
	linked := false
	fsys.SetHook(func(op faultfs.Op, args ...string) {
		if linked {
			fsys.Fail(op, 1, syscall.EIO)
			return
		}
		linked = op == faultfs.OpLink && args[len(args)-1] == s.breakPath()
	})
	crashed := s.newLockOn(fsys, s.path)
	if err := crashed.TryLock(); err == nil {
		s.fatalf("the crashing breaker's TryLock succeeded")
	}
	stale := s.look(s.breakPath())
	if !stale.exists {
		s.fatalf("the crashing breaker left no break lock")
	}
	s.tl.advanceTo(stale.mtime.Add(s.tl.slop + s.tl.near))
	return crashed
}

// moveFreshBreakLockAside sets the hooks of the mover's fsys, whose Lock
// then breaks the stale break lock: once it has judged it stale, before it
// moves it aside, taken runs (it must leave another's fresh break lock in
// its place); once it has moved that aside, before it looks at what it
// moved, free runs.
func (s *scene) moveFreshBreakLockAside(fsys *faultfs.FS, taken, free func()) {
	moving, moved := false, false
	fsys.SetHook(func(op faultfs.Op, args ...string) {
		switch {
		case op == faultfs.OpRename && args[0] == s.breakPath() && !moving:
			moving = true
			taken()
		case op == faultfs.OpReadFile && strings.HasSuffix(args[0], ".moved") && moving && !moved:
			moved = true
			free()
		}
	})
}

// after returns a pause point: the first call after the first op on name.
func after(op faultfs.Op, name string) func(faultfs.Op, []string) bool {
	seen := false
	return func(o faultfs.Op, args []string) bool {
		if seen {
			return true
		}
		seen = o == op && args[len(args)-1] == name
		return false
	}
}

// pauseAt makes the Lock on fsys stop before its first call that satisfies
// at, until goOn is called; paused is closed when it stops.
func (s *scene) pauseAt(fsys *faultfs.FS, at func(op faultfs.Op, args []string) bool) (paused chan struct{}, goOn func()) {
	paused, resume := make(chan struct{}), make(chan struct{})
	var once, resumed sync.Once
	fsys.SetHook(func(op faultfs.Op, args ...string) {
		if at(op, args) {
			once.Do(func() { close(paused); <-resume })
		}
	})
	goOn = func() { resumed.Do(func() { close(resume) }) }
	s.t.Cleanup(goOn) // a scenario that ends early leaves none stopped
	return paused, goOn
}

// startPaused runs f on a new goroutine and waits until it stops where
// pauseAt made it stop; it returns where f's result will be sent.
func (s *scene) startPaused(what string, f func() error, paused chan struct{}) <-chan error {
	s.t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case <-paused:
	case err := <-done:
		s.fatalf("%s returned %s before the point this scenario stops it at", what, errText(err))
	case <-time.After(safetyTimeout):
		s.fatalf("%s neither stopped nor returned within %v", what, safetyTimeout)
	}
	return done
}

func scenarioBreakOnRequest(t *testing.T, b Backend) {
	s := newScene(t, b, "Break breaks a lock only once it has expired for longer than the slop, and says ErrBusy before; ForceBreak breaks only the holder it is given")
	s.tl.autoAdvance()
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	details, err := holder.Details()
	s.requireErr("Details", err, nil)
	operator := s.newLock()
	s.checkErr("Break of an unexpired lock", func() error { _, err := operator.Break(); return err }(), locker.ErrBusy)
	if !holder.IsLocked() {
		s.fatalf("Break of an unexpired lock broke it")
	}
	if s.tl.virtual != nil {
		s.tl.advanceTo(s.expiry(holder).Add(s.tl.slop))
		s.checkErr("Break at expiry + slop exactly", func() error { _, err := operator.Break(); return err }(), locker.ErrBusy)
	}
	s.tl.advanceTo(s.expiry(holder).Add(s.tl.slop + s.tl.near))
	got, err := operator.Break()
	s.checkErr("Break past expiry + slop", err, nil)
	if got.PID != details.PID || got.Hostname != details.Hostname {
		s.errorf("Break returned holder %+v, want %+v", got, details)
	}
	s.wantFiles("after Break")
	s.checkErr("Break of no lock", func() error { _, err := operator.Break(); return err }(), locker.ErrNotLocked)

	next := s.newLock()
	s.requireErr("the next holder's Lock", next.Lock(s.ctx), nil)
	s.checkErr("ForceBreak of the old holder, the lock having changed hands", operator.ForceBreak(details), locker.ErrBusy)
	if !next.IsLocked() {
		s.fatalf("ForceBreak of the old holder broke the next holder's lock")
	}
	nd, err := next.Details()
	s.requireErr("Details", err, nil)
	s.checkErr("ForceBreak of the next holder", operator.ForceBreak(nd), nil)
	s.wantFiles("after ForceBreak")
}

func scenarioKeepAliveReportsForceBreak(t *testing.T, b Backend) {
	s := newScene(t, b, "a kept-alive holder whose lock is broken on request before it expires learns it lost the lock at its next refresh, not at its expiry")
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	ka, err := holder.KeepAlive(s.ctx)
	s.requireErr("KeepAlive", err, nil)
	defer ka.Stop()
	details, err := holder.Details()
	s.requireErr("Details", err, nil)
	s.requireErr("ForceBreak", s.newLock().ForceBreak(details), nil)
	taker := s.newLock()
	s.requireErr("the taker's TryLock", taker.TryLock(), nil)
	expiry := s.tl.now().Add(s.tl.lifetime)
	s.tl.waitAsleep(1)
	s.tl.advance(s.tl.lifetime / 3) // the keep-alive's next refresh
	wait := time.Until(expiry)      // on the real clock: no later than the expiry
	if s.tl.virtual != nil {
		wait = 2 * time.Second // on a virtual clock nothing else moves time on
	}
	select {
	case <-ka.Lost():
	case <-time.After(wait):
		s.fatalf("Lost() did not close after the refresh that found the lock taken")
	}
	if !errors.Is(ka.Err(), locker.ErrLost) {
		s.errorf("KeepAlive.Err() = %v; want ErrLost", ka.Err())
	}
	if !taker.IsLocked() {
		s.errorf("the taker lost its lock")
	}
}

func scenarioKeepAliveRefreshesFailing(t *testing.T, b Backend) {
	s := newScene(t, b, "a kept-alive holder whose refreshes keep failing (EIO) declares the lock lost once it has expired")
	faults := faultfs.New(s.env.FS)
	holder := s.newLockOn(faults, s.path)
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	expiry := s.expiry(holder)
	faults.SetHook(func(op faultfs.Op, args ...string) {
		if op == faultfs.OpChtimes {
			faults.Fail(faultfs.OpChtimes, 1, syscall.EIO)
		}
	})
	s.tl.autoAdvance()
	ka, err := holder.KeepAlive(s.ctx)
	s.requireErr("KeepAlive", err, nil)
	defer ka.Stop()
	wait := time.Until(expiry) + 2*time.Second
	if s.tl.virtual != nil {
		wait = 2 * time.Second // the virtual clock moves on with every sleep
	}
	select {
	case <-ka.Lost():
	case <-time.After(wait):
		s.fatalf("Lost() did not close although every refresh failed and the lock expired at %s (clock at %s)", s.tl.at(expiry), s.tl.at(s.tl.now()))
	}
	if now := s.tl.now(); now.Before(expiry) {
		s.errorf("the lock was declared lost at %s, before it expired at %s", s.tl.at(now), s.tl.at(expiry))
	}
}

// deadClaim writes a dead claimant's claim file for the scene's lock,
// dated more than the slop in the past, and returns its name.
func (s *scene) deadClaim(l *locker.Lock) string {
	s.t.Helper()
	name := l.ClaimFile()
	if err := s.env.FS.WriteFile(name, []byte(name), 0o666); err != nil {
		s.fatalf("writing a claim file: %v", err)
	}
	old := s.tl.now().Add(-s.tl.slop - s.tl.lifetime)
	if err := s.env.FS.Chtimes(name, old, old); err != nil {
		s.fatalf("dating a claim file: %v", err)
	}
	return name
}

// sweepOnce makes a waiter on fsys find the lock held by holder and sweep,
// and give up soon after.
func (s *scene) sweepOnce(fsys locker.FS, opts ...locker.Option) {
	s.t.Helper()
	if _, ok := s.env.FS.(locker.DirReader); !ok {
		s.t.Skipf("the backend cannot list a directory (it is no locker.DirReader), so no Lock sweeps")
	}
	waiter := s.newLockOn(fsys, s.path, append([]locker.Option{locker.WithTimeout(s.tl.maxBackoff), locker.WithWatcher(false)}, opts...)...)
	s.tl.autoAdvance()
	s.checkErr("the sweeping waiter's Lock", waiter.Lock(s.ctx), locker.ErrTimeout)
}

func scenarioSweepLostRenameReply(t *testing.T, b Backend) {
	s := newScene(t, b, "a sweeper whose rename of a dead claim file aside succeeds but whose reply is lost (ENOENT) still removes it, and leaves nothing aside")
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	dead := s.deadClaim(s.newLock(locker.WithHostname("dead.example.org")))
	faults := faultfs.New(s.env.FS)
	var once sync.Once
	faults.SetHook(func(op faultfs.Op, args ...string) {
		if op == faultfs.OpRename && args[0] == dead {
			once.Do(func() { faults.LoseReply(faultfs.OpRename, 1, syscall.ENOENT) })
		}
	})
	s.sweepOnce(faults)
	s.wantFiles("after the sweep", holder.LockFile(), holder.ClaimFile())
	s.checkErr("the holder's Unlock", holder.Unlock(), nil)
}

func scenarioSweepSparesRedated(t *testing.T, b Backend) {
	s := newScene(t, b, "a sweeper that moves aside a claim file whose claimant re-dated it since the sweeper looked puts it back")
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	claimant := s.newLock(locker.WithHostname("paused.example.org"))
	claim := s.deadClaim(claimant)
	faults := faultfs.New(s.env.FS)
	hook(faults, faultfs.OpRename, endsWith(".moved"), func() {
		// The paused claimant resumes and re-dates its claim.
		fresh := s.tl.now().Add(s.tl.lifetime)
		if err := s.env.FS.Chtimes(claim, fresh, fresh); err != nil {
			s.errorf("re-dating the claim: %v", err)
		}
	})
	s.sweepOnce(faults)
	s.wantFiles("after the sweep", holder.LockFile(), holder.ClaimFile(), claim)
	s.checkErr("the holder's Unlock", holder.Unlock(), nil)
}

func scenarioSweepPutsBackLinked(t *testing.T, b Backend) {
	for _, how := range []string{"PutBack", "PutBackReplyLost"} {
		t.Run(how, func(t *testing.T) { sweepPutsBackLinked(t, b, how == "PutBackReplyLost") })
	}
}

func sweepPutsBackLinked(t *testing.T, b Backend, replyLost bool) {
	rule := "a sweeper that moves aside a claim file that its claimant linked to the lock since the sweeper looked puts it back with rename, so that the lock file never has a third link"
	if replyLost {
		rule += ", and knows its put-back done when the rename's reply is lost and the rename, sent again, finds nothing aside (ENOENT)"
	}
	s := newScene(t, b, rule)
	if b.NoLinkCounts {
		t.Skipf("%s reports no link counts", b.Name)
	}
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	claimant := s.newLock(locker.WithHostname("paused.example.org"))
	claim := s.deadClaim(claimant)
	faults := faultfs.New(s.env.FS)
	events := &lockEvents{}
	maxLinks := uint64(0)
	var once, onceBack sync.Once
	faults.SetHook(func(op faultfs.Op, args ...string) {
		last := args[len(args)-1]
		if replyLost && op == faultfs.OpRename && strings.HasSuffix(args[0], ".moved") {
			onceBack.Do(func() { faults.LoseReply(faultfs.OpRename, 1, syscall.ENOENT) })
		}
		if op == faultfs.OpRename && strings.HasSuffix(last, ".moved") {
			once.Do(func() {
				// The holder lets go and the paused claimant takes the
				// lock, linking its claim file.
				if err := holder.Unlock(); err != nil {
					s.errorf("the holder's Unlock: %v", err)
				}
				fresh := s.tl.now().Add(s.tl.lifetime) // it re-dates its claim before it links it
				if err := s.env.FS.Chtimes(claim, fresh, fresh); err != nil {
					s.errorf("re-dating the claim: %v", err)
				}
				if err := s.env.FS.Link(claim, s.path); err != nil {
					s.errorf("linking the claimant's claim to the lock: %v", err)
				}
			})
		}
		if fi, err := s.env.FS.Stat(s.path); err == nil {
			maxLinks = max(maxLinks, fi.Links)
		}
	})
	s.sweepOnce(faults, locker.WithLogger(slog.New(events)))
	faults.SetHook(nil)
	if _, notes := events.report(); strings.Contains(notes, "could not put back") {
		s.errorf("the sweeper's put-back was done, but the sweeper took it for failed: %s", notes)
	}
	if maxLinks > 2 {
		s.errorf("the lock file had %d links while the sweeper put the claim file back; want never more than 2 (flufl.lock's ownership rule)", maxLinks)
	}
	if !claimant.IsLocked() {
		s.errorf("the claimant does not hold the lock after the sweep: lock file %s, claim file %s", s.describe(s.look(s.path)), s.describe(s.look(claim)))
	}
}

func scenarioSweptWaiterWritesClaimAgain(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiter whose claim file was removed (swept while it was paused) writes it again and takes the lock once it is free")
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	// Within a third of the lifetime, before the waiter would re-date its
	// claim file: it writes it again as soon as a link fails for want of it.
	waiter := s.newLock(locker.WithWatcher(false), locker.WithTimeout(s.tl.lifetime/4))
	done := s.goLock(s.ctx, waiter)
	s.tl.waitAsleep(1)
	if err := s.env.FS.Remove(waiter.ClaimFile()); err != nil {
		s.fatalf("removing the waiter's claim file: %v", err)
	}
	s.requireErr("the holder's Unlock", holder.Unlock(), nil)
	s.tl.autoAdvance()
	if s.tl.virtual != nil {
		s.tl.advance(s.tl.maxBackoff) // wake the waiter
	}
	s.checkErr("the waiter's Lock", s.await("the waiter's Lock", done), nil)
	if !waiter.IsLocked() {
		s.errorf("the waiter does not hold the lock")
	}
	s.checkErr("the waiter's Unlock", waiter.Unlock(), nil)
	s.wantFiles("after the waiter's Unlock")
}

func scenarioIsLockedWhileMovedAside(t *testing.T, b Backend) {
	s := newScene(t, b, "an expired holder whose lock a breaker moves aside, and another takes the lock meanwhile, between its reading the lock file's contents and its attributes, does not answer that it holds the lock: its claim file has two links, but the second is the breaker's")
	if b.NoLinkCounts {
		t.Skipf("%s reports no link counts", b.Name)
	}
	holderFS := faultfs.New(s.env.FS)
	holder := s.expiredHolder(holderFS)
	// The holder's IsLocked reads the contents (its claim) and stops
	// before reading the attributes.
	stopped, goOn := make(chan struct{}), make(chan struct{})
	var onceStat sync.Once
	holderFS.SetHook(func(op faultfs.Op, args ...string) {
		if op == faultfs.OpStat && args[0] == s.path {
			onceStat.Do(func() {
				close(stopped)
				<-goOn
			})
		}
	})
	answer := make(chan bool, 1)
	go func() { answer <- holder.IsLocked() }()
	select {
	case <-stopped:
	case v := <-answer:
		s.fatalf("IsLocked() returned %v without reading the lock file's attributes", v)
	}
	// A breaker moves the lock aside; before it removes it, the taker
	// takes the lock; then the holder reads the attributes.
	breakerFS := faultfs.New(s.env.FS)
	breaker := s.newLockOn(breakerFS, s.path)
	var taker *locker.Lock
	hook(breakerFS, faultfs.OpStat, endsWith(".moved"), func() {
		// A taker whose claim is as long as the holder's: a lock file of
		// another size would make the holder look again (a look whose
		// attributes show another size than the bytes read is made
		// again), and the second look alone would answer false.
		for taker = s.newLock(); len(taker.ClaimFile()) != len(holder.ClaimFile()); {
			taker = s.newLock()
		}
		s.checkErr("the taker's TryLock, the lock moved aside", taker.TryLock(), nil)
		close(goOn)
		if <-answer {
			s.errorf("IsLocked() = true; want false: when it read the attributes, the lock file was the taker's, and its claim file's second link the breaker's")
		}
	})
	err := breaker.TryLock()
	if taker == nil {
		close(goOn)
		s.fatalf("the breaker's TryLock (%s) never looked at what it moved aside", errText(err))
	}
	if !taker.IsLocked() {
		s.errorf("the taker lost its lock")
	}
}

func scenarioExpiredRefreshKeepsBreakersOut(t *testing.T, b Backend) {
	s := newScene(t, b, "a holder whose lock has expired (even within the slop, and even only by the expiry the filesystem keeps, which is up to a granule early where file times are coarse) refreshes it under the break lock: a breaker that comes while it does cannot break it, and the refresh holds")
	faults := faultfs.New(s.env.FS)
	holder := s.newLockOn(faults, s.path)
	// Where file times are coarse, the expiry written falls late in a
	// granule and the holder refreshes between the one kept and it: the
	// breakers judge the one kept.
	g := s.tl.lateInGranule()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	expiry := s.expiry(holder) // as the filesystem keeps it
	within := s.tl.slop / 2
	if g > 0 {
		within = min(within, g/2)
	}
	s.tl.advanceTo(expiry.Add(within))
	var breakerErr error
	broke := false
	hook(faults, faultfs.OpChtimes, is(holder.ClaimFile()), func() {
		// The holder stalls in its refresh until the lock could be broken.
		s.tl.advanceTo(expiry.Add(s.tl.slop + s.tl.near))
		breakerErr = s.newLock().TryLock()
		broke = true
	})
	err := holder.Refresh()
	if !broke {
		s.fatalf("the holder's Refresh (%s) never dated its claim file", errText(err))
	}
	s.checkErr("the breaker's TryLock, while the expired holder refreshes", breakerErr, locker.ErrBusy)
	s.checkErr("the holder's Refresh", err, nil)
	if !holder.IsLocked() {
		s.errorf("the holder lost its lock")
	}
}

// crashAfter makes the Lock on faults crash before its first call of op on
// a name that satisfies match, and every call after: none of them reaches
// the filesystem.
func crashAfter(faults *faultfs.FS, op faultfs.Op, match func(string) bool) {
	crashed := false
	faults.SetHook(func(o faultfs.Op, args ...string) {
		if o == op && match(args[len(args)-1]) {
			crashed = true
		}
		if crashed {
			faults.Fail(o, 1, syscall.EIO)
		}
	})
}

func scenarioRefreshAfterLockMovedAside(t *testing.T, b Backend) {
	s := newScene(t, b, "an expired holder whose lock a breaker moved aside (and then crashed), and which another took meanwhile, learns from Refresh that it lost it, and its Unlock then leaves the new holder's lock alone, although its claim file still has a second link (the breaker's)")
	holder := s.expiredHolder(s.env.FS)
	breakerFS := faultfs.New(s.env.FS)
	breaker := s.newLockOn(breakerFS, s.path)
	crashAfter(breakerFS, faultfs.OpReadFile, endsWith(".moved"))
	if err := breaker.TryLock(); err == nil {
		s.fatalf("the crashing breaker's TryLock succeeded")
	}
	taker := s.newLock()
	s.requireErr("the taker's TryLock of the lock moved aside", taker.TryLock(), nil)
	s.tl.autoAdvance() // the holder's Refresh waits for the crashed breaker's break lock to expire
	s.checkErr("the holder's Refresh", holder.Refresh(), locker.ErrNotLocked)
	s.checkErr("the holder's Unlock", holder.Unlock(), locker.ErrNotLocked)
	if !taker.IsLocked() {
		s.errorf("the holder's Unlock removed the taker's lock: lock file %s", s.describe(s.look(s.path)))
	}
}

func scenarioWaiterSeesItsLostReply(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiter whose link, after the lock was released, succeeds but loses its reply (EEXIST) knows at once that it holds the lock")
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	clock := newCallClock(s.env.FS)
	faults := faultfs.New(clock)
	waiter := s.newLockOn(faults, s.path, locker.WithWatcher(false))
	done := s.goLock(s.ctx, waiter)
	s.tl.waitAsleep(1) // it has looked at the lock and waits
	hook(faults, faultfs.OpLink, is(s.path), func() { faults.LoseReply(faultfs.OpLink, 1, syscall.EEXIST) })
	s.requireErr("the holder's Unlock", holder.Unlock(), nil)
	released, mark := s.tl.now(), clock.mark()
	s.wakeWaiter()
	s.requireErr("the waiter's Lock", s.await("the waiter's Lock", done), nil)
	s.wantPrompt("the waiter's taking of the released lock (its lost reply should be recognised at once)", released, clock, mark)
	s.checkErr("the waiter's Unlock", waiter.Unlock(), nil)
}

// A gate stops the calls of a Lock on a FaultFS while it is closed, so
// that on the real clock a scenario acts between two of the Lock's calls,
// as it does on the virtual clock while the Lock sleeps, whatever the
// Lock's backoff and the mount's latency. On the virtual clock it does
// nothing: a sleeping Lock stays asleep until the scenario moves time.
type gate struct {
	s       *scene
	mu      sync.Mutex
	wait    chan struct{} // closed when the gate opens; nil while open
	stopped chan struct{} // receives when a call stops at the closed gate
}

func (s *scene) gate(fsys *faultfs.FS) *gate {
	g := &gate{s: s, stopped: make(chan struct{}, 1)}
	if s.tl.virtual != nil {
		return g
	}
	fsys.SetHook(func(faultfs.Op, ...string) {
		g.mu.Lock()
		wait := g.wait
		g.mu.Unlock()
		if wait != nil {
			select {
			case g.stopped <- struct{}{}:
			default:
			}
			<-wait
		}
	})
	s.t.Cleanup(g.open) // a scenario that ends early leaves none stopped
	return g
}

// close closes the gate and waits until the Lock's next call stops at it,
// a backoff step away at most: the Lock is then between two calls.
func (g *gate) close(who string) {
	g.s.t.Helper()
	if g.s.tl.virtual != nil {
		return
	}
	g.mu.Lock()
	g.wait = make(chan struct{})
	g.mu.Unlock()
	// A scenario that ends here (a skip, a failure) must open the gate
	// before the cleanups that wait for its Lock: cleanups run last first.
	g.s.t.Cleanup(g.open)
	select {
	case <-g.stopped:
	case <-time.After(safetyTimeout):
		g.open()
		g.s.fatalf("%s made no call within %v", who, safetyTimeout)
	}
}

// open lets the Lock's calls go on.
func (g *gate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.wait != nil {
		close(g.wait)
		g.wait = nil
	}
}

func scenarioWaiterSeesForeignObject(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiter whose lock file is replaced by a symbolic link (to a file that looks like the lock) reports a foreign file at its next attempt")
	if s.env.MakeObject == nil {
		t.Skip("the backend cannot make a symbolic link (Env.MakeObject is nil)")
	}
	// The waiter has held the lock once, and so has learnt whether the
	// filesystem counts links (a stat then tells it more).
	clock := newCallClock(s.env.FS)
	faults := faultfs.New(clock)
	gate := s.gate(faults)
	waiter := s.newLockOn(faults, s.path, locker.WithWatcher(false))
	s.requireErr("the waiter's first TryLock", waiter.TryLock(), nil)
	s.requireErr("the waiter's first Unlock", waiter.Unlock(), nil)
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	done := s.goLock(s.ctx, waiter)
	s.tl.waitAsleep(1)
	// The lock is replaced between two of the waiter's calls.
	gate.close("the waiting Lock")
	decoy := s.path + ".decoy"
	if err := s.env.FS.WriteFile(decoy, []byte(holder.ClaimFile()), 0o644); err != nil {
		s.fatalf("writing the decoy: %v", err)
	}
	// Dated unexpired, and not as the waiter's own claim (whose date, on
	// a lock file found after a failed link, makes a waiter read it).
	exp := s.tl.now().Add(s.tl.lifetime / 2)
	if err := s.env.FS.Chtimes(decoy, exp, exp); err != nil {
		s.fatalf("dating the decoy: %v", err)
	}
	if err := s.env.FS.Remove(s.path); err != nil {
		s.fatalf("removing the lock file: %v", err)
	}
	if err := s.env.MakeObject(s.path, Object{Kind: Symlink, Target: decoy}); err != nil {
		if errors.Is(err, errors.ErrUnsupported) {
			t.Skipf("the backend cannot make a symbolic link: %v", err)
		}
		s.fatalf("making a symbolic link at the lock path: %v", err)
	}
	replaced, mark := s.tl.now(), clock.mark()
	gate.open()
	s.wakeWaiter()
	s.checkErr("the waiter's Lock", s.await("the waiter's Lock", done), locker.ErrForeignFile)
	s.wantPrompt("the waiter's report of the foreign file at the lock path", replaced, clock, mark)
}

// scenarioWaiterSeesForeignObjectMidLook: the lock file is replaced by a
// symbolic link between a waiter's read of it and its stat, so that its
// look pairs the lock's contents with the link's attributes. Its glances
// after (a stat alone) then show just what it saw; taking that look for
// the lock, it would report the link only at its next full read, up to a
// second later. The sshfs and NFS rigs showed this now and then in
// WaiterSeesForeignObjectAtOnce.
func scenarioWaiterSeesForeignObjectMidLook(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiter whose lock file is replaced by a symbolic link between its read of the lock file and its stat of it reports a foreign file at once, not at its next full read")
	if s.env.MakeObject == nil {
		t.Skip("the backend cannot make a symbolic link (Env.MakeObject is nil)")
	}
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	decoy := s.path + ".decoy"
	if err := s.env.FS.WriteFile(decoy, []byte(holder.ClaimFile()), 0o644); err != nil {
		s.fatalf("writing the decoy: %v", err)
	}
	clock := newCallClock(s.env.FS)
	faults := faultfs.New(clock)
	waiter := s.newLockOn(faults, s.path, locker.WithWatcher(false))
	var replaced time.Time
	var mark callMark
	var mkErr error
	read := false
	faults.SetHook(func(op faultfs.Op, args ...string) {
		switch {
		case op == faultfs.OpReadFile && args[0] == s.path:
			read = true
		case op == faultfs.OpStat && args[0] == s.path && read && replaced.IsZero():
			if err := s.env.FS.Remove(s.path); err != nil {
				mkErr = err
			} else {
				mkErr = s.env.MakeObject(s.path, Object{Kind: Symlink, Target: decoy})
			}
			replaced, mark = s.tl.now(), clock.mark()
		}
	})
	s.tl.autoAdvance()
	err := s.await("the waiter's Lock", s.goLock(s.ctx, waiter))
	switch {
	case errors.Is(mkErr, errors.ErrUnsupported):
		t.Skipf("the backend cannot make a symbolic link: %v", mkErr)
	case mkErr != nil:
		s.fatalf("replacing the lock file with a symbolic link: %v", mkErr)
	case replaced.IsZero():
		s.fatalf("the waiter's Lock (%s) never read the lock file and then stat it", errText(err))
	}
	s.checkErr("the waiter's Lock", err, locker.ErrForeignFile)
	s.wantPrompt("the waiter's report of the foreign file at the lock path", replaced, clock, mark)
}

func scenarioWaiterBreaksReplacedExpired(t *testing.T, b Backend) {
	s := newScene(t, b, "a waiter whose lock is released and taken by another whose lock is already expired (a clock far behind) breaks that lock at its next attempt")
	clock := newCallClock(s.env.FS)
	faults := faultfs.New(clock)
	gate := s.gate(faults)
	waiter := s.newLockOn(faults, s.path, locker.WithWatcher(false)) // has held it once (see scenarioWaiterSeesForeignObject)
	s.requireErr("the waiter's first TryLock", waiter.TryLock(), nil)
	s.requireErr("the waiter's first Unlock", waiter.Unlock(), nil)
	holder := s.newLock()
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	done := s.goLock(s.ctx, waiter)
	s.tl.waitAsleep(1)
	// The lock changes hands between two of the waiter's calls: on the
	// real clock a waiter that polled meanwhile would take the free lock.
	gate.close("the waiting Lock")
	s.requireErr("the holder's Unlock", holder.Unlock(), nil)
	late := s.newLock()
	s.requireErr("the late Lock's TryLock", late.TryLock(), nil)
	past := s.tl.now().Add(-time.Hour)
	if err := s.env.FS.Chtimes(late.ClaimFile(), past, past); err != nil {
		s.fatalf("dating the late lock in the past: %v", err)
	}
	replaced, mark := s.tl.now(), clock.mark()
	gate.open()
	s.wakeWaiter()
	s.requireErr("the waiter's Lock", s.await("the waiter's Lock", done), nil)
	s.wantPrompt("the waiter's break of the expired lock that replaced the one it waited for", replaced, clock, mark)
	s.checkErr("the waiter's Unlock", waiter.Unlock(), nil)
}

// wakeWaiter lets a waiter that sleeps on the virtual clock go on, its
// later sleeps moving the clock by themselves.
func (s *scene) wakeWaiter() {
	s.tl.autoAdvance()
	if s.tl.virtual != nil {
		s.tl.advance(s.tl.maxBackoff)
	}
}
