package conformance

import (
	"testing"
	"time"
)

func TestOverlaps(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, int64(ms)*int64(time.Millisecond)) }
	h := func(pid string, a, r int) hold { return hold{pid: pid, acq: at(a), rel: at(r)} }
	tests := []struct {
		name  string
		holds []hold
		want  int
	}{
		{"one after another", []hold{h("1", 0, 10), h("2", 10, 20), h("1", 21, 30)}, 0},
		{"second starts inside the first", []hold{h("1", 0, 10), h("2", 5, 20)}, 1},
		{"two inside a long first", []hold{h("1", 0, 100), h("2", 90, 110), h("3", 50, 60)}, 2},
		{"one starts as the long first ends", []hold{h("1", 0, 100), h("2", 100, 110), h("3", 50, 60)}, 1},
		{"same process, back to back", []hold{h("1", 0, 10), h("1", 10, 20)}, 0},
	}
	for _, tc := range tests {
		holds := append([]hold(nil), tc.holds...)
		sortHolds(holds)
		if got := len(overlaps(holds)); got != tc.want {
			t.Errorf("%s: %d overlapping pairs, want %d", tc.name, got, tc.want)
		}
	}
}
