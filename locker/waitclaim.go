package locker

import "time"

// A waiting claim shows that its claimant is alive: a waiting Lock re-dates
// its claim file to now plus the lifetime every third of the lifetime, as a
// holder's KeepAlive refreshes its lock, so that only a dead (or long
// paused) claimant's claim file looks expired to a sweep (see sweep.go). A
// waiter whose claim file was swept writes it again before it next tries to
// link it. A fresh date also means that a Lock that waited for longer than the
// lifetime does not take the lock with a claim dated in the past, which
// would be an expired lock from the moment of the link until acquired
// re-dates it.

// redateEvery is how often a waiting Lock re-dates its claim file. A third
// of the lifetime, like KeepAlive: one file operation per few seconds with
// the default lifetime, against one per poll for the link.
func (l *Lock) redateEvery() time.Duration { return l.Lifetime() / 3 }

// tendClaim keeps the claim file of a waiting Lock alive. It is called
// before each attempt to link: it re-dates the claim file if due is past,
// and writes it again if it has been removed. gone says that the last link
// failed because the claim file did not exist. It returns when the claim
// file is next due.
func (l *Lock) tendClaim(due time.Time, gone bool) time.Time {
	now := l.clock.Now()
	if gone {
		// The link's ENOENT may be an NFS client's stale cache; write the
		// claim again only if it is really missing, so as never to truncate
		// a claim file that is linked to the lock file.
		if _, err := l.fsys.Stat(l.claim); isNotExist(err) {
			return l.rewriteClaim(now)
		}
	}
	if now.Before(due) {
		return due
	}
	switch err := l.touch(l.claim); {
	case err == nil:
	case isNotExist(err):
		return l.rewriteClaim(now)
	default:
		l.log.Debug("could not re-date the claim file while waiting", "err", err)
	}
	return now.Add(l.redateEvery())
}

// rewriteClaim writes the claim file of a waiting Lock again, dated now plus
// the lifetime, after someone removed it as a dead claimant's.
func (l *Lock) rewriteClaim(now time.Time) time.Time {
	l.log.Info("claim file removed while waiting (paused for longer than lifetime + slop?): writing it again")
	err := l.writeFresh(l.claim, []byte(l.claim))
	if err == nil {
		err = l.touch(l.claim)
	}
	if err != nil {
		// The next failed link says so again, and we try again.
		l.log.Warn("could not write the claim file again", "err", err)
	}
	return now.Add(l.redateEvery())
}
