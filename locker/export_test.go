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

// StopIdleWatchNow stops l's directory watch if no call uses it, as l does
// by itself once it has been idle for a second.
func StopIdleWatchNow(l *Lock) {
	l.mu.Lock()
	w := l.watch
	l.mu.Unlock()
	if w != nil {
		l.stopIdleWatch(w)
	}
}

// TurnStreak is how many times in a row a Lock takes the lock at once
// before it leaves a turn to others.
const TurnStreak = turnStreak
