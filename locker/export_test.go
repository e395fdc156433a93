package locker

import "errors"

// SweepNow removes dead claimants' claim files at once, as a waiting Lock
// does at most once per lifetime (see sweep.go). It reports how many it
// removed and whether it got the break lock to do so.
func (l *Lock) SweepNow() (removed int, got bool, err error) {
	dr, ok := l.fsys.(DirReader)
	if !ok {
		return 0, false, errors.New("the backend is not a DirReader")
	}
	got, err = l.withBreakLock(func() (err error) {
		removed, err = l.sweep(dr)
		return err
	})
	return removed, got, err
}
