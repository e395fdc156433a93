package main

// A Mutation weakens one safety check of the locker: it replaces, in one
// file, each Old of its Edits (which must occur exactly once) with New.
type Mutation struct {
	ID    string // short and stable, for -run
	File  string // relative to the checkout, with forward slashes
	Desc  string // what the weakened locker does
	Edits []Edit
	// Equivalent, if not empty, says why no test can tell this mutation
	// from the original: the mutation is expected to survive.
	Equivalent string
	// Rare, if not empty, says that this real weakening is a known gap of
	// the suite: found only rarely, or only deeper than CI runs, and where.
	// It is reported as survived, but does not fail the run.
	Rare string
	// Planted marks the bugs of the search report (-report).
	Planted bool
}

// Edit replaces Old, found exactly once, with New.
type Edit struct{ Old, New string }

func edit(old, new string) []Edit { return []Edit{{old, new}} }

// mutations is the list. Anchors are whole distinctive lines (or the
// distinctive part of one), so that a small move of the code does not stop
// them applying, and a real change makes them fail loudly.
var mutations = []Mutation{
	// acquire.go: taking the lock.
	{
		ID: "acquire-expired-no-slop", File: "locker/acquire.go",
		Desc:  "a lock counts as breakable as soon as it expires, without the clock slop",
		Edits: edit("return l.serverNow().After(t.Add(l.slop))", "return l.serverNow().After(t)"),
	},
	{
		ID: "acquire-expired-at-boundary", File: "locker/acquire.go",
		Desc:  "a lock counts as breakable at exactly expiry + slop, not only after it",
		Edits: edit("return l.serverNow().After(t.Add(l.slop))", "return !l.serverNow().Before(t.Add(l.slop))"),
	},
	{
		ID: "acquire-trylock-breaks-unexpired", File: "locker/acquire.go",
		Desc:       "TryLock tries to break a busy lock without judging it expired first",
		Edits:      edit("if r.outcome == busy && l.expired(r.obs.info.ModTime) {", "if r.outcome == busy {"),
		Equivalent: "breakLock judges the lock again under the break lock and leaves an unexpired one alone; only the number of file operations changes (the suite killed this mutation only while the locker had rare races of its own, which the extra turns under the break lock made likelier; the tool now tells such kills apart)",
	},
	{
		ID: "acquire-lock-breaks-unexpired", File: "locker/waiting.go",
		Desc:       "a waiting Lock tries to break a busy lock without judging it expired first",
		Edits:      edit("\tif l.expired(r.obs.info.ModTime) {\n\t\tbroke, err := l.breakLock(r.obs)", "\tif true {\n\t\tbroke, err := l.breakLock(r.obs)"),
		Equivalent: "breakLock judges the lock again under the break lock and leaves an unexpired one alone; only the number of file operations changes",
	},
	{
		ID: "acquire-lost-reply-not-ours", File: "locker/acquire.go",
		Desc:  "a link whose reply was lost is not recognised as ours by the claim in the lock file",
		Edits: edit("if err == nil && l.owns(o) && l.stillOurs() {", "if false {"),
	},
	{
		ID: "acquire-foreign-is-busy", File: "locker/acquire.go",
		Desc:  "a lock file that holds no claim is taken for a busy lock (and broken when old)",
		Edits: edit("\t\tif !o.isClaim {\n\t\t\t// Look once more", "\t\tif false {\n\t\t\t// Look once more"),
	},
	{
		ID: "acquire-not-redated", File: "locker/acquire.go",
		Desc:  "a lock just taken is not dated again, however long ago its claim was dated",
		Edits: edit("\tif !fresh {\n", "\tif _ = fresh; false {\n"),
	},
	{
		ID: "acquire-checkheld-skipped", File: "locker/acquire.go",
		Desc:  "TryLock and Lock by the holder write the claim afresh instead of answering ErrAlreadyLocked",
		Edits: edit("\tif !l.isHeld() {\n\t\treturn nil\n\t}\n\to, err := l.observe()", "\tif true {\n\t\treturn nil\n\t}\n\to, err := l.observe()"),
	},

	// state.go and lock.go: ownership and expiry of one's own lock.
	{
		ID: "owns-any-link-count", File: "locker/state.go",
		Desc:  "ownership ignores the link count: the claim name in the lock file is enough",
		Edits: edit("if o.info.Links == 2 {", "if o.info.Links >= 1 {"),
	},
	{
		ID: "owns-any-contents", File: "locker/state.go",
		Desc:  "ownership ignores the claim name: any lock file with two links is ours",
		Edits: edit("if !o.exists || o.contents != l.claim {", "if !o.exists {"),
	},
	{
		ID: "maybebroken-never", File: "locker/lock.go",
		Desc:  "a holder never thinks its lock may be being broken: Refresh and Unlock never take the break lock",
		Edits: edit("return !now.Before(l.expiry)", "return now.IsZero()"),
	},
	{
		ID: "maybebroken-after-slop", File: "locker/lock.go",
		Desc:  "a holder takes the break lock only once its lock has expired by more than the slop",
		Edits: edit("return !now.Before(l.expiry)", "return now.After(l.expiry.Add(l.slop))"),
	},

	// release.go: Unlock.
	{
		ID: "unlock-plain-remove", File: "locker/release.go", Planted: true,
		Desc:  "an expired holder's Unlock removes the lock file with a plain remove, not under the break lock",
		Edits: edit("if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {", "if true {"),
	},
	{
		ID: "unlock-no-recheck", File: "locker/release.go", Planted: true,
		Desc:  "an expired holder's Unlock does not look at the lock again under the break lock",
		Edits: edit("\t\tif !l.owns(o) {\n\t\t\tlost = true", "\t\tif _ = o; false {\n\t\t\tlost = true"),
	},
	{
		ID: "unlock-owned-unchecked", File: "locker/release.go",
		Desc:  "Unlock removes the lock file whoever holds it",
		Edits: edit("owned := l.owns(o)", "owned := o.exists"),
	},
	{
		ID: "unlock-claim-left", File: "locker/release.go",
		Desc:  "Unlock leaves its claim file behind",
		Edits: edit("if err := l.removeIfExists(l.claim); err != nil {\n\t\terrs = appendErr(errs, fmt.Errorf(\"removing claim file", "if err := error(nil); err != nil {\n\t\terrs = appendErr(errs, fmt.Errorf(\"removing claim file"),
	},
	{
		ID: "unlock-judged-by-mtime-only", File: "locker/release.go",
		Desc:  "Unlock judges its lock unexpired by the lock file's time alone, not by the expiry it last gave",
		Edits: edit("if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {", "if l.serverNow().Before(o.info.ModTime) {"),
	},
	{
		ID: "unlock-judged-by-expiry-only", File: "locker/release.go",
		Desc:       "Unlock judges its lock unexpired by the expiry it last gave, not also by the lock file's time",
		Edits:      edit("if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {", "if !l.mayBeBroken() {"),
		Equivalent: "the lock file's time is the expiry this Lock last gave it (or, where a reply was lost, later), and a breaker must find it passed by more than the slop: while this Lock's own expiry has not passed, no breaker can be at work, so the second test adds nothing where clocks agree within the slop",
	},

	// refresh.go: Refresh and the keep-alive's refreshes.
	{
		ID: "refresh-no-break-lock", File: "locker/refresh.go", Planted: true,
		Desc:  "an expired holder's Refresh does not take the break lock",
		Edits: edit("\tif l.mayBeBroken() {\n\t\t// Our lock has expired", "\tif false {\n\t\t// Our lock has expired"),
	},
	{
		ID: "refresh-no-owns-check", File: "locker/refresh.go",
		Desc:  "Refresh dates the claim file and reports success without checking that the lock is still ours",
		Edits: edit("\tif !l.owns(o) {\n\t\tl.setHeld(false)\n\t\treturn &Error{Op: op, Path: l.path, Holder: o.details(), Err: ErrNotLocked}", "\tif false {\n\t\tl.setHeld(false)\n\t\treturn &Error{Op: op, Path: l.path, Holder: o.details(), Err: ErrNotLocked}"),
	},

	{
		ID: "refresh-loss-keeps-held", File: "locker/refresh.go",
		Desc:  "a Refresh that finds the lock not ours leaves the Lock marked as holding it, with the date it just gave its claim file",
		Edits: edit("\tif !l.owns(o) {\n\t\tl.setHeld(false)\n", "\tif !l.owns(o) {\n"),
	},

	// release.go: the quick release of a held, unexpired lock.
	{
		ID: "release-quick-links-unchecked", File: "locker/release.go",
		Desc:  "the quick release does not check that the claim file is linked (the lock file still ours)",
		Edits: edit("if err != nil || fi.Links != 2 || !now.Before(fi.ModTime) {", "if err != nil || !now.Before(fi.ModTime) {"),
	},
	{
		ID: "release-quick-date-unchecked", File: "locker/release.go",
		Desc:       "the quick release does not check the claim file's date (the lock's expiry)",
		Edits:      edit("if err != nil || fi.Links != 2 || !now.Before(fi.ModTime) {", "if _ = now; err != nil || fi.Links != 2 {"),
		Equivalent: "the quick release also requires this Lock's own record of the expiry to be in the future, and the claim file's date is that record (a Refresh that finds the lock lost ends the quick way): the two checks back each other up",
	},
	{
		ID: "release-quick-when-expired", File: "locker/release.go",
		Desc:       "the quick release is used whatever the expiry this Lock last gave",
		Edits:      edit("fast := l.held && l.linksKnown && !l.noLinks && now.Before(l.expiry)", "fast := l.held && l.linksKnown && !l.noLinks"),
		Equivalent: "the quick release also requires the claim file's date to be in the future, and that date is this Lock's own record of the expiry (a Refresh that finds the lock lost ends the quick way): the two checks back each other up",
	},
	{
		ID: "release-quick-lost-reply", File: "locker/release.go",
		Desc:  "the quick release takes a remove whose reply was lost (ENOENT) for a lock removed behind its back, and reports it never held",
		Edits: edit("\tcase isNotExist(err):\n\t\t// Gone: this remove was done", "\tcase isNotExist(err):\n\t\treturn false, nil\n\t\t// Gone: this remove was done"),
	},

	// keepalive.go.
	{
		ID: "keepalive-ignores-notlocked", File: "locker/keepalive.go",
		Desc:  "the keep-alive takes a refresh's ErrNotLocked for a passing failure and keeps going",
		Edits: edit("\t\tcase errors.Is(err, ErrNotLocked):\n\t\t\tk.declareLost(err)", "\t\tcase false:\n\t\t\tk.declareLost(err)"),
	},
	{
		ID: "keepalive-retries-past-expiry", File: "locker/keepalive.go",
		Desc:  "the keep-alive keeps retrying failed refreshes after the lock expired, without declaring it lost",
		Edits: edit("\t\tif l.mayBeBroken() {\n\t\t\tk.declareLost(err)", "\t\tif false {\n\t\t\tk.declareLost(err)"),
	},

	// break.go: breaking an expired lock, and the break lock.
	{
		ID: "break-no-second-look", File: "locker/break.go", Planted: true,
		Desc:  "the breaker does not look at the lock again under the break lock",
		Edits: edit("\t\tnow, err := l.observe()\n\t\tif err != nil {\n\t\t\treturn err\n\t\t}\n\t\tif !now.exists || now.contents != o.contents || !l.expired(now.info.ModTime) {\n\t\t\treturn nil // released, broken, or refreshed since we looked\n\t\t}", "\t\tnow, err := o, error(nil)"),
	},
	{
		ID: "break-second-look-ignores-expiry", File: "locker/break.go",
		Desc:  "under the break lock, the breaker checks that the lock is the one it judged but not that it is still expired",
		Edits: edit(" || !l.expired(now.info.ModTime) {\n\t\t\treturn nil // released, broken, or refreshed", " {\n\t\t\treturn nil // released, broken, or refreshed"),
	},
	{
		ID: "break-second-look-ignores-claim", File: "locker/break.go",
		Desc:  "under the break lock, the breaker checks that the lock is still expired but not that it is the one it judged",
		Edits: edit("if !now.exists || now.contents != o.contents || !l.expired", "if !now.exists || !l.expired"),
	},
	{
		ID: "break-aside-unchecked", File: "locker/break.go",
		Desc:  "what the breaker moved aside is removed without checking that it is the expired lock",
		Edits: edit("meant := rerr == nil && serr == nil && string(data) == contents && ok(fi)", "meant := true || rerr == nil && serr == nil && string(data) == contents && ok(fi)"),
	},
	{
		ID: "break-aside-contents-unchecked", File: "locker/break.go",
		Desc:  "what the breaker moved aside is checked to be expired, but not to hold the claim it judged",
		Edits: edit("meant := rerr == nil && serr == nil && string(data) == contents && ok(fi)", "meant := rerr == nil && serr == nil && ok(fi) && len(data) >= 0"),
	},
	{
		ID: "break-aside-expiry-unchecked", File: "locker/break.go",
		Desc:  "what the breaker moved aside is checked to hold the claim it judged, but not to be expired",
		Edits: edit("meant := rerr == nil && serr == nil && string(data) == contents && ok(fi)", "meant := rerr == nil && serr == nil && string(data) == contents && (ok(fi) || true)"),
	},
	{
		ID: "break-aside-not-restored", File: "locker/break.go",
		Desc:  "a file the breaker moved aside by mistake is not put back",
		Edits: edit("if err := restore(name); err != nil {\n\t\t// Someone created name", "if err := error(nil); err != nil {\n\t\t// Someone created name"),
	},
	{
		ID: "break-holder-claim-left", File: "locker/break.go",
		Desc:  "the breaker leaves the broken holder's claim file behind",
		Edits: edit("gone, rerr := l.removeBrokenClaim(holder, now.contents)", "gone, rerr := false, error(nil)"),
	},
	{
		ID: "break-lock-skipped", File: "locker/break.go", Planted: true,
		Desc:  "no turns under the break lock: every breaker, and every expired holder's Refresh and Unlock, acts at once",
		Edits: edit("\tretry(func(attempt int) bool {\n\t\tlinkErr := l.fsys.Link(l.breakClaim, l.breakPath)", "\tretry(func(attempt int) bool {\n\t\tgot = true\n\t\treturn true\n\t\tlinkErr := l.fsys.Link(l.breakClaim, l.breakPath)"),
	},
	{
		ID: "break-lock-stolen-when-live", File: "locker/break.go",
		Desc:  "a break lock is broken even though it has not expired",
		Edits: edit("if serr != nil || !l.expired(fi.ModTime) {", "if _ = fi; serr != nil {"),
	},
	{
		ID: "break-lock-lost-reply-not-ours", File: "locker/break.go",
		Desc:  "a link of the break lock whose reply was lost is not recognised as ours",
		Edits: edit("if rerr == nil && string(data) == l.breakClaim {\n\t\t\tgot = true // the link worked", "if false {\n\t\t\tgot = true // the link worked"),
	},
	{
		ID: "break-lock-released-unchecked", File: "locker/break.go",
		Desc:  "the break lock is removed on release without checking that it is still ours",
		Edits: edit("\tcase kept:\n", "\tcase len(data) >= 0:\n"),
	},
	{
		ID: "break-lock-busy-not-waited", File: "locker/break.go", Planted: true,
		Desc:  "an expired holder's Refresh or Unlock that finds the break lock busy gives up at once, reporting success",
		Edits: edit("\t\tif got || err != nil {\n\t\t\treturn kept, err", "\t\tif _ = got; true {\n\t\t\treturn kept, err"),
	},
	{
		ID: "break-stale-break-claim-left", File: "locker/break.go",
		Desc:  "a breaker that breaks a crashed breaker's break lock leaves that breaker's claim file behind",
		Edits: edit("\t\tl.removeIfExists(stale)", "\t\t_ = stale"),
	},
	{
		ID: "break-holder-claim-unchecked", File: "locker/break.go",
		Desc:  "a breaker removes the broken holder's claim file without checking that it is still the dead one (its holder may have taken the lock again with it)",
		Edits: edit("gone, rerr := l.removeBrokenClaim(holder, now.contents)", "gone, rerr := true, l.removeIfExists(holder)"),
	},

	// sweep.go: dead claimants' claim files.
	{
		ID: "sweep-live-claim", File: "locker/sweep.go",
		Desc:  "the sweep removes claim files that have not passed their time (a live waiter's)",
		Edits: edit("fi.Links < 2 && l.expired(fi.ModTime)", "fi.Links < 2"),
	},
	{
		ID: "sweep-linked-claim", File: "locker/sweep.go",
		Desc:       "the sweep does not spare claim files with two links (a holder's)",
		Edits:      edit("fi.Links < 2 && l.expired(fi.ModTime)", "l.expired(fi.ModTime)"),
		Equivalent: "a claim file with two links is the lock's, which lockHolds rules out before and after the move, or is linked to a file a breaker that crashed left moved aside (litter either way); sweeps and breaks take turns under the break lock, so no move of a live lock is under way",
	},
	{
		ID: "sweep-lock-holds-unchecked", File: "locker/sweep.go",
		Desc:       "the sweep does not check that the lock file does not hold the claim's name",
		Edits:      edit(" || l.lockHolds(lockFile, contents) {\n\t\treturn false, nil", " {\n\t\treturn false, nil"),
		Equivalent: "on a filesystem that counts links (memfs) a claim file the lock holds has two links, which looksDead rules out first; where links are not counted, removeDeadClaim asks lockHolds again after the move",
	},
	{
		ID: "sweep-process-unchecked", File: "locker/sweep.go",
		Desc:  "the sweep does not ask whether a claimant of this host is still running",
		Edits: edit("if alive, err := pc.ProcessAlive(c.host, c.pid); err != nil || alive {", "if alive, err := pc.ProcessAlive(c.host, c.pid); false && (err != nil || alive) {"),
	},
	{
		ID: "sweep-contents-unchecked", File: "locker/sweep.go",
		Desc:  "the sweep removes a file named like a claim whatever it holds",
		Edits: edit("if !isClaimFileOf(contents, name, l.sep, baseName(lockFile)) || l.lockHolds", "if l.lockHolds"),
	},
	{
		ID: "sweep-aside-not-rejudged", File: "locker/sweep.go",
		Desc:  "the sweep removes what it moved aside without judging again that it is dead",
		Edits: edit("dead := serr == nil && l.looksDead(fi)", "dead := serr == nil"),
	},
	{
		ID: "sweep-aside-lock-unchecked", File: "locker/sweep.go",
		Desc:       "the sweep removes what it moved aside without checking again that no lock holds it",
		Edits:      edit("dead = err == nil && string(data) == contents && !l.lockHolds(lockFile, contents)", "dead = err == nil && string(data) == contents"),
		Equivalent: "a claim file that became the lock's second link since the sweeper looked shows two links after the move, and its claimant re-dated it just before linking it (tendClaim), so looksDead, judged again after the move, already finds it alive",
	},
	{
		ID: "sweep-aside-look-not-retried", File: "locker/sweep.go",
		Desc:  "a look at a claim file moved aside that fails for a moment (ESTALE) is not tried again: the dead claimant's file is put back",
		Edits: edit("fi, serr := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.aside) })", "fi, serr := l.fsys.Stat(l.aside)"),
	},
	{
		ID: "sweep-putback-by-link", File: "locker/sweep.go",
		Desc:  "a claim file moved aside that has become a lock's second link is put back with link, not rename",
		Edits: edit("\tif linked {\n\t\tif err := l.renameBack(name); err != nil {", "\tif false {\n\t\tif err := l.renameBack(name); err != nil {"),
	},
	{
		ID: "sweep-outside-break-lock", File: "locker/sweep.go",
		Desc:  "the sweep does not take turns with breakers under the break lock",
		Edits: edit("\tgot, err := l.withBreakLock(func() (err error) {\n\t\tremoved, err = l.sweep(dr)\n\t\treturn err\n\t})", "\tgot, err := true, func() (err error) {\n\t\tremoved, err = l.sweep(dr)\n\t\treturn err\n\t}()"),
	},

	// waitclaim.go: a waiter's claim.
	{
		ID: "waitclaim-not-redated", File: "locker/waitclaim.go",
		Desc:  "a waiting Lock does not re-date its claim file",
		Edits: edit("switch err := l.touch(l.claim); {", "switch err := error(nil); {"),
	},
	{
		ID: "waitclaim-not-rewritten", File: "locker/waitclaim.go",
		Desc:  "a waiting Lock whose claim file was swept never writes it again",
		Edits: edit("\terr := l.writeFresh(l.claim, []byte(l.claim))\n", "\terr := error(nil)\n"),
	},
	{
		ID: "waitclaim-rewritten-late", File: "locker/waitclaim.go",
		Desc:  "a waiting Lock whose link fails for want of its claim file writes it again only when it next re-dates it",
		Edits: edit("if _, err := l.fsys.Stat(l.claim); isNotExist(err) {", "if _, err := l.fsys.Stat(l.claim); false && isNotExist(err) {"),
	},

	// fence.go: fencing tokens.
	{
		ID: "fence-token-not-bumped", File: "locker/fence.go",
		Desc:  "a fencing acquisition is given the last token again, not one more",
		Edits: edit("next := last + 1", "next := last"),
	},
	{
		ID: "fence-commit-unchecked", File: "locker/fence.go",
		Desc:  "the holder renames its token over the counter without checking that it still holds the lock",
		Edits: edit("\t\tif !l.owns(o) {\n\t\t\treturn fmt.Errorf(\"%w before its token was written\", ErrLost)", "\t\tif _ = o; false {\n\t\t\treturn fmt.Errorf(\"%w before its token was written\", ErrLost)"),
	},
	{
		ID: "fence-commit-no-break-lock", File: "locker/fence.go",
		Desc:  "a holder whose lock has expired commits its token without taking the break lock",
		Edits: edit("\t\tif l.mayBeBroken() {\n\t\t\t// A breaker may be at work: commit under the break lock", "\t\tif false {\n\t\t\t// A breaker may be at work: commit under the break lock"),
	},
	{
		ID: "fence-temp-not-dropped", File: "locker/fence.go",
		Desc:  "a breaker leaves the broken holder's temporary token file behind",
		Edits: edit("if err := l.removeIfExists(holderClaim + fenceTempSuffix); err != nil {", "if err := error(nil); err != nil {"),
	},
	{
		ID: "fence-failure-keeps-lock", File: "locker/fence.go",
		Desc:  "an acquisition whose token could not be written fails but keeps the lock",
		Edits: edit("if uerr := l.unlock(true); uerr != nil {", "if uerr := error(nil); uerr != nil {"),
	},

	// state.go: confirming what an observation showed.
	{
		ID: "attempt-lost-reply-unconfirmed", File: "locker/acquire.go",
		Desc:  "after a failed link, a lock file that shows our claim name and two links is taken for ours without a second look",
		Edits: edit("if err == nil && l.owns(o) && l.stillOurs() {", "if err == nil && l.owns(o) {"),
	},
	{
		ID: "islocked-unconfirmed", File: "locker/state.go",
		Desc:  "IsLocked trusts one look: the contents, then the attributes, which may be another lock's by then",
		Edits: edit("return err == nil && l.owns(o) && l.stillOurs()", "return err == nil && l.owns(o)"),
	},
	{
		ID: "confirm-no-second-read", File: "locker/state.go",
		Desc:  "confirming a lock ours does not read the lock file again",
		Edits: edit("\tdata, err := l.readLockFile()\n\tswitch {\n\tcase isNotExist(err):", "\tdata, err := []byte(l.claim), error(nil)\n\tswitch {\n\tcase isNotExist(err):"),
	},
	{
		ID: "confirm-claim-links-unchecked", File: "locker/state.go",
		Desc:  "confirming a lock ours does not check that its second link is our claim file",
		Edits: edit("if !l.owns(observation{exists: true, contents: l.claim, info: fi}) {", "if fi.Links > 1<<62 {"),
	},
	{
		ID: "state-not-steady", File: "locker/state.go",
		Desc:  "State trusts one look: the contents, then the attributes, which may be another lock's by then",
		Edits: edit("func (l *Lock) State() (State, error) {\n\to, err := l.observeSteady()", "func (l *Lock) State() (State, error) {\n\to, err := l.observe()"),
	},
	{
		ID: "state-expiry-flipped", File: "locker/state.go",
		Desc:  "State calls a lock expired before its time and unexpired after it",
		Edits: edit("expired := o.info.ModTime.Before(l.serverNow())", "expired := l.serverNow().Before(o.info.ModTime)"),
	},
	{
		ID: "checkheld-error-taken-for-lost", File: "locker/acquire.go",
		Desc:  "a holder that cannot read its lock takes it for lost and writes its claim afresh",
		Edits: edit("\tcase err != nil:\n\t\treturn &Error{Op: op, Path: l.path, Err: err}\n\tcase ours:", "\tcase err != nil && false:\n\t\treturn &Error{Op: op, Path: l.path, Err: err}\n\tcase ours:"),
	},
	{
		ID: "acquired-stale-judged-before-redating", File: "locker/acquire.go",
		Desc:  "whether a linked claim's date has passed by more than the slop is judged before it is dated again, not after, missing a pause between the link and the re-dating",
		Edits: edit("_, err := retrying(l, func() (struct{}, error) { return struct{}{}, l.touch(l.claim) })\n\t\tmayBeBroken := l.expired(stale)", "mayBeBroken := l.expired(stale)\n\t\t_, err := retrying(l, func() (struct{}, error) { return struct{}{}, l.touch(l.claim) })"),
	},
	{
		ID: "acquired-stale-link-unchecked", File: "locker/acquire.go",
		Desc:  "a Lock that linked a claim whose date had passed by more than the slop does not look again, after dating it, whether a breaker broke it meanwhile",
		Edits: edit("if err == nil && mayBeBroken && !l.stillOurs() {", "if err == nil && mayBeBroken && false {"),
	},
	{
		ID: "linkcounts-learnt-from-old-lock", File: "locker/acquire.go",
		Desc:  "a failed link that finds our claim name in a lock file of one link teaches that links are not counted, without a probe that it is our claim file's link",
		Edits: edit("o.contents == l.claim && (o.info.Links >= 2 || l.probeOwnLink(o))", "o.contents == l.claim"),
	},
	{
		ID: "linkcounts-transient-not-retried", File: "locker/state.go",
		Desc:       "learning whether the filesystem counts links gives up at a transient error",
		Edits:      edit("fi, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.claim) })", "fi, err := l.fsys.Stat(l.claim)"),
		Equivalent: "a Lock that, for want of the retry, learns the wrong lesson (no link counts) from its new claim file still refuses an old lock file of its own, by its date (confirm-no-links-date-unchecked), which is what LinkCountsLearntDespiteESTALE checks; the retry keeps the stronger rule of link counts",
	},

	// lock.go, break.go, sweep.go: faults.
	{
		ID: "remove-transient-not-retried", File: "locker/lock.go",
		Desc:  "a remove that fails with a transient error (ESTALE) is not retried",
		Edits: edit("return l.retryErr(func(int) error {\n\t\tif err := l.fsys.Remove(name); !errors.Is(err, fs.ErrNotExist) {", "return func(f func(int) error) error { return f(0) }(func(int) error {\n\t\tif err := l.fsys.Remove(name); !errors.Is(err, fs.ErrNotExist) {"),
	},
	{
		ID: "own-remove-transient-not-retried", File: "locker/lock.go",
		Desc:  "the removal of the lock file or the break lock by its holder gives up at a failure of a moment (ESTALE), leaving it for others to wait out",
		Edits: edit("return err == nil || errors.Is(err, fs.ErrNotExist) || !l.retryable(err)", "return true"),
	},
	{
		ID: "own-remove-retried-blind", File: "locker/lock.go",
		Desc:  "a holder tries again a removal of its lock file (or break lock) answered ESTALE without looking that the file is still its own: the removal may have been done and the name taken since",
		Edits: edit("\t\tif try > 0 {\n\t\t\tvar ours bool\n\t\t\tif ours, err = stillOurs()", "\t\tif try > 0 && false {\n\t\t\tvar ours bool\n\t\t\tif ours, err = stillOurs()"),
	},
	{
		ID: "break-lock-release-retried-blind", File: "locker/break.go",
		Desc:  "the release of the break lock tries again a removal answered ESTALE without looking that the break lock is still its own",
		Edits: edit("l.removeOwn(l.breakPath, l.stillHoldsBreakLock)", "l.removeOwn(l.breakPath, func() (bool, error) { return true, nil })"),
	},
	{
		ID: "lost-rename-reply", File: "locker/break.go",
		Desc:  "a rename aside (of an expired lock, or of a dead claimant's claim file) whose reply was lost is taken for one not done",
		Edits: edit("if err := l.fsys.Rename(name, l.aside); err != nil && !l.movedAside() {", "if err := l.fsys.Rename(name, l.aside); err != nil {"),
	},
	{
		ID: "rename-aside-transient-not-retried", File: "locker/break.go",
		Desc:  "a rename aside (of an expired lock, or of a dead claimant's claim file) that fails for a moment (ESTALE) is not tried again",
		Edits: edit("return l.retryErr(func(int) error {\n\t\tif err := l.fsys.Rename(name, l.aside)", "return func(f func(int) error) error { return f(0) }(func(int) error {\n\t\tif err := l.fsys.Rename(name, l.aside)"),
	},

	{
		ID: "put-back-transient-not-retried", File: "locker/break.go",
		Desc:  "putting back a file moved aside by mistake gives up at a failure of a moment (ESTALE), losing a live lock or claim file",
		Edits: edit("return l.retryErr(func(try int) error {\n\t\terr := l.fsys.Link(l.aside, name)", "return func(f func(int) error) error { return f(0) }(func(try int) error {\n\t\terr := l.fsys.Link(l.aside, name)"),
	},
	{
		ID: "put-back-lost-reply-misread", File: "locker/break.go",
		Desc:  "a retried put-back that finds the file there, put by its own earlier try whose reply was lost, reports it lost",
		Edits: edit("if try > 0 && errors.Is(err, fs.ErrExist) && l.sameContents(name, l.aside) {", "if false {"),
	},
	{
		ID: "aside-not-cleared", File: "locker/break.go",
		Desc:       "the aside name is not cleared before a move, so a rename whose reply was lost is not told from an old file left there",
		Edits:      edit("\tif err := l.clearAside(); err != nil {\n\t\treturn false, err\n\t}\n\tif l.inBreak.Load() && !l.holdsBreakLock() {\n\t\t// Under", "\tif err := error(nil); err != nil {\n\t\treturn false, err\n\t}\n\tif l.inBreak.Load() && !l.holdsBreakLock() {\n\t\t// Under"),
		Equivalent: "a live Lock leaves nothing at its aside name (it removes what it moved, retrying ESTALE), so there is nothing to clear; the clearing guards against a removal that failed for good, after which a lost rename reply would be misread",
	},

	// Waiting and timing.
	{
		ID: "break-lock-wait-gives-up-at-once", File: "locker/break.go",
		Desc:  "an expired holder's Refresh or Unlock gives up as soon as it finds the break lock busy",
		Edits: edit("\t\tif !l.clock.Now().Before(deadline) {\n\t\t\treturn false, fmt.Errorf(\"%w: the break lock %s stayed busy\", ErrTimeout, l.breakPath)", "\t\tif _ = deadline; true {\n\t\t\treturn false, fmt.Errorf(\"%w: the break lock %s stayed busy\", ErrTimeout, l.breakPath)"),
	},
	{
		ID: "keepalive-too-slow", File: "locker/keepalive.go",
		Desc:  "the keep-alive refreshes every two lifetimes instead of every third of one",
		Edits: edit("\twait := l.Lifetime() / 3\n", "\twait := l.Lifetime() * 2\n"),
	},
	{
		ID: "waitclaim-redated-too-rarely", File: "locker/waitclaim.go",
		Desc:  "a waiting Lock re-dates its claim file every two lifetimes instead of every third of one",
		Edits: edit("return l.Lifetime() / 3 }", "return l.Lifetime() * 2 }"),
	},

	// wait.go and freshlook.go: judging a busy lock by a stat.
	{
		ID: "glance-breaks-on-a-stat", File: "locker/wait.go",
		Desc:  "a waiter that sees by a stat alone that the lock it saw before has expired breaks it without reading it again",
		Edits: edit("fi.Links != seen.info.Links, l.expired(fi.ModTime):", "fi.Links != seen.info.Links:"),
	},
	{
		ID: "glance-ignores-links", File: "locker/wait.go",
		Desc:  "a waiter judges the lock by a stat alone even though its link count changed since its last full look",
		Edits: edit("fi.Links != seen.info.Links, l.expired(fi.ModTime):", "l.expired(fi.ModTime):"),
	},
	{
		ID: "confirm-no-links-date-unchecked", File: "locker/state.go",
		Desc:  "without link counts, confirming a lock ours does not check that the lock file has our claim file's date",
		Edits: edit("if !lfi.ModTime.Equal(fi.ModTime) {", "if lfi.ModTime.IsZero() && false {"),
	},
	{
		ID: "glance-ignores-own-whole-second", File: "locker/wait.go",
		Desc:       "a waiter whose failed link finds a lock file dated as its own claim in whole seconds judges it busy from a stat",
		Edits:      edit("(d < time.Microsecond || fi.ModTime.Equal(ours.Truncate(time.Second)))", "(d < time.Microsecond)"),
		Equivalent: "the suite's only whole-second filesystems (memfs like sshfs, sshfs) count no links, and there a waiter reads any lock file whose date changed since its last look (glance-no-links-ignores-change), its own lost reply included; the clause matters where whole seconds and link counts go together",
	},
	{
		ID: "confirm-no-links-not-reread", File: "locker/state.go",
		Desc:  "without link counts, confirming a lock ours does not read the lock file again after its date",
		Edits: edit("\treturn string(data) == l.claim, nil\n}", "\treturn data != nil || true, nil\n}"),
	},
	{
		ID: "acquired-claim-gone", File: "locker/acquire.go",
		Desc:       "a lock file holding our claim name is taken for ours even when re-dating finds our claim file gone",
		Edits:      edit("\t\t\tif isNotExist(err) {\n\t\t\t\t// Our claim file is gone", "\t\t\tif false {\n\t\t\t\t// Our claim file is gone"),
		Equivalent: "the other guard of the race of confirm-no-links-not-reread, which catches it first",
	},
	{
		ID: "acquired-undated-kept", File: "locker/acquire.go",
		Desc:       "a lock taken whose re-dating keeps failing is kept, expiring when the claim was dated",
		Equivalent: "the suite's faults strike a case at most twice and the re-dating is tried four times, so it never keeps failing there; the interleavings found the bug this guards against (an ESTALE on the one re-dating: a waiter's lock expiring when its claim was dated, long before) before the re-dating was retried",
		Edits:      edit("\t\t\tl.log.Warn(\"lock taken but could not be dated: giving it up\", \"err\", err)\n\t\t\tif o, oerr := l.observe(); oerr == nil && l.owns(o) {", "\t\t\tl.log.Warn(\"lock taken but could not be dated: giving it up\", \"err\", err)\n\t\t\tl.setHeld(true)\n\t\t\treturn true\n\t\t\tif o, oerr := l.observe(); oerr == nil && l.owns(o) {"),
	},
	{
		ID: "break-lock-not-rechecked", File: "locker/break.go",
		Desc:  "a breaker moves a file aside without checking that the break lock is still its own",
		Edits: edit("\tif l.inBreak.Load() && !l.holdsBreakLock() {\n\t\t// Under", "\tif false {\n\t\t// Under"),
	},
	{
		ID: "refresh-under-lost-break-lock-trusted", File: "locker/break.go",
		Desc:  "an expired holder's Refresh (or fencing token) done under a break lock that was no longer its own when done is trusted, without a second look",
		Edits: edit("\tif err != nil || kept {\n\t\treturn err\n\t}\n\tif retry(func(int) bool {", "\tif _ = kept; true {\n\t\treturn err\n\t}\n\tif retry(func(int) bool {"),
	},
	{
		ID: "break-lock-unchecked-before-removal", File: "locker/break.go",
		Desc:  "a breaker removes what it moved aside without looking again that the break lock is still its own",
		Edits: edit("if meant && l.inBreak.Load() && !l.holdsBreakLock() {", "if meant && false && l.inBreak.Load() && !l.holdsBreakLock() {"),
	},
	{
		ID: "break-lock-put-back-with-link", File: "locker/break.go",
		Desc:  "a breaker of a stale break lock that moved another's fresh one aside by mistake puts it back with link, losing it if a third took the free name meanwhile",
		Edits: edit("data, func(fi FileInfo) bool { return l.expired(fi.ModTime) }, l.renameBack); err != nil {", "data, func(fi FileInfo) bool { return l.expired(fi.ModTime) }, l.linkBack); err != nil {"),
	},
	{
		ID: "glance-no-links-ignores-change", File: "locker/wait.go",
		Desc:  "without link counts, a waiter judges the lock busy from a stat even though its date or size changed",
		Edits: edit("if !links && changedHands(seen.info, fi) {", "if links && false && changedHands(seen.info, fi) {"),
	},
	{
		ID: "glance-ignores-own-date", File: "locker/wait.go",
		Desc:  "a waiter whose failed link finds a lock file dated as its own claim (its link made it, the reply lost) judges it busy from a stat",
		Edits: edit("if d := ours.Sub(fi.ModTime); d >= 0 && (d < time.Microsecond || fi.ModTime.Equal(ours.Truncate(time.Second))) {", "if d := ours.Sub(fi.ModTime); false && d >= 0 {"),
	},
	{
		ID: "fresh-look-skipped", File: "locker/break.go",
		Desc:       "the breaker does not take a fresh look at the lock's expiry where link counts are missing",
		Edits:      edit("if !l.stillExpired(now) {", "if false {"),
		Equivalent: "on a filesystem that counts links (memfs) a lock file shows two links and stillExpired returns true at once: the fresh look is for filesystems without link counts, whose attribute caches can show an old expiry (the suite runs there on the sshfs rig)",
	},

	// breakcmd.go: breaking on request.
	{
		ID: "break-cmd-unexpired", File: "locker/breakcmd.go",
		Desc:  "Break does not judge the lock expired before trying to break it",
		Edits: edit("\t\tcase !l.expired(o.info.ModTime):\n", "\t\tcase false:\n"),
	},
	{
		ID: "forcebreak-any-holder", File: "locker/breakcmd.go",
		Desc:  "ForceBreak breaks the lock whoever holds it now, not only the holder it was asked to break",
		Edits: edit("case o.claim.host != holder.Hostname || o.claim.pid != holder.PID || o.claim.lockFile != holder.LockFile:", "case false:"),
	},

	// Comparisons flipped, and what counts as a claim.
	{
		ID: "unlock-expiry-comparison-flipped", File: "locker/release.go",
		Desc:       "Unlock removes its lock with a plain remove once it has expired, and under the break lock while it has not",
		Edits:      edit("if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {", "if !l.mayBeBroken() && l.serverNow().After(o.info.ModTime) {"),
		Equivalent: "an unexpired lock's time is after now, so the flipped condition never holds and Unlock always takes the break lock: slower, never wrong",
	},
	{
		ID: "break-second-look-expiry-flipped", File: "locker/break.go",
		Desc:  "under the break lock, the breaker goes on only if the lock is no longer expired",
		Edits: edit("now.contents != o.contents || !l.expired(now.info.ModTime) {", "now.contents != o.contents || l.expired(now.info.ModTime) {"),
	},
	{
		ID: "owns-two-or-more-links", File: "locker/state.go",
		Desc:       "ownership accepts a lock file with more than two links",
		Edits:      edit("if o.info.Links == 2 {", "if o.info.Links >= 2 {"),
		Equivalent: "in nfslock a lock file has a third link only for a moment, while a breaker puts our lock back or a sweeper our claim file (rename aside, link back, remove): the lock is then ours",
	},
	{
		ID: "claim-of-any-lock-file", File: "locker/claim.go",
		Desc:  "a claim name for another lock file counts as a claim of this one (and is broken when old)",
		Edits: edit("if baseName(parts[0]) != base {", "if false {"),
	},
	{
		ID: "claim-host-with-slash", File: "locker/claim.go",
		Desc:  "a claim whose host holds a path separator counts as a claim (its claim file, which a breaker removes, would be elsewhere)",
		Edits: edit("len(parts) != 4 || parts[1] == \"\" || strings.ContainsAny(parts[1], `/\\`) {", "len(parts) != 4 || parts[1] == \"\" {"),
	},
	{
		ID: "foreign-object-not-recognised", File: "locker/read.go",
		Desc:  "a FIFO, directory, symbolic link or device at the lock path is not taken for a foreign file",
		Edits: edit("return errors.Is(err, ErrNotRegular) || errors.Is(err, ErrTooLong)", "return errors.Is(err, ErrTooLong)"),
	},

	// read.go.
	{
		ID: "read-unbounded", File: "locker/read.go",
		Desc:       "the locker does not itself refuse a lock file longer than MaxClaimLen",
		Edits:      edit("if err == nil && len(data) > MaxClaimLen {", "if false {"),
		Equivalent: "every backend the suite runs (memfs included) stops reading at MaxClaimLen + 1 bytes and fails with ErrTooLong itself, as the FS contract asks; the locker's check guards against a backend that does not",
	},
}
