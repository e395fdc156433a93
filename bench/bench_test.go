//go:build linux

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestParseStraceLog(t *testing.T) {
	log := `4242  openat(AT_FDCWD</tmp>, "/dev/shm/x|h|1|2", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 3</dev/shm/x|h|1|2>
4242  write(3</dev/shm/x|h|1|2>, "/dev/shm/x|h|1|2", 16) = 16
4243  futex(0xc000080958, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>
4242  read(7<anon_inode:[eventfd]>, "\1\0\0\0\0\0\0\0", 8) = 8
4243  <... futex resumed>)              = 0
4242  pread64(5</sys/fs/cgroup/cpu.max>, "max 100000\n", 64, 0) = 11
4242  newfstatat(AT_FDCWD</tmp>, "/proc/self/status", {st_mode=S_IFREG|0444, st_size=0, ...}, 0) = 0
4242  linkat(AT_FDCWD</tmp>, "/dev/shm/x|h|1|2", AT_FDCWD</tmp>, "/dev/shm/x", 0) = 0
4242  --- SIGURG {si_signo=SIGURG, si_code=SI_TKILL, si_pid=4242, si_uid=0} ---
4242  rt_sigreturn({mask=[]})             = 0
4243  +++ exited with 0 +++
`
	got := parseStraceLog(log)
	want := syscallCounts{"openat": 1, "write": 1, "futex": 1, "runtime:read": 1, "runtime:pread64": 1,
		"runtime:newfstatat": 1, "linkat": 1, "rt_sigreturn": 1}
	if len(got) != len(want) {
		t.Errorf("parseStraceLog: got %v, want %v", got, want)
	}
	for name, n := range want {
		if got[name] != n {
			t.Errorf("parseStraceLog: %s counted %v times, want %v (all: %v)", name, got[name], n, got)
		}
	}
	own, rt := got.split()
	if own != 3 || rt != 5 {
		t.Errorf("split of %v = %v own, %v runtime's; want 3 and 5", got, own, rt)
	}
}

func TestSyscallCountsArithmetic(t *testing.T) {
	a := syscallCounts{"linkat": 30, "futex": 4}
	b := syscallCounts{"linkat": 10, "unlinkat": 2}
	d := a.sub(b).scale(0.5)
	want := syscallCounts{"linkat": 10, "futex": 2, "unlinkat": -1}
	for name, n := range want {
		if d[name] != n {
			t.Errorf("(a - b) / 2: %s = %v, want %v (all: %v)", name, d[name], n, d)
		}
	}
}

func TestParseCounter(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"00000000000000000042\n", 42, true},
		{"7", 7, true},
		{"", 0, false},
		{"x1", 0, false},
	} {
		n, err := parseCounter([]byte(tt.in))
		if (err == nil) != tt.ok || n != tt.want {
			t.Errorf("parseCounter(%q) = %d, %v; want %d, ok %v", tt.in, n, err, tt.want, tt.ok)
		}
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct {
		p    int
		want time.Duration
	}{{50, 5}, {90, 9}, {99, 10}, {100, 10}, {1, 1}} {
		if got := percentile(d, tt.p); got != tt.want {
			t.Errorf("percentile(1..10, %d) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

func TestFairnessAndLost(t *testing.T) {
	runs := map[int]contended{8: {counts: []int{10, 20, 40}, lost: 2}, 2: {counts: []int{5, 5}, lost: 1}}
	if got, want := fairness(runs, 8), "10 / 40 (0.25)"; got != want {
		t.Errorf("fairness = %q, want %q", got, want)
	}
	if got, want := lost(runs), "3"; got != want {
		t.Errorf("lost = %q, want %q", got, want)
	}
}

func TestRWRunMerge(t *testing.T) {
	a := rwRun{span: time.Second, reads: 10, readMax: 3, waits: []time.Duration{1, 5}, overlaps: 1, runs: 1}
	b := rwRun{span: time.Second, reads: 30, readMax: 2, waits: []time.Duration{4}, runs: 1}
	m := rwRun{}.merge(a).merge(b)
	if m.span != 2*time.Second || m.reads != 40 || m.readMax != 3 || m.overlaps != 1 || m.runs != 2 {
		t.Errorf("merge of %+v and %+v = %+v; want 2s, 40 reads, longest 3, 1 overlap, 2 runs", a, b, m)
	}
	if got := p50p99(m.waits); got != dur(4)+" / "+dur(5) {
		t.Errorf("the merged writer's waits %v give p50 / p99 %q, want the sorted waits' 4 and 5", m.waits, got)
	}
}

// TestCFloorWorker builds the C floor and runs it as the bench does, in a
// directory whose name Go's JSON escapes (\u003c, \u0026), so that the C
// side's reading of the spec and its result are both checked.
func TestCFloorWorker(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil {
		if os.Getenv("NFSLOCK_CFLOOR") == "required" {
			t.Fatal("gcc is not installed (Debian: apt-get install gcc), and NFSLOCK_CFLOOR=required")
		}
		t.Skip("gcc is not installed (Debian: apt-get install gcc): the bench leaves the C floor's column empty")
	}
	bin := t.TempDir()
	exe, err := buildCFloor(bin)
	if err != nil {
		t.Fatalf("buildCFloor: %v", err)
	}
	dir := filepath.Join(t.TempDir(), `a<b&"c"`)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{cfloor: exe, scratch: bin, timeout: time.Minute}
	u, err := e.cycleOnce(cCFloor, dir, 50, 5)
	if err != nil {
		t.Fatalf("50 cycles of the C floor in %q: %v", dir, err)
	}
	if u.perCycle <= 0 {
		t.Errorf("50 cycles of the C floor took %v each, want more than 0", u.perCycle)
	}
	lat, err := e.handoff(cCFloor, []string{dir}, 3, time.Millisecond)
	if err != nil {
		t.Fatalf("hand-off of the C floor: %v", err)
	}
	if len(lat) != 4 {
		t.Errorf("3 rounds of hand-off gave %d latencies, want 4 (the first round's left out)", len(lat))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
		t.Errorf("the C floor left %q behind", left)
	}
}

func TestWaitRange(t *testing.T) {
	for _, tt := range []struct {
		wait time.Duration
		want string
	}{
		{time.Millisecond, "1–2 ms"},
		{50 * time.Millisecond, "50–100 ms"},
		{time.Second, "1–2 s"},
		{600 * time.Millisecond, "600 ms–1.2 s"},
	} {
		if got := waitRange(tt.wait); got != tt.want {
			t.Errorf("waitRange(%v) = %q, want %q", tt.wait, got, tt.want)
		}
	}
}
