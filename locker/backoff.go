package locker

import (
	"math/rand/v2"
	"time"
)

// backoff yields the waits between attempts to take a busy lock: starting at
// min, doubling up to max, each drawn uniformly from [d/2, d] so that waiters
// that started together drift apart.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur < b.min {
		b.cur = b.min
	}
	d := b.cur
	b.cur = min(2*b.cur, b.max)
	half := d / 2
	return half + rand.N(d-half+1)
}

// limit makes the next wait at most d (before jitter), and the waits after
// it grow from there.
func (b *backoff) limit(d time.Duration) {
	if b.cur > d {
		b.cur = max(d, b.min)
	}
}
