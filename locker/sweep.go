package locker

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
)

// Sweeping the claim files of dead claimants: a Lock that finds the lock
// busy removes, at most once per lifetime and under the break lock, the
// claim files of claimants that are provably dead (sweepOne says which),
// moving each aside first and putting it back if it came back to life. The
// rules and limits are written in full in docs/algorithm.md, "Sweeping
// dead claimants' files".

// sweepMaxRemovals bounds the files one sweep removes, so that a directory
// full of litter is cleared over several sweeps rather than in one long one
// that holds the break lock.
const sweepMaxRemovals = 64

// sweepMaxClaimSize is the largest claim file a sweep reads: a path, a host
// name and two numbers. A larger file is not a claim file.
const sweepMaxClaimSize = 16 << 10

// maybeSweep is called by a waiting Lock each time it finds the lock busy.
// At most once per lifetime it removes, under the break lock, the claim
// files of dead claimants. It reports nothing to the caller: sweeping is
// housekeeping, and its failures are logged.
func (l *Lock) maybeSweep() {
	if l.noSweep {
		return
	}
	dr, ok := l.fsys.(DirReader)
	if !ok {
		return
	}
	if l.sweepDue() {
		l.sweepUnderBreakLock(dr)
	}
}

// sweepAfterTaking is called by a Lock that has just taken the lock: at
// most once per lifetime, it lists the directory, and if it finds claim
// files other than its own (or their leftovers), sweeps as a waiter does, so that dead
// claimants' files go even where no one ever waits for long. A listing
// that shows none costs no more.
func (l *Lock) sweepAfterTaking() {
	if l.noSweep {
		return
	}
	dr, ok := l.fsys.(DirReader)
	if !ok || !l.sweepDue() {
		return
	}
	names, err := dr.ReadDirNames(l.dir)
	if err != nil {
		l.log.Debug("listing the directory for dead claimants' files", "err", err)
		return
	}
	if slices.ContainsFunc(names, func(n string) bool {
		_, _, claim := l.sweepTarget(n)
		_, leftover := l.leftoverOf(n)
		return claim || leftover
	}) {
		l.sweepUnderBreakLock(dr)
	}
}

// sweepDue reports whether a lifetime has passed since this Lock last
// swept, and if so counts the sweep about to be made as the last.
func (l *Lock) sweepDue() bool {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	due := l.lastSweep.IsZero() || now.Sub(l.lastSweep) >= l.lifetime
	if due {
		l.lastSweep = now
	}
	return due
}

// sweepUnderBreakLock sweeps under the break lock, if it gets it, and
// logs what came of it.
func (l *Lock) sweepUnderBreakLock(dr DirReader) {
	removed := 0
	got, err := l.withBreakLock(func() (err error) {
		removed, err = l.sweep(dr)
		return err
	})
	switch {
	case err != nil:
		l.log.Warn("removing dead claimants' claim files", "removed", removed, "err", err)
	case !got:
		l.log.Debug("break lock busy: not looking for dead claimants' files this time")
	case removed > 0:
		l.log.Info("removed dead claimants' claim files", "removed", removed)
	}
}

// sweep removes the claim files of dead claimants of the lock and of its
// break lock, and returns how many it removed. The caller holds the break
// lock.
func (l *Lock) sweep(dr DirReader) (int, error) {
	names, err := dr.ReadDirNames(l.dir)
	if err != nil {
		return 0, fmt.Errorf("listing %s: %w", l.dir, err)
	}
	start := l.clock.Now()
	budget := l.breakLifetime() / 4 // well within the break lock's lifetime
	removed := 0
	var errs error
	for _, name := range names {
		if removed >= sweepMaxRemovals || l.clock.Now().Sub(start) > budget {
			break
		}
		lockFile, c, ok := l.sweepTarget(name)
		if !ok {
			gone, err := l.sweepLeftover(name)
			if gone {
				removed++
				l.log.Debug("removed a file a dead process of this host left mid-operation", "name", name)
			}
			errs = appendErr(errs, err)
			continue
		}
		gone, err := l.sweepOne(filepath.Join(l.dir, name), name, lockFile, c)
		if gone {
			removed++
			l.log.Debug("removed a dead claimant's claim file", "name", name, "host", c.host, "pid", c.pid)
			// A waiter killed while it took a ticket (queue.join) left
			// the ticket's temporary file, named after its claim file.
			if tmp := name + ticketTempSuffix; slices.Contains(names, tmp) {
				if rerr := l.removeIfExists(filepath.Join(l.dir, tmp)); rerr != nil {
					err = appendErr(err, fmt.Errorf("removing a dead waiter's temporary ticket file: %w", rerr))
				}
			}
		}
		if err != nil {
			errs = appendErr(errs, err)
		}
	}
	return removed, errs
}

// leftoverSuffixes are those of the files a Lock names after its claim
// and removes before its operation ends: what it moved aside, the link of
// its fresh look, the temporary files of a fencing token, of a count file
// and of a ticket.
var leftoverSuffixes = [...]string{".moved", ".moved.look", fenceTempSuffix, countTempSuffix, ticketTempSuffix}

// sweepLeftover removes the file called name if it is one a Lock names
// after its claim (leftoverSuffixes), that claim is of this lock file or
// its break lock and names a process of this host that is not running, and
// the file is a small regular file whose time has passed by more than the
// slop. Its owner, killed between two file operations, can no longer put
// back or remove it, and no one else acts on it. A process of another host
// cannot be proved dead, and its leftovers stay. The date is asked too,
// lest a process that this host's check cannot see (one of another pid
// namespace that writes the same host name) lose a file in use: what a
// Lock moves aside is an expired lock or a dead claim, and its temporary
// files are dated when written. It reports whether it removed the file.
func (l *Lock) sweepLeftover(name string) (bool, error) {
	pc, ok := l.fsys.(ProcessChecker)
	if !ok {
		return false, nil
	}
	c, ok := l.leftoverOf(name)
	if !ok || !l.mayBeThisHost(c.host) {
		return false, nil
	}
	if alive, err := pc.ProcessAlive(c.host, c.pid); err != nil || alive {
		return false, nil
	}
	full := filepath.Join(l.dir, name)
	fi, err := l.fsys.Stat(full)
	if err != nil || fi.IsDir || fi.Size > sweepMaxClaimSize || !l.expired(fi.ModTime) {
		return false, nil
	}
	if _, err := l.fsys.ReadFile(full); err != nil { // a FIFO, a symbolic link: not the Lock's
		return false, nil
	}
	if err := l.removeIfExists(full); err != nil {
		return false, fmt.Errorf("removing %s, left by a dead process of this host: %w", full, err)
	}
	return true, nil
}

// leftoverOf reports whether name is that of a file a Lock names after its
// claim (leftoverSuffixes) and that claim is another's of this lock file or
// its break lock, and returns the claim.
func (l *Lock) leftoverOf(name string) (claim, bool) {
	for _, suffix := range leftoverSuffixes {
		if claimName, ok := strings.CutSuffix(name, suffix); ok {
			if _, c, ok := l.sweepTarget(claimName); ok {
				return c, true
			}
		}
	}
	return claim{}, false
}

// sweepTarget reports whether the directory entry name is a claim name of
// the lock file or of the break lock, other than this Lock's own, and
// returns that lock file's path and the parsed claim.
func (l *Lock) sweepTarget(name string) (lockFile string, c claim, ok bool) {
	if full := filepath.Join(l.dir, name); full == l.claim || full == l.breakClaim {
		return "", claim{}, false
	}
	for _, lf := range [...]struct{ base, path string }{{l.base, l.path}, {l.breakBase, l.breakPath}} {
		if c, ok := parseClaim(name, l.sep, lf.base); ok && c.name == name {
			return lf.path, c, true
		}
	}
	return "", claim{}, false
}

// sweepOne removes the file full, named name, if it is a dead claimant's
// claim file for lockFile (see the rules above). It reports whether it
// removed it.
func (l *Lock) sweepOne(full, name, lockFile string, c claim) (bool, error) {
	fi, err := l.fsys.Stat(full)
	if err != nil {
		if isNotExist(err) {
			return false, nil
		}
		return false, fmt.Errorf("stat %s: %w", full, err)
	}
	if !l.looksDead(fi) {
		return false, nil
	}
	if l.mayBeThisHost(c.host) {
		if pc, ok := l.fsys.(ProcessChecker); ok {
			if alive, err := pc.ProcessAlive(c.host, c.pid); err != nil || alive {
				return false, nil
			}
		}
	}
	data, err := l.fsys.ReadFile(full)
	if err != nil {
		if isNotExist(err) || errors.Is(err, ErrNotRegular) { // a FIFO, a device: no claim file
			return false, nil
		}
		return false, fmt.Errorf("reading %s: %w", full, err)
	}
	contents := string(data)
	if !isDeadClaimContents(contents, name, l.sep, baseName(lockFile)) || l.lockHolds(lockFile, contents) {
		return false, nil
	}
	return l.removeDeadClaim(full, contents, lockFile)
}

// isDeadClaimContents reports whether contents, read from the file called
// name that looks dead, are a claim file's: a claim name for the lock file
// with base name base (isClaimFileOf), or nothing at all. A claimant killed
// between creating its claim file and writing it leaves it empty, and no
// one else makes an empty regular file under a claim name; left alone, it
// would stay for ever.
func isDeadClaimContents(contents, name, sep, base string) bool {
	return contents == "" || isClaimFileOf(contents, name, sep, base)
}

// mayBeThisHost reports whether a claim naming host may be a process's of
// this host: it names this Lock's host, or a loopback name (localhost and
// the like), which flufl.lock processes of a host whose getfqdn is one
// write, though this Lock writes the kernel's host name (see hostNames).
// The sweep then spares such a claim while a process of this host has its
// pid, as it spares a claim of its own host.
func (l *Lock) mayBeThisHost(host string) bool {
	return host == l.hostname || host == l.loopbackFQDN || isLoopbackName(host)
}

// looksDead reports whether fi could be a dead claimant's claim file: a
// small file (perhaps empty: see isDeadClaimContents) with fewer than two
// links (no lock file's second name) whose time has passed by more than
// the clock slop.
func (l *Lock) looksDead(fi FileInfo) bool {
	return !fi.IsDir && fi.Size <= sweepMaxClaimSize && fi.Links < 2 && l.expired(fi.ModTime)
}

// isClaimFileOf reports whether contents are those of the claim file called
// name for the lock file with base name base: a claim name for that lock
// file, exactly, whose last element is name.
func isClaimFileOf(contents, name, sep, base string) bool {
	c, ok := parseClaim(contents, sep, base)
	return ok && c.name == contents && baseName(contents) == name
}

// lockHolds reports whether the lock file lockFile holds the claim name
// contents, that is whether the claim file is that lock's. If it cannot
// tell (after trying again what fails for a moment), it says yes.
func (l *Lock) lockHolds(lockFile, contents string) bool {
	if lockFile == l.path {
		o, err := retrying(l, l.observe)
		return err != nil || o.exists && o.contents == contents
	}
	data, err := l.readRetrying(lockFile)
	if isNotExist(err) {
		return false
	}
	return err != nil || string(data) == contents
}

// removeDeadClaim removes the claim file full, which held contents and
// looked dead: it moves it aside, looks again at what it moved, and removes
// that only if it is still dead and still no lock's; otherwise it puts it
// back. It reports whether it removed the file.
func (l *Lock) removeDeadClaim(full, contents, lockFile string) (bool, error) {
	if err := l.clearAside(); err != nil {
		return false, err
	}
	if l.inBreak.Load() && !l.holdsBreakLock() {
		return false, nil // see removeAside
	}
	if err := l.moveAside(full); err != nil {
		if isNotExist(err) {
			return false, nil
		}
		return false, fmt.Errorf("moving %s aside: %w", full, err)
	}
	// A look that fails for a moment (ESTALE) is tried again, lest a dead
	// claimant's file be put back, and stay, for want of a look.
	fi, serr := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.aside) })
	dead := serr == nil && l.looksDead(fi)
	if dead {
		data, err := l.readRetrying(l.aside)
		dead = err == nil && string(data) == contents && !l.lockHolds(lockFile, contents)
	}
	if dead {
		if err := l.removeIfExists(l.aside); err != nil {
			return false, fmt.Errorf("removing %s, moved aside from %s: %w", l.aside, full, err)
		}
		return true, nil
	}
	// Its claimant came back to life between our looks: it re-dated the
	// file, or linked it to the lock file.
	return false, l.putBack(full, serr == nil && fi.Links >= 2)
}

// putBack returns the claim file moved aside to its name. A file that has
// become a lock file's second link goes back with rename, so that its
// holder never sees a third link (flufl.lock's ownership rule wants exactly
// two); its claimant holds the lock through it and has no reason to write
// its claim file again. Any other goes back with link, which fails if its
// claimant has meanwhile written its claim file again (it found the name
// missing): that file replaces ours.
func (l *Lock) putBack(name string, linked bool) error {
	if linked {
		if err := l.renameBack(name); err != nil {
			l.log.Error("could not put back a claim file moved aside", "name", name, "err", err)
			return fmt.Errorf("putting back %s: %w", name, err)
		}
		return nil
	}
	var errs error
	if err := l.linkBack(name); err != nil && !errors.Is(err, fs.ErrExist) {
		// Its claimant writes it again when it next tries to link it.
		l.log.Warn("could not put back a claim file moved aside", "name", name, "err", err)
		errs = appendErr(errs, fmt.Errorf("putting back %s: %w", name, err))
	}
	if err := l.removeIfExists(l.aside); err != nil {
		errs = appendErr(errs, fmt.Errorf("removing %s: %w", l.aside, err))
	}
	return errs
}
