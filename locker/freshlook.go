package locker

// A fresh look at an expired lock, past the client's attribute cache.
//
// A network filesystem's client may show a file's attributes as they were
// some time ago (sshfs with default options shows another client's change of
// a modification time up to 20 s late), so a breaker could take a lock its
// holder keeps refreshing for an expired one. Opening the file before the
// stat, as observe does, revalidates NFS's cache (close-to-open consistency)
// and sshfs's own, but not always the kernel's.
//
// A name the client has never seen has no cached attributes, and a link
// reply carries the file's current attributes (NFS updates its cache from
// it). So before it breaks a lock, a breaker links the lock file to a name
// of its own, looks at the expiry there, and removes that name again. The
// extra link would make a lock file show three links for a moment, which
// the ownership rule (exactly two) would take for a lost lock; so the look
// is made only where the lock file shows fewer than two links: on
// filesystems that do not report link counts, such as sshfs, or when the
// holder's claim file is gone, in which case its holder has lost the lock by
// that rule already. Elsewhere the rule for caching clients stands: the
// clock slop must be longer than the attribute cache time.

// stillExpired reports whether the lock file that o describes, judged
// expired by this Lock, is still expired when looked at through a fresh
// name. It is called under the break lock. Where no fresh look can be taken
// it keeps the judgement o gives.
func (l *Lock) stillExpired(o observation) bool {
	if o.info.Links >= 2 {
		return true
	}
	look := l.aside + ".look"
	if err := l.fsys.Link(l.path, look); err != nil {
		if isNotExist(err) {
			return false // released or broken since: nothing to break
		}
		// A link whose reply was lost (EEXIST) was made all the same: the
		// name is this Lock's alone, so remove whatever is there.
		if rerr := l.removeIfExists(look); rerr != nil {
			l.log.Warn("removing the name of a fresh look at the lock file", "name", look, "err", rerr)
		}
		l.log.Debug("no fresh look at the lock file's expiry", "err", err)
		return true
	}
	fi, err := l.fsys.Stat(look)
	if rerr := l.removeIfExists(look); rerr != nil {
		l.log.Warn("removing the name of a fresh look at the lock file", "name", look, "err", rerr)
	}
	if err != nil {
		return true
	}
	if !l.expired(fi.ModTime) {
		l.log.Warn("the lock looked expired but is not: this client shows file times late (attribute cache)",
			"seen", o.info.ModTime, "fresh", fi.ModTime)
		return false
	}
	return true
}
