package locker

import (
	"fmt"
	"path/filepath"

	"github.com/hashicorp/go-multierror"
)

// breakLock removes the expired lock described by o, and its holder's claim
// file. It reports whether it removed the lock.
//
// flufl.lock breaks a lock by unlinking the lock file on the strength of an
// earlier look at it; if the lock was released and taken again in between,
// it deletes the new holder's lock. Instead, breakLock first moves the lock
// file aside with rename (atomic: from then on no one else can remove it),
// then checks that what it moved is the expired lock it judged, and puts it
// back if not.
func (l *Lock) breakLock(o observation) (bool, error) {
	if err := l.fsys.Rename(l.path, l.aside); err != nil {
		if isNotExist(err) {
			return false, nil // released or broken by someone else meanwhile
		}
		return false, fmt.Errorf("moving the lock file aside: %w", err)
	}
	data, rerr := l.fsys.ReadFile(l.aside)
	fi, serr := l.fsys.Stat(l.aside)
	if rerr == nil && serr == nil && string(data) == o.contents && l.expired(fi.ModTime) {
		var errs error
		if err := l.removeIfExists(l.aside); err != nil {
			errs = multierror.Append(errs, fmt.Errorf("removing the moved lock file: %w", err))
		}
		if holder := filepath.Join(l.dir, baseName(o.claim.name)); holder != l.claim {
			if err := l.removeIfExists(holder); err != nil {
				errs = multierror.Append(errs, fmt.Errorf("removing the holder's claim file: %w", err))
			}
		}
		l.log.Info("broke expired lock", "holder_host", o.claim.host, "holder_pid", o.claim.pid, "expired", fi.ModTime)
		return true, errs
	}
	// What we moved is not the lock we judged expired (it was released and
	// taken again, or refreshed): put it back.
	if err := l.fsys.Link(l.aside, l.path); err != nil {
		// Someone took the lock while the name was free. The holder whose
		// lock we moved has lost it, and finds out from IsLocked, Refresh
		// or Unlock.
		l.log.Error("could not restore a lock file moved aside while breaking", "err", err)
		errs := multierror.Append(nil, fmt.Errorf("restoring the lock file: %w", err))
		if err := l.removeIfExists(l.aside); err != nil {
			errs = multierror.Append(errs, err)
		}
		return false, errs
	}
	return false, l.removeIfExists(l.aside)
}
