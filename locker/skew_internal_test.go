package locker

import (
	"testing"
	"time"
)

func TestSkewEstimateIsSmallestConsistentOffset(t *testing.T) {
	base := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return base.Add(d) }
	tests := []struct {
		name   string
		stamp  time.Time
		gran   time.Duration
		t0, t1 time.Time
		want   time.Duration
	}{
		{"fine times, in step", at(5 * time.Millisecond), 0, at(4 * time.Millisecond), at(6 * time.Millisecond), 0},
		{"fine times, server ahead", at(time.Minute), 0, at(0), at(2 * time.Millisecond), time.Minute - 2*time.Millisecond},
		{"fine times, server behind", at(-time.Minute), 0, at(0), at(2 * time.Millisecond), -time.Minute},
		// Whole seconds: written at .7 of our second 0, stored as second 0.
		// Any offset in [-0.7s, +0.3s] explains it: none is measured.
		{"whole seconds, in step", at(0), time.Second, at(700 * time.Millisecond), at(701 * time.Millisecond), 0},
		{"whole seconds, server ahead", at(time.Minute), time.Second, at(700 * time.Millisecond), at(701 * time.Millisecond), time.Minute - 701*time.Millisecond},
		{"whole seconds, server behind", at(-time.Minute), time.Second, at(700 * time.Millisecond), at(701 * time.Millisecond), -time.Minute + 300*time.Millisecond},
	}
	for _, tc := range tests {
		if got := skewEstimate(tc.stamp, tc.gran, tc.t0, tc.t1); got != tc.want {
			t.Errorf("%s: skewEstimate = %v, want %v", tc.name, got, tc.want)
		}
	}
}
