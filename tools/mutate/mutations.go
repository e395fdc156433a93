package main

// A Mutation weakens one safety check of the locker. Each of its Edits
// names a function of the locker package and a pattern within it, and
// replaces the one piece of that function's source the pattern matches.
//
// An edit is anchored on what moves with the code, not on a file or a
// line: the function is looked up, by name, in every non-test .go file of
// locker/ (so a function moved to another file is still found), and the
// pattern is matched whatever the white space: each run of spaces, tabs
// and newlines in it matches any such run, and indentation does not
// matter (so code re-indented, or wrapped in a block, still matches). A
// pattern must match exactly once within its function; a function that
// is not found, or a pattern found zero times or several, makes
// `go test ./tools/...` and `go run ./tools/mutate` fail, naming the
// mutation, the function and the pattern, before anything is run.
type Mutation struct {
	ID    string // short and stable, for -run
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

// An Edit replaces, within the function Func of the locker package, the
// one span of source that Old matches with New, as it is (the mutant need
// not be gofmt'd, but must compile). An import that the mutant leaves
// unused in its file is made a blank import, so that an edit that removes
// the last use of a package compiles wherever its function is.
type Edit struct {
	// Func names the function: "retrying" for a function, "(*Lock).expired"
	// or "(waiting).busy" for a method, without a generic receiver's type
	// parameters.
	Func string
	// Old is the pattern, matched whatever the white space, that must occur
	// exactly once in the function's source (from "func" to its closing
	// brace). It should be the smallest piece of code that says what is
	// changed: a condition, a call, a line; not the comment beside it.
	Old string
	New string
}

// edit is the usual mutation: one edit.
func edit(fn, old, new string) []Edit { return []Edit{{Func: fn, Old: old, New: new}} }

// mutations is the list.
var mutations = []Mutation{
	// Taking the lock.
	{
		ID:    "acquire-expired-no-slop",
		Desc:  "a lock counts as breakable as soon as it expires, without the clock slop",
		Edits: edit("(*Lock).expired", "return l.serverNow().After(t.Add(l.slop))", "return l.serverNow().After(t)"),
	},
	{
		ID:    "acquire-expired-at-boundary",
		Desc:  "a lock counts as breakable at exactly expiry + slop, not only after it",
		Edits: edit("(*Lock).expired", "return l.serverNow().After(t.Add(l.slop))", "return !l.serverNow().Before(t.Add(l.slop))"),
	},
	{
		ID:         "acquire-trylock-breaks-unexpired",
		Desc:       "TryLock tries to break a busy lock without judging it expired first",
		Edits:      edit("(*Lock).TryLock", "if r.outcome == busy && l.expired(r.obs.info.ModTime) {", "if r.outcome == busy {"),
		Equivalent: "breakLock judges the lock again under the break lock and leaves an unexpired one alone; only the number of file operations changes (the suite killed this mutation only while the locker had rare races of its own, which the extra turns under the break lock made likelier; the tool now tells such kills apart)",
	},
	{
		ID:    "acquire-lock-breaks-unexpired",
		Desc:  "a waiting Lock tries to break a busy lock without judging it expired first",
		Edits: edit("(*waiting).busy", "if l.expired(r.obs.info.ModTime) {", "if true {"),
		// Listed as equivalent until CI "killed" it: no safety rule is
		// broken (breakLock judges the lock again under the break lock
		// and leaves an unexpired one alone), but a waiter that takes the
		// break lock at every poll can keep it from the holder, whose
		// refresh needs it; a writer's Lock then gives up early in
		// RWLock/Scenarios/WriterExcludes, in 3 runs of 4 here.
		Rare: "a liveness difference, not a safety one: a waiter taking the break lock at every poll can keep it from a holder's refresh; RWLock/Scenarios/WriterExcludes sees a writer give up early in most runs, not all",
	},
	{
		ID:    "acquire-lost-reply-not-ours",
		Desc:  "a link whose reply was lost is not recognised as ours by the claim in the lock file",
		Edits: edit("(*Lock).attempt", "if err == nil && l.owns(o) && l.stillOurs() {", "if false {"),
	},
	{
		ID:    "acquire-foreign-is-busy",
		Desc:  "a lock file that holds no claim is taken for a busy lock (and broken when old)",
		Edits: edit("(*Lock).attempt", "if !o.isClaim {", "if false {"),
	},
	{
		ID:    "acquire-not-redated",
		Desc:  "a lock just taken is not dated again, however long ago its claim was dated",
		Edits: edit("(*Lock).acquired", "if !fresh {", "if _ = fresh; false {"),
	},
	{
		ID:    "acquire-checkheld-skipped",
		Desc:  "TryLock and Lock by the holder write the claim afresh instead of answering ErrAlreadyLocked",
		Edits: edit("(*Lock).checkHeld", "if !l.isHeld() {", "if true {"),
	},

	// Ownership and expiry of one's own lock.
	{
		ID:    "owns-any-link-count",
		Desc:  "ownership ignores the link count: the claim name in the lock file is enough",
		Edits: edit("(*Lock).owns", "if o.info.Links == 2 {", "if o.info.Links >= 1 {"),
	},
	{
		ID:    "owns-any-contents",
		Desc:  "ownership ignores the claim name: any lock file with two links is ours",
		Edits: edit("(*Lock).owns", "if !o.exists || o.contents != l.claim {", "if !o.exists {"),
	},
	{
		ID:    "maybebroken-never",
		Desc:  "a holder never thinks its lock may be being broken: Refresh and Unlock never take the break lock",
		Edits: edit("(*Lock).mayBeBroken", "return !now.Before(l.keptExpiry())", "return now.IsZero()"),
	},
	{
		ID:    "maybebroken-after-slop",
		Desc:  "a holder takes the break lock only once its lock has expired by more than the slop",
		Edits: edit("(*Lock).mayBeBroken", "return !now.Before(l.keptExpiry())", "return now.After(l.keptExpiry().Add(l.slop))"),
	},
	{
		ID:    "maybebroken-written-expiry",
		Desc:  "a holder judges its expiry by the date it wrote, not by the one the filesystem keeps (up to a second earlier where times are whole seconds)",
		Edits: edit("(*Lock).keptExpiry", "return l.expiry.Truncate(l.gran)", "return l.expiry"),
	},

	// Unlock.
	{
		ID: "unlock-plain-remove", Planted: true,
		Desc:  "an expired holder's Unlock removes the lock file with a plain remove, not under the break lock",
		Edits: edit("(*Lock).removeLockFile", "if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {", "if true {"),
	},
	{
		ID:         "unlock-no-recheck",
		Desc:       "an expired holder's Unlock does not look at the lock again under the break lock",
		Edits:      edit("(*Lock).removeLockFile", "if !l.owns(o) {", "if _ = o; false {"),
		Equivalent: "the look at the file just before it is moved aside under the break lock (stillHolds in removeAsideRestoring, after the look at the break lock) checks again what this one checked earlier, closer to the move: what the scenarios that killed this mutation make happen between the two looks, it finds. The earlier look stays: it spares the fresh look and the break lock's work where the lock was already released or refreshed",
	},
	{
		ID:    "unlock-owned-unchecked",
		Desc:  "Unlock removes the lock file whoever holds it",
		Edits: edit("(*Lock).unlock", "owned := l.owns(o)", "owned := o.exists"),
	},
	{
		ID:    "unlock-claim-left",
		Desc:  "Unlock leaves its claim file behind",
		Edits: edit("(*Lock).unlock", "if err := l.removeIfExists(l.claim); err != nil {", "if err := error(nil); err != nil {"),
	},
	{
		ID:    "unlock-judged-by-mtime-only",
		Desc:  "Unlock judges its lock unexpired by the lock file's time alone, not by the expiry it last gave",
		Edits: edit("(*Lock).removeLockFile", "if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {", "if l.serverNow().Before(o.info.ModTime) {"),
	},
	{
		ID:         "unlock-judged-by-expiry-only",
		Desc:       "Unlock judges its lock unexpired by the expiry it last gave, not also by the lock file's time",
		Edits:      edit("(*Lock).removeLockFile", "if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {", "if !l.mayBeBroken() {"),
		Equivalent: "the lock file's time is the expiry this Lock last gave it (or, where a reply was lost, later), and a breaker must find it passed by more than the slop: while this Lock's own expiry has not passed, no breaker can be at work, so the second test adds nothing where clocks agree within the slop",
	},

	// Refresh and the keep-alive's refreshes.
	{
		ID: "refresh-no-break-lock", Planted: true,
		Desc:  "an expired holder's Refresh does not take the break lock",
		Edits: edit("(*Lock).refresh", "if l.mayBeBroken() {", "if false {"),
	},
	{
		ID:    "refresh-no-owns-check",
		Desc:  "Refresh dates the claim file and reports success without checking that the lock is still ours",
		Edits: edit("(*Lock).refreshNow", "if !l.owns(o) {", "if false {"),
	},

	{
		ID:    "refresh-loss-keeps-held",
		Desc:  "a Refresh that finds the lock not ours leaves the Lock marked as holding it, with the date it just gave its claim file",
		Edits: edit("(*Lock).refreshNow", "if !l.owns(o) {\nl.setHeld(false)", "if !l.owns(o) {"),
	},

	// The quick release of a held, unexpired lock.
	{
		ID:    "release-quick-links-unchecked",
		Desc:  "the quick release does not check that the claim file is linked (the lock file still ours)",
		Edits: edit("(*Lock).releaseHeld", "if err != nil || fi.Links != 2 || !now.Before(fi.ModTime) {", "if err != nil || !now.Before(fi.ModTime) {"),
	},
	{
		ID:         "release-quick-date-unchecked",
		Desc:       "the quick release does not check the claim file's date (the lock's expiry)",
		Edits:      edit("(*Lock).releaseHeld", "if err != nil || fi.Links != 2 || !now.Before(fi.ModTime) {", "if _ = now; err != nil || fi.Links != 2 {"),
		Equivalent: "the quick release also requires this Lock's own record of the expiry to be in the future, and the claim file's date is that record (a Refresh that finds the lock lost ends the quick way): the two checks back each other up",
	},
	{
		ID:         "release-quick-when-expired",
		Desc:       "the quick release is used whatever the expiry this Lock last gave",
		Edits:      edit("(*Lock).releaseHeld", "fast := l.held && l.linksKnown && !l.noLinks && now.Before(l.keptExpiry())", "fast := l.held && l.linksKnown && !l.noLinks"),
		Equivalent: "the quick release also requires the claim file's date to be in the future, and that date is this Lock's own record of the expiry (a Refresh that finds the lock lost ends the quick way): the two checks back each other up",
	},
	{
		ID:    "release-quick-lost-reply",
		Desc:  "the quick release takes a remove whose reply was lost (ENOENT) for a lock removed behind its back, and reports it never held",
		Edits: edit("(*Lock).releaseHeld", "case isNotExist(err):", "case isNotExist(err):\nreturn false, nil"),
	},

	// The keep-alive.
	{
		ID:    "keepalive-ignores-notlocked",
		Desc:  "the keep-alive takes a refresh's ErrNotLocked for a passing failure and keeps going",
		Edits: edit("(*KeepAlive).run", "case errors.Is(err, ErrNotLocked):", "case false:"),
	},
	{
		ID:    "keepalive-retries-past-expiry",
		Desc:  "the keep-alive keeps retrying failed refreshes after the lock expired, without declaring it lost",
		Edits: edit("(*KeepAlive).run", "if l.mayBeBroken() {", "if false {"),
	},

	// Breaking an expired lock, and the break lock.
	{
		ID:         "break-no-second-look",
		Desc:       "the breaker does not look at the lock again under the break lock",
		Edits:      edit("(*Lock).breakLock", "now, err := l.observe()\nif err != nil {\nreturn err\n}\nif !now.exists || now.contents != o.contents || !l.expired(now.info.ModTime) {\nreturn nil // released, broken, or refreshed since we looked\n}", "now, err := o, error(nil)"),
		Equivalent: "the look at the file just before it is moved aside under the break lock (stillHolds in removeAsideRestoring, after the look at the break lock) checks again what this one checked earlier, closer to the move: what the scenarios that killed this mutation make happen between the two looks, it finds. The earlier look stays: it spares the fresh look and the break lock's work where the lock was already released or refreshed",
	},
	{
		ID:         "break-second-look-ignores-expiry",
		Desc:       "under the break lock, the breaker checks that the lock is the one it judged but not that it is still expired",
		Edits:      edit("(*Lock).breakLock", "|| !l.expired(now.info.ModTime) {", "{"),
		Equivalent: "the look at the file just before it is moved aside under the break lock (stillHolds in removeAsideRestoring, after the look at the break lock) checks again what this one checked earlier, closer to the move: what the scenarios that killed this mutation make happen between the two looks, it finds. The earlier look stays: it spares the fresh look and the break lock's work where the lock was already released or refreshed",
	},
	{
		ID:    "break-second-look-ignores-claim",
		Desc:  "under the break lock, the breaker checks that the lock is still expired but not that it is the one it judged",
		Edits: edit("(*Lock).breakLock", "if !now.exists || now.contents != o.contents || !l.expired", "if !now.exists || !l.expired"),
	},
	{
		ID:    "break-aside-unchecked",
		Desc:  "what the breaker moved aside is removed without checking that it is the expired lock",
		Edits: edit("(*Lock).removeAsideRestoring", "meant := rerr == nil && serr == nil && string(data) == contents && ok(fi)", "meant := true || rerr == nil && serr == nil && string(data) == contents && ok(fi)"),
	},
	{
		ID:    "break-aside-contents-unchecked",
		Desc:  "what the breaker moved aside is checked to be expired, but not to hold the claim it judged",
		Edits: edit("(*Lock).removeAsideRestoring", "meant := rerr == nil && serr == nil && string(data) == contents && ok(fi)", "meant := rerr == nil && serr == nil && ok(fi) && len(data) >= 0"),
	},
	{
		ID:    "break-aside-expiry-unchecked",
		Desc:  "what the breaker moved aside is checked to hold the claim it judged, but not to be expired",
		Edits: edit("(*Lock).removeAsideRestoring", "meant := rerr == nil && serr == nil && string(data) == contents && ok(fi)", "meant := rerr == nil && serr == nil && string(data) == contents && (ok(fi) || true)"),
	},
	{
		ID:    "break-aside-not-restored",
		Desc:  "a file the breaker moved aside by mistake is not put back",
		Edits: edit("(*Lock).removeAsideRestoring", "if err := restore(name); err != nil {", "if err := error(nil); err != nil {"),
	},
	{
		ID:    "break-holder-claim-left",
		Desc:  "the breaker leaves the broken holder's claim file behind",
		Edits: edit("(*Lock).breakLock", "gone, rerr := l.removeBrokenClaim(holder, now.contents)", "gone, rerr := false, error(nil)"),
	},
	{
		ID: "break-lock-skipped", Planted: true,
		Desc:  "no turns under the break lock: every breaker, and every expired holder's Refresh and Unlock, acts at once",
		Edits: edit("(*Lock).takeBreakLock", "retry(func(attempt int) bool {", "retry(func(attempt int) bool {\ngot = true\nreturn true"),
	},
	{
		ID:    "break-lock-stolen-when-live",
		Desc:  "a break lock is broken even though it has not expired",
		Edits: edit("(*Lock).breakStaleBreakLock", "if serr != nil || !l.expired(fi.ModTime) {", "if _ = fi; serr != nil {"),
	},
	{
		ID:    "break-lock-lost-reply-not-ours",
		Desc:  "a link of the break lock whose reply was lost is not recognised as ours",
		Edits: edit("(*Lock).takeBreakLock", "if rerr == nil && string(data) == l.breakClaim {", "if false {"),
	},
	{
		ID:    "break-lock-released-unchecked",
		Desc:  "the break lock is removed on release without checking that it is still ours",
		Edits: edit("(*Lock).releaseBreakLock", "case kept:", "case len(data) >= 0:"),
	},
	{
		ID: "break-lock-busy-not-waited", Planted: true,
		Desc:  "an expired holder's Refresh or Unlock that finds the break lock busy gives up at once, reporting success",
		Edits: edit("(*Lock).underBreakLockKept", "if got || err != nil {", "if _ = got; true {"),
	},
	{
		ID:    "break-stale-break-claim-left",
		Desc:  "a breaker that breaks a crashed breaker's break lock leaves that breaker's claim file behind",
		Edits: edit("(*Lock).breakStaleBreakLock", "l.removeIfExists(stale)", "_ = stale"),
	},
	{
		ID:    "break-holder-claim-unchecked",
		Desc:  "a breaker removes the broken holder's claim file without checking that it is still the dead one (its holder may have taken the lock again with it)",
		Edits: edit("(*Lock).breakLock", "gone, rerr := l.removeBrokenClaim(holder, now.contents)", "gone, rerr := true, l.removeIfExists(holder)"),
	},

	// Sweeping dead claimants' claim files.
	{
		ID:    "sweep-live-claim",
		Desc:  "the sweep removes claim files that have not passed their time (a live waiter's)",
		Edits: edit("(*Lock).looksDead", "fi.Links < 2 && l.expired(fi.ModTime)", "fi.Links < 2"),
	},
	{
		ID:         "sweep-linked-claim",
		Desc:       "the sweep does not spare claim files with two links (a holder's)",
		Edits:      edit("(*Lock).looksDead", "fi.Links < 2 && l.expired(fi.ModTime)", "l.expired(fi.ModTime)"),
		Equivalent: "a claim file with two links is the lock's, which lockHolds rules out before and after the move, or is linked to a file a breaker that crashed left moved aside (litter either way); sweeps and breaks take turns under the break lock, so no move of a live lock is under way",
	},
	{
		ID:         "sweep-lock-holds-unchecked",
		Desc:       "the sweep does not check that the lock file does not hold the claim's name",
		Edits:      edit("(*Lock).sweepOne", "|| l.lockHolds(lockFile, contents) {", "{"),
		Equivalent: "on a filesystem that counts links (memfs) a claim file the lock holds has two links, which looksDead rules out first; where links are not counted, removeDeadClaim asks lockHolds again after the move",
	},
	{
		ID:    "sweep-process-unchecked",
		Desc:  "the sweep does not ask whether a claimant of this host is still running",
		Edits: edit("(*Lock).sweepOne", "if alive, err := pc.ProcessAlive(c.host, c.pid); err != nil || alive {", "if alive, err := pc.ProcessAlive(c.host, c.pid); false && (err != nil || alive) {"),
	},
	{
		ID:    "sweep-contents-unchecked",
		Desc:  "the sweep removes a file named like a claim whatever it holds",
		Edits: edit("(*Lock).sweepOne", "if !isDeadClaimContents(contents, name, l.sep, baseName(lockFile)) || l.lockHolds", "if l.lockHolds"),
	},
	{
		ID:    "sweep-spares-empty-claims",
		Desc:  "the sweep leaves the empty claim file of a claimant killed between creating and writing it, for ever",
		Edits: edit("isDeadClaimContents", `return contents == "" || isClaimFileOf`, `return contents != "" && isClaimFileOf`),
	},
	{
		ID:    "sweep-leftover-process-unchecked",
		Desc:  "the sweep removes what a live process of this host moved aside, in the middle of its break",
		Edits: edit("(*Lock).sweepLeftover", "if alive, err := pc.ProcessAlive(c.host, c.pid); err != nil || alive {", "if alive, err := pc.ProcessAlive(c.host, c.pid); false && (err != nil || alive) {"),
	},
	{
		ID:    "sweep-leftover-any-host",
		Desc:  "the sweep removes what a process of another host moved aside, which it cannot prove dead",
		Edits: edit("(*Lock).sweepLeftover", "if !ok || !l.mayBeThisHost(c.host) {", "if !ok {"),
	},
	{
		ID:    "sweep-aside-not-rejudged",
		Desc:  "the sweep removes what it moved aside without judging again that it is dead",
		Edits: edit("(*Lock).removeDeadClaim", "dead := serr == nil && l.looksDead(fi)", "dead := serr == nil"),
	},
	{
		ID:         "sweep-aside-lock-unchecked",
		Desc:       "the sweep removes what it moved aside without checking again that no lock holds it",
		Edits:      edit("(*Lock).removeDeadClaim", "dead = err == nil && string(data) == contents && !l.lockHolds(lockFile, contents)", "dead = err == nil && string(data) == contents"),
		Equivalent: "a claim file that became the lock's second link since the sweeper looked shows two links after the move, and its claimant re-dated it just before linking it (tendClaim), so looksDead, judged again after the move, already finds it alive",
	},
	{
		ID:    "sweep-aside-look-not-retried",
		Desc:  "a look at a claim file moved aside that fails for a moment (ESTALE) is not tried again: the dead claimant's file is put back",
		Edits: edit("(*Lock).removeDeadClaim", "fi, serr := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.aside) })", "fi, serr := l.fsys.Stat(l.aside)"),
	},
	{
		ID:    "sweep-putback-by-link",
		Desc:  "a claim file moved aside that has become a lock's second link is put back with link, not rename",
		Edits: edit("(*Lock).putBack", "if linked {", "if false {"),
	},
	{
		ID:    "sweep-outside-break-lock",
		Desc:  "the sweep does not take turns with breakers under the break lock",
		Edits: edit("(*Lock).sweepUnderBreakLock", "got, err := l.withBreakLock(func() (err error) {\nremoved, err = l.sweep(dr)\nreturn err\n})", "got, err := true, func() (err error) {\nremoved, err = l.sweep(dr)\nreturn err\n}()"),
	},

	// A waiter's claim.
	{
		ID:    "claim-write-transient-given-up",
		Desc:  "a claim file whose write fails for a moment (ESTALE) is not written afresh: the Lock fails",
		Edits: edit("(*Lock).writeFresh", "return !errors.Is(err, fs.ErrExist) && !l.retryable(err)", "return !errors.Is(err, fs.ErrExist)"),
	},
	{
		ID:    "waitclaim-not-redated",
		Desc:  "a waiting Lock does not re-date its claim file",
		Edits: edit("(*Lock).tendClaim", "switch err := l.touch(l.claim); {", "switch err := error(nil); {"),
	},
	{
		ID:    "waitclaim-not-rewritten",
		Desc:  "a waiting Lock whose claim file was swept never writes it again",
		Edits: edit("(*Lock).rewriteClaim", "err := l.writeFresh(l.claim, []byte(l.claim))", "err := error(nil)"),
	},
	{
		ID:    "waitclaim-rewritten-late",
		Desc:  "a waiting Lock whose link fails for want of its claim file writes it again only when it next re-dates it",
		Edits: edit("(*Lock).tendClaim", "if _, err := l.fsys.Stat(l.claim); isNotExist(err) {", "if _, err := l.fsys.Stat(l.claim); false && isNotExist(err) {"),
	},

	// Fencing tokens.
	{
		ID:    "fence-token-not-bumped",
		Desc:  "a fencing acquisition is given the last token again, not one more",
		Edits: edit("(*Lock).nextToken", "next := last + 1", "next := last"),
	},
	{
		ID:    "fence-commit-unchecked",
		Desc:  "the holder renames its token over the counter without checking that it still holds the lock",
		Edits: edit("(*Lock).nextToken", "if !l.owns(o) {\nreturn fmt.Errorf(\"%w before its token was written\", ErrLost)", "if _ = o; false {\nreturn fmt.Errorf(\"%w before its token was written\", ErrLost)"),
	},
	{
		ID:    "fence-commit-no-break-lock",
		Desc:  "a holder whose lock has expired commits its token without taking the break lock",
		Edits: edit("(*Lock).nextToken", "if l.mayBeBroken() {", "if false {"),
	},
	{
		ID:    "fence-temp-not-dropped",
		Desc:  "a breaker leaves the broken holder's temporary token file behind",
		Edits: edit("(*Lock).dropFenceTemp", "if err := l.removeIfExists(holderClaim + fenceTempSuffix); err != nil {", "if err := error(nil); err != nil {"),
	},
	{
		ID:    "fence-failure-keeps-lock",
		Desc:  "an acquisition whose token could not be written fails but keeps the lock",
		Edits: edit("(*Lock).fence", "if uerr := l.unlock(true); uerr != nil {", "if uerr := error(nil); uerr != nil {"),
	},

	// Confirming what an observation showed.
	{
		ID:    "attempt-lost-reply-unconfirmed",
		Desc:  "after a failed link, a lock file that shows our claim name and two links is taken for ours without a second look",
		Edits: edit("(*Lock).attempt", "if err == nil && l.owns(o) && l.stillOurs() {", "if err == nil && l.owns(o) {"),
	},
	{
		ID:    "islocked-unconfirmed",
		Desc:  "IsLocked trusts one look: the contents, then the attributes, which may be another lock's by then",
		Edits: edit("(*Lock).IsLocked", "return err == nil && l.owns(o) && l.stillOurs()", "return err == nil && l.owns(o)"),
	},
	{
		ID:    "confirm-no-second-read",
		Desc:  "confirming a lock ours does not read the lock file again",
		Edits: edit("(*Lock).confirmOurs", "data, err := l.readLockFile()", "data, err := []byte(l.claim), error(nil)"),
	},
	{
		ID:    "confirm-claim-links-unchecked",
		Desc:  "confirming a lock ours does not check that its second link is our claim file",
		Edits: edit("(*Lock).confirmOurs", "if !l.owns(observation{exists: true, contents: l.claim, info: fi}) {", "if fi.Links > 1<<62 {"),
	},
	{
		ID:    "look-mixed-kept",
		Desc:  "a look whose stat shows another size than the bytes read (another file, put in place between the read and the stat) is kept: a waiter's glances take the new file for the lock",
		Edits: edit("(*Lock).observe", "|| o.info.Size == int64(len(o.contents))", "|| true"),
	},
	{
		ID:    "state-not-steady",
		Desc:  "State trusts one look: the contents, then the attributes, which may be another lock's by then",
		Edits: edit("(*Lock).State", "o, err := l.observeSteady()", "o, err := l.observe()"),
	},
	{
		ID:    "state-expiry-flipped",
		Desc:  "State calls a lock expired before its time and unexpired after it",
		Edits: edit("(*Lock).State", "expired := o.info.ModTime.Before(l.serverNow())", "expired := l.serverNow().Before(o.info.ModTime)"),
	},
	{
		ID:    "checkheld-error-taken-for-lost",
		Desc:  "a holder that cannot read its lock takes it for lost and writes its claim afresh",
		Edits: edit("(*Lock).checkHeld", "case err != nil:", "case err != nil && false:"),
	},
	{
		ID:    "acquired-stale-judged-before-redating",
		Desc:  "whether a linked claim's date has passed by more than the slop is judged before it is dated again, not after, missing a pause between the link and the re-dating",
		Edits: edit("(*Lock).acquired", "_, err := retrying(l, func() (struct{}, error) { return struct{}{}, l.touch(l.claim) })\nmayBeBroken := l.expired(stale)", "mayBeBroken := l.expired(stale)\n_, err := retrying(l, func() (struct{}, error) { return struct{}{}, l.touch(l.claim) })"),
	},
	{
		ID:    "acquired-stale-link-unchecked",
		Desc:  "a Lock that linked a claim whose date had passed by more than the slop does not look again, after dating it, whether a breaker broke it meanwhile",
		Edits: edit("(*Lock).acquired", "if err == nil && mayBeBroken && !l.stillOurs() {", "if err == nil && mayBeBroken && false {"),
	},
	{
		ID:    "linkcounts-learnt-from-old-lock",
		Desc:  "a failed link that finds our claim name in a lock file of one link teaches that links are not counted, without a probe that it is our claim file's link",
		Edits: edit("(*Lock).attempt", "o.contents == l.claim && (o.info.Links >= 2 || l.probeOwnLink(o))", "o.contents == l.claim"),
	},
	{
		ID:         "linkcounts-transient-not-retried",
		Desc:       "learning whether the filesystem counts links gives up at a transient error",
		Edits:      edit("(*Lock).noteLinkCounts", "fi, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.claim) })", "fi, err := l.fsys.Stat(l.claim)"),
		Equivalent: "a Lock that, for want of the retry, learns the wrong lesson (no link counts) from its new claim file still refuses an old lock file of its own, by its date (confirm-no-links-date-unchecked), which is what LinkCountsLearntDespiteESTALE checks; the retry keeps the stronger rule of link counts",
	},

	// Faults: lost replies and failures of a moment.
	{
		ID:    "remove-transient-not-retried",
		Desc:  "a remove that fails with a transient error (ESTALE) is not retried",
		Edits: edit("(*Lock).removeIfExists", "return l.retryErr(func(int) error {", "return func(f func(int) error) error { return f(0) }(func(int) error {"),
	},
	{
		ID:    "own-remove-transient-not-retried",
		Desc:  "the removal of the lock file or the break lock by its holder gives up at a failure of a moment (ESTALE), leaving it for others to wait out",
		Edits: edit("(*Lock).removeOwn", "return err == nil || errors.Is(err, fs.ErrNotExist) || !l.retryable(err)", "return true"),
	},
	{
		ID:    "own-remove-retried-blind",
		Desc:  "a holder tries again a removal of its lock file (or break lock) answered ESTALE without looking that the file is still its own: the removal may have been done and the name taken since",
		Edits: edit("(*Lock).removeOwn", "if try > 0 {", "if try > 0 && false {"),
	},
	{
		ID:    "break-lock-release-retried-blind",
		Desc:  "the release of the break lock tries again a removal answered ESTALE without looking that the break lock is still its own",
		Edits: edit("(*Lock).releaseBreakLock", "l.removeOwn(l.breakPath, l.stillHoldsBreakLock)", "l.removeOwn(l.breakPath, func() (bool, error) { return true, nil })"),
	},
	{
		ID:    "lost-rename-reply",
		Desc:  "a rename aside (of an expired lock, or of a dead claimant's claim file) whose reply was lost is taken for one not done",
		Edits: edit("(*Lock).moveAside", "if err := l.fsys.Rename(name, l.aside); err != nil && !l.movedAside() {", "if err := l.fsys.Rename(name, l.aside); err != nil {"),
	},
	{
		ID:    "rename-aside-transient-not-retried",
		Desc:  "a rename aside (of an expired lock, or of a dead claimant's claim file) that fails for a moment (ESTALE) is not tried again",
		Edits: edit("(*Lock).moveAside", "return l.retryErr(func(int) error {", "return func(f func(int) error) error { return f(0) }(func(int) error {"),
	},

	{
		ID:    "put-back-transient-not-retried",
		Desc:  "putting back a file moved aside by mistake gives up at a failure of a moment (ESTALE), losing a live lock or claim file",
		Edits: edit("(*Lock).linkBack", "return l.retryErr(func(try int) error {", "return func(f func(int) error) error { return f(0) }(func(try int) error {"),
	},
	{
		ID:    "rename-back-lost-reply-misread",
		Desc:  "a put-back with rename that finds nothing aside, its own rename done and its reply lost, reports it failed",
		Edits: edit("(*Lock).renameBack", "if isNotExist(err) {", "if false {"),
	},
	{
		ID:    "put-back-lost-reply-misread",
		Desc:  "a put-back that finds the file there, put by itself or its own earlier try whose reply was lost, reports it lost",
		Edits: edit("(*Lock).linkBack", "if errors.Is(err, fs.ErrExist) && l.sameContents(name, l.aside) {", "if false {"),
	},
	{
		ID:         "aside-not-cleared",
		Desc:       "the aside name is not cleared before a move, so a rename whose reply was lost is not told from an old file left there",
		Edits:      edit("(*Lock).removeAsideRestoring", "if err := l.clearAside(); err != nil {", "if err := error(nil); err != nil {"),
		Equivalent: "a live Lock leaves nothing at its aside name (it removes what it moved, retrying ESTALE), so there is nothing to clear; the clearing guards against a removal that failed for good, after which a lost rename reply would be misread",
	},

	// Waiting and timing.
	{
		ID:    "break-lock-wait-gives-up-at-once",
		Desc:  "an expired holder's Refresh or Unlock gives up as soon as it finds the break lock busy",
		Edits: edit("(*Lock).underBreakLockKept", "if !l.clock.Now().Before(deadline) {", "if _ = deadline; true {"),
	},
	{
		ID:    "keepalive-too-slow",
		Desc:  "the keep-alive refreshes every two lifetimes instead of every third of one",
		Edits: edit("(*KeepAlive).run", "wait := l.Lifetime() / 3", "wait := l.Lifetime() * 2"),
	},
	{
		ID:    "waitclaim-redated-too-rarely",
		Desc:  "a waiting Lock re-dates its claim file every two lifetimes instead of every third of one",
		Edits: edit("(*Lock).redateEvery", "return l.Lifetime() / 3 }", "return l.Lifetime() * 2 }"),
	},

	// Judging a busy lock by a stat.
	{
		ID:    "glance-breaks-on-a-stat",
		Desc:  "a waiter that sees by a stat alone that the lock it saw before has expired breaks it without reading it again",
		Edits: edit("(*Lock).glance", "fi.Links != seen.info.Links, l.expired(fi.ModTime):", "fi.Links != seen.info.Links:"),
	},
	{
		ID:    "glance-ignores-links",
		Desc:  "a waiter judges the lock by a stat alone even though its link count changed since its last full look",
		Edits: edit("(*Lock).glance", "fi.Links != seen.info.Links, l.expired(fi.ModTime):", "l.expired(fi.ModTime):"),
	},
	{
		ID:    "confirm-no-links-date-unchecked",
		Desc:  "without link counts, confirming a lock ours does not check that the lock file has our claim file's date",
		Edits: edit("(*Lock).confirmOurs", "if !lfi.ModTime.Equal(fi.ModTime) {", "if lfi.ModTime.IsZero() && false {"),
	},
	{
		ID:         "glance-ignores-own-whole-second",
		Desc:       "a waiter whose failed link finds a lock file dated as its own claim in whole seconds judges it busy from a stat",
		Edits:      edit("(*Lock).glance", "(d < time.Microsecond || fi.ModTime.Equal(ours.Truncate(time.Second)))", "(d < time.Microsecond)"),
		Equivalent: "the suite's only whole-second filesystems (memfs like sshfs, sshfs) count no links, and there a waiter reads any lock file whose date changed since its last look (glance-no-links-ignores-change), its own lost reply included; the clause matters where whole seconds and link counts go together",
	},
	{
		ID:    "confirm-no-links-not-reread",
		Desc:  "without link counts, confirming a lock ours does not read the lock file again after its date",
		Edits: edit("(*Lock).confirmOurs", "return string(data) == l.claim, nil", "return data != nil || true, nil"),
	},
	{
		ID:         "acquired-claim-gone",
		Desc:       "a lock file holding our claim name is taken for ours even when re-dating finds our claim file gone",
		Edits:      edit("(*Lock).acquired", "if isNotExist(err) {", "if false {"),
		Equivalent: "the other guard of the race of confirm-no-links-not-reread, which catches it first",
	},
	{
		ID:         "acquired-undated-kept",
		Desc:       "a lock taken whose re-dating keeps failing is kept, expiring when the claim was dated",
		Equivalent: "the suite's faults strike a case at most twice and the re-dating is tried four times, so it never keeps failing there; the interleavings found the bug this guards against (an ESTALE on the one re-dating: a waiter's lock expiring when its claim was dated, long before) before the re-dating was retried",
		Edits:      edit("(*Lock).acquired", "if o, oerr := l.observe(); oerr == nil && l.owns(o) {", "l.setHeld(true)\nreturn true\nif o, oerr := l.observe(); oerr == nil && l.owns(o) {"),
	},
	{
		ID:    "break-lock-not-rechecked",
		Desc:  "a breaker moves a file aside without checking that the break lock is still its own",
		Edits: edit("(*Lock).removeAsideRestoring", "if l.inBreak.Load() && !l.holdsBreakLock() {", "if false {"),
	},
	{
		ID:    "refresh-under-lost-break-lock-trusted",
		Desc:  "an expired holder's Refresh (or fencing token) done under a break lock that was no longer its own when done is trusted, without a second look",
		Edits: edit("(*Lock).underBreakLockHolding", "if err != nil || kept {", "if _ = kept; true {"),
	},
	{
		ID:    "break-lock-unchecked-before-removal",
		Desc:  "a breaker removes what it moved aside without looking again that the break lock is still its own",
		Edits: edit("(*Lock).removeAsideRestoring", "if meant && l.inBreak.Load() && !l.holdsBreakLock() {", "if meant && false && l.inBreak.Load() && !l.holdsBreakLock() {"),
	},
	{
		ID:    "break-lock-put-back-with-link",
		Desc:  "a breaker of a stale break lock that moved another's fresh one aside by mistake puts it back with link, losing it if a third took the free name meanwhile",
		Edits: edit("(*Lock).breakStaleBreakLock", "data, func(fi FileInfo) bool { return l.expired(fi.ModTime) }, l.renameBack); err != nil {", "data, func(fi FileInfo) bool { return l.expired(fi.ModTime) }, l.linkBack); err != nil {"),
	},
	{
		ID:    "glance-no-links-ignores-change",
		Desc:  "without link counts, a waiter judges the lock busy from a stat even though its date or size changed",
		Edits: edit("(*Lock).glance", "if !links && changedHands(seen.info, fi) {", "if links && false && changedHands(seen.info, fi) {"),
	},
	{
		ID:    "glance-ignores-own-date",
		Desc:  "a waiter whose failed link finds a lock file dated as its own claim (its link made it, the reply lost) judges it busy from a stat",
		Edits: edit("(*Lock).glance", "if d := ours.Sub(fi.ModTime); d >= 0 && (d < time.Microsecond || fi.ModTime.Equal(ours.Truncate(time.Second))) {", "if d := ours.Sub(fi.ModTime); false && d >= 0 {"),
	},
	{
		ID:         "fresh-look-skipped",
		Desc:       "the breaker does not take a fresh look at the lock's expiry where link counts are missing",
		Edits:      edit("(*Lock).breakLock", "if !l.stillExpired(now) {", "if false {"),
		Equivalent: "on a filesystem that counts links (memfs) a lock file shows two links and stillExpired returns true at once: the fresh look is for filesystems without link counts, whose attribute caches can show an old expiry (the suite runs there on the sshfs rig)",
	},

	// Breaking on request.
	{
		ID:    "break-cmd-unexpired",
		Desc:  "Break does not judge the lock expired before trying to break it",
		Edits: edit("(*Lock).Break", "case !l.expired(o.info.ModTime):", "case false:"),
	},
	{
		ID:    "forcebreak-any-holder",
		Desc:  "ForceBreak breaks the lock whoever holds it now, not only the holder it was asked to break",
		Edits: edit("(*Lock).ForceBreak", "case o.claim.host != holder.Hostname || o.claim.pid != holder.PID || o.claim.lockFile != holder.LockFile:", "case false:"),
	},

	// Comparisons flipped, and what counts as a claim.
	{
		ID:         "unlock-expiry-comparison-flipped",
		Desc:       "Unlock removes its lock with a plain remove once it has expired, and under the break lock while it has not",
		Edits:      edit("(*Lock).removeLockFile", "if !l.mayBeBroken() && l.serverNow().Before(o.info.ModTime) {", "if !l.mayBeBroken() && l.serverNow().After(o.info.ModTime) {"),
		Equivalent: "an unexpired lock's time is after now, so the flipped condition never holds and Unlock always takes the break lock: slower, never wrong",
	},
	{
		ID:    "break-second-look-expiry-flipped",
		Desc:  "under the break lock, the breaker goes on only if the lock is no longer expired",
		Edits: edit("(*Lock).breakLock", "now.contents != o.contents || !l.expired(now.info.ModTime) {", "now.contents != o.contents || l.expired(now.info.ModTime) {"),
	},
	{
		ID:         "owns-two-or-more-links",
		Desc:       "ownership accepts a lock file with more than two links",
		Edits:      edit("(*Lock).owns", "if o.info.Links == 2 {", "if o.info.Links >= 2 {"),
		Equivalent: "in nfslock a lock file has a third link only for a moment, while a breaker puts our lock back or a sweeper our claim file (rename aside, link back, remove): the lock is then ours",
	},
	{
		ID:    "claim-of-any-lock-file",
		Desc:  "a claim name for another lock file counts as a claim of this one (and is broken when old)",
		Edits: edit("parseClaim", "if baseName(parts[0]) != base {", "if false {"),
	},
	{
		ID:    "claim-host-with-slash",
		Desc:  "a claim whose host holds a path separator counts as a claim (its claim file, which a breaker removes, would be elsewhere)",
		Edits: edit("parseClaim", "len(parts) != 4 || parts[1] == \"\" || strings.ContainsAny(parts[1], `/\\`) {", "len(parts) != 4 || parts[1] == \"\" {"),
	},
	{
		ID:    "foreign-object-not-recognised",
		Desc:  "a FIFO, directory, symbolic link or device at the lock path is not taken for a foreign file",
		Edits: edit("isForeignObject", "return errors.Is(err, ErrNotRegular) || errors.Is(err, ErrTooLong)", "return errors.Is(err, ErrTooLong)"),
	},

	// Reading the lock file.
	{
		ID:         "read-unbounded",
		Desc:       "the locker does not itself refuse a lock file longer than MaxClaimLen",
		Edits:      edit("(*Lock).readBounded", "if err == nil && len(data) > MaxClaimLen {", "if false {"),
		Equivalent: "every backend the suite runs (memfs included) stops reading at MaxClaimLen + 1 bytes and fails with ErrTooLong itself, as the FS contract asks; the locker's check guards against a backend that does not",
	},
	// Shared locks and semaphores (parts.go, rwlock.go, semaphore.go).
	{
		ID:    "rw-count-not-raised",
		Desc:  "a reader takes a slot at or above the count without raising the count, so a writer does not pass it",
		Edits: edit("(*RWLock).enter", "if k >= n {", "if k >= n && false {"),
	},
	{
		ID:    "rw-writer-passes-no-reader",
		Desc:  "a writer holding the gate does not wait for the readers inside to leave",
		Edits: edit("(*RWLock).passReaders", "if n == 0 {", "if true {"),
	},
	{
		ID:    "rw-reader-gate-unchecked",
		Desc:  "a reader does not check, once it has its slot, that the gate was still its own (a writer may have broken the gate and passed the slot before it took it)",
		Edits: edit("(*RWLock).enter", "if !gate.IsLocked() {", "if false {"),
	},
	{
		ID:    "rw-writer-gate-loss-unchecked",
		Desc:  "a writer does not check, once it has passed the readers, that the gate it kept alive meanwhile is still its own",
		Edits: edit("(*RWLock).passReaders", "if err := ka.Err(); err != nil {", "if err := error(nil); err != nil {"),
	},
	{
		ID:    "sem-busy-slot-taken",
		Desc:  "a semaphore's waiter takes a slot that another holds (TryLock's ErrBusy taken for success)",
		Edits: edit("(*Semaphore).takeFree", "case err == nil:", "case err == nil || errors.Is(err, ErrBusy):"),
	},
	{
		ID:    "sem-other-n-accepted",
		Desc:  "a semaphore asked for another number of slots than the recorded one goes on with its own",
		Edits: edit("(*Semaphore).checkN", "case recorded != s.n:", "case false:"),
	},
	{
		ID:    "sem-try-jumps-the-queue",
		Desc:  "TryAcquire takes a free slot without passing the gate, ahead of the waiters queued there",
		Edits: edit("(*Semaphore).acquire", "err = gate.tryGate()", "err = nil"),
	},
	{
		ID:         "count-rename-reply-lost",
		Desc:       "a count file's rename whose reply was lost (answered ENOENT, done) is not recognized as done",
		Edits:      edit("(*Lock).writeCount", "if isNotExist(err) {", "if false {"),
		Equivalent: "a rename answered ENOENT is taken for a temporary file that vanished, which is written again and renamed over the count file: the same count, so the check of the name only spares that write and rename (count-temp-vanished-fails keeps that retry honest)",
	},
	{
		ID:    "count-temp-vanished-fails",
		Desc:  "a count file's rename that finds its temporary file gone (removed by someone else at work in the directory) fails with ENOENT instead of writing it again",
		Edits: edit("(*Lock).writeCount", "return !isNotExist(err)", "return true"),
	},
	{
		ID:    "break-move-on-old-look",
		Desc:  "a breaker moves the lock file aside on the strength of its look under the break lock, without looking again after its last look at the break lock",
		Edits: edit("(*Lock).removeAsideRestoring", "if !l.stillHolds(name, contents, ok) {", "if false {"),
	},
	// Waiters served in order (fair.go).
	{
		ID:    "fair-queue-ignored",
		Desc:  "a Lock with WithFairness does not let a live waiter ahead of it try first (TryLock and Lock pass the queue)",
		Edits: edit("(*queue).ahead", "if live {", "if live && false {"),
	},
	{
		ID:    "fair-dead-ticket-kept",
		Desc:  "a dead waiter's ticket counts as live for ever, holding up the queue",
		Edits: edit("(*queue).liveOrRemove", "case !l.expired(fi.ModTime):", "case true:"),
	},
	{
		ID:    "fair-live-ticket-removed",
		Desc:  "a waiter's ticket is removed as dead before its date has passed by the slop",
		Edits: edit("(*queue).liveOrRemove", "case !l.expired(fi.ModTime):", "case false:"),
	},
	{
		ID:    "sweep-not-after-taking",
		Desc:  "a Lock that takes the lock does not sweep dead claimants' files (only waiters do)",
		Edits: edit("(*Lock).sweepAfterTaking", "if l.noSweep {", "if true {"),
	},
}
