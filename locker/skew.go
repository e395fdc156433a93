package locker

import (
	"fmt"
	"time"
)

// Times in the file server's frame.
//
// A lock's expiry is written by the holder and judged by would-be breakers,
// each with its own clock. flufl.lock uses each host's local clock, so a
// host whose clock runs fast breaks live locks early, and one whose clock
// runs slow waits too long (or writes expiries that others judge expired).
// The file server has one clock for everyone, and it shows in the mtime of
// a file just written. A Lock estimates the offset between its clock and
// the server's from its own claim file (its mtime, as stamped by the server
// when it was written, against the local time just before and after), and
// writes and judges every lock time in the server's frame.
//
// The same mtime shows the filesystem's timestamp granularity: whole
// seconds on some network filesystems, on which a lifetime of a second or
// two is meaningless.

// skewInterval is how often a Lock re-estimates the offset.
const skewInterval = time.Minute

// An estimate is taken only from a write and stat that took less than
// maxSkewSpan, and offsets smaller than minSkew are taken as zero: they are
// measurement noise, far below any sensible clock slop.
const (
	maxSkewSpan = time.Second
	minSkew     = 100 * time.Millisecond
)

// serverNow is the current time in the file server's frame.
func (l *Lock) serverNow() time.Time {
	l.mu.Lock()
	off := l.offset
	l.mu.Unlock()
	return l.clock.Now().Add(off)
}

// writeClaimAndMeasure writes the claim file and, now and then, learns from
// its mtime the server clock's offset and the timestamp granularity.
func (l *Lock) writeClaimAndMeasure() error {
	t0 := l.clock.Now()
	l.mu.Lock()
	due := l.serverTime && (l.measuredAt.IsZero() || t0.Sub(l.measuredAt) >= skewInterval)
	l.mu.Unlock()
	if err := l.writeFresh(l.claim, []byte(l.claim)); err != nil {
		return err
	}
	if !due {
		return nil
	}
	t1 := l.clock.Now()
	fi, err := retrying(l, func() (FileInfo, error) { return l.fsys.Stat(l.claim) })
	if err != nil {
		return err
	}
	if t1.Sub(t0) > maxSkewSpan {
		return nil // too slow to tell anything; try again next time
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.measuredAt = t1
	var gran time.Duration
	if fi.ModTime.Nanosecond() == 0 && t0.Nanosecond() != 0 && t1.Nanosecond() != 0 {
		// A fresh mtime of whole seconds, stamped while our clock showed
		// a fraction: the filesystem keeps no more than seconds (a
		// nanosecond clock reads exactly .000000000 once in 10^9).
		gran = time.Second
	}
	l.gran = gran
	l.offset = skewEstimate(fi.ModTime, gran, t0, t1)
	if l.offset > -minSkew && l.offset < minSkew {
		l.offset = 0
	}
	if gran > 0 {
		switch {
		case l.lifetime <= 2*gran:
			return fmt.Errorf("%w: lifetime %v is too short for this filesystem, which keeps file times in whole seconds", ErrInvalid, l.lifetime)
		case l.lifetime < 10*gran && !l.warnedGran:
			l.warnedGran = true
			l.log.Warn("the filesystem keeps file times in whole seconds; a lifetime of many seconds is safer", "lifetime", l.lifetime)
		}
	}
	if l.offset > time.Second || l.offset < -time.Second {
		l.log.Debug("this host's clock differs from the file server's", "server_minus_local", l.offset)
	}
	return nil
}

// skewEstimate returns the server clock's offset from ours that is smallest
// in magnitude and consistent with one observation: the server stamped a
// file with a time, stored as stamp truncated to gran, while our clock went
// from t0 to t1. The offset then lies in [stamp-t1, stamp+gran-t0]. Taking
// the bound nearest zero (zero itself when the interval holds it) keeps the
// measurement's own uncertainty, up to a whole second where file times are
// whole seconds, from passing for a clock difference.
func skewEstimate(stamp time.Time, gran time.Duration, t0, t1 time.Time) time.Duration {
	lo, hi := stamp.Sub(t1), stamp.Add(gran).Sub(t0)
	switch {
	case lo > 0:
		return lo
	case hi < 0:
		return hi
	}
	return 0
}

// ClockOffset returns the last estimate of the file server's clock minus this
// host's, learned from the mtimes of the claim files this Lock wrote (zero
// before the first attempt to lock, or with WithServerTime(false)).
func (l *Lock) ClockOffset() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.offset
}
