package locker

import (
	"testing"
	"time"
)

func TestBackoffGrowsCappedAndJittered(t *testing.T) {
	b := backoff{min: time.Millisecond, max: 100 * time.Millisecond}
	want := time.Millisecond
	for i := 0; i < 20; i++ {
		d := b.next()
		if d < want/2 || d > want {
			t.Fatalf("wait %d = %v, want within [%v, %v]", i, d, want/2, want)
		}
		want = min(2*want, 100*time.Millisecond)
	}
	seen := map[time.Duration]bool{}
	for i := 0; i < 50; i++ {
		seen[b.next()] = true
	}
	if len(seen) < 10 {
		t.Errorf("50 capped waits took only %d distinct values: not jittered", len(seen))
	}
}
