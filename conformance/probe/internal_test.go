package probe

import (
	"testing"
	"time"
)

func TestGranularityOf(t *testing.T) {
	want := time.Unix(1_800_000_001, 987654321)
	for _, tc := range []struct {
		got  time.Time
		gran time.Duration
	}{
		{want, time.Nanosecond},
		{time.Unix(1_800_000_001, 987654300), 100 * time.Nanosecond}, // NTFS
		{time.Unix(1_800_000_001, 987654000), time.Microsecond},      // NFS-Ganesha
		{time.Unix(1_800_000_001, 987000000), time.Millisecond},      // truncated
		{time.Unix(1_800_000_001, 988000000), time.Millisecond},      // rounded
		{time.Unix(1_800_000_001, 0), time.Second},                   // sshfs
		{time.Unix(1_800_000_000, 0), 2 * time.Second},               // FAT
		{time.Unix(1_800_000_005, 0), -1},
	} {
		if g := granularityOf(tc.got, want); g != tc.gran {
			t.Errorf("granularityOf(%v, %v) = %v; want %v", tc.got, want, g, tc.gran)
		}
	}
}

func TestStampGranularity(t *testing.T) {
	for _, tc := range []struct {
		ns   int64
		gran time.Duration
	}{
		{123456789, time.Nanosecond},
		{123456780, 10 * time.Nanosecond},
		{123456000, time.Microsecond},
		{100000000, 100 * time.Millisecond},
		{0, time.Second},
	} {
		if g := stampGranularity(time.Unix(1_800_000_000, tc.ns)); g != tc.gran {
			t.Errorf("stampGranularity of a time with %09d ns = %v; want %v", tc.ns, g, tc.gran)
		}
	}
}

func TestTiming(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		samples []time.Duration
		want    Timing
	}{
		{nil, Timing{}},
		{[]time.Duration{3 * ms}, Timing{3 * ms, 3 * ms, 1}},
		{[]time.Duration{5 * ms, 1 * ms, 40 * ms, 2 * ms, 3 * ms}, Timing{3 * ms, 40 * ms, 5}},
	} {
		if got := timing(tc.samples); got != tc.want {
			t.Errorf("timing(%v) = %+v; want %+v", tc.samples, got, tc.want)
		}
	}
}

func TestRound(t *testing.T) {
	for _, tc := range []struct{ d, want time.Duration }{
		{0, 0},
		{1300, 1300},
		{705_749, 706 * time.Microsecond},
		{2_094_000, 2_090 * time.Microsecond},
		{-134_990_000, -135 * time.Millisecond},
		{12_345_678_901, 12_300 * time.Millisecond},
	} {
		if got := round(tc.d); got != tc.want {
			t.Errorf("round(%v) = %v; want %v", tc.d, got, tc.want)
		}
	}
}
