package conformance

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Hold intervals: a check of mutual exclusion that does not depend on the
// shared counter file.
//
// The counter shows a lost update when two workers held the lock at once,
// but also when a worker read the counter file through a client that shows
// it as it was (an attribute cache that still has the old size, a page
// cache): a lock cannot make such a client's reads of other files coherent.
// So each worker also writes down when it held the lock, by this machine's
// one clock, from the return of Lock to the call of Unlock, and the parent
// checks that no two of these intervals overlap. Every worker runs on this
// machine, whatever client and host name it plays, so their clocks agree.

// jobHoldsEnv names the directory (outside the lock's) where a worker writes
// its hold intervals, one file per process.
const jobHoldsEnv = "NFSLOCK_CONFORMANCE_HOLDS"

// holdLog records a worker's hold intervals.
type holdLog struct {
	mu    sync.Mutex
	holds [][2]int64 // UnixNano of acquisition and release
}

func (h *holdLog) acquired() {
	h.mu.Lock()
	h.holds = append(h.holds, [2]int64{time.Now().UnixNano(), 0})
	h.mu.Unlock()
}

func (h *holdLog) releasing() {
	h.mu.Lock()
	if n := len(h.holds); n > 0 && h.holds[n-1][1] == 0 {
		h.holds[n-1][1] = time.Now().UnixNano()
	}
	h.mu.Unlock()
}

// write saves the intervals in dir, if dir is not empty, as pid.holds.
func (h *holdLog) write(dir string, pid int) error {
	if dir == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, iv := range h.holds {
		fmt.Fprintf(&b, "%d %d\n", iv[0], iv[1])
	}
	return os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)+".holds"), []byte(b.String()), 0o644)
}

// A hold is one worker's interval under the lock.
type hold struct {
	pid      string
	acq, rel time.Time
}

// readHolds reads the intervals the workers wrote in dir.
func readHolds(dir string) ([]hold, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.holds"))
	if err != nil {
		return nil, err
	}
	var all []hold
	for _, f := range files {
		pid := strings.TrimSuffix(filepath.Base(f), ".holds")
		fh, err := os.Open(f)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var a, r int64
			if _, err := fmt.Sscan(sc.Text(), &a, &r); err != nil {
				fh.Close()
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			if r == 0 {
				r = a // released by being killed, or the cycle failed: the acquisition alone
			}
			all = append(all, hold{pid: pid, acq: time.Unix(0, a), rel: time.Unix(0, r)})
		}
		fh.Close()
	}
	sortHolds(all)
	return all, nil
}

// sortHolds sorts holds by acquisition.
func sortHolds(holds []hold) {
	slices.SortFunc(holds, func(x, y hold) int { return x.acq.Compare(y.acq) })
}

// overlaps returns the pairs of intervals of different workers that overlap.
func overlaps(holds []hold) [][2]hold {
	var bad [][2]hold
	var last hold // the interval that ends latest so far
	for i, h := range holds {
		if i > 0 && h.acq.Before(last.rel) && h.pid != last.pid {
			bad = append(bad, [2]hold{last, h})
		}
		if i == 0 || h.rel.After(last.rel) {
			last = h
		}
	}
	return bad
}

// checkHolds fails the test if two workers held the lock at once, by the
// intervals they wrote in dir, and returns how many intervals it checked and
// how many pairs overlapped.
func checkHolds(t *testing.T, dir string) (checked, overlapping int) {
	t.Helper()
	holds, err := readHolds(dir)
	if err != nil {
		t.Errorf("reading the workers' hold intervals: %v", err)
		return 0, 0
	}
	bad := overlaps(holds)
	for i, p := range bad {
		if i == 3 {
			t.Errorf("... and %d more overlapping holds", len(bad)-3)
			break
		}
		t.Errorf("MUTUAL EXCLUSION VIOLATED: pid %s held the lock from %s to %s, and pid %s from %s (%v before the first let go)",
			p[0].pid, p[0].acq.Format(time.RFC3339Nano), p[0].rel.Format(time.RFC3339Nano),
			p[1].pid, p[1].acq.Format(time.RFC3339Nano), round(p[0].rel.Sub(p[1].acq)))
	}
	return len(holds), len(bad)
}
