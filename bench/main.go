//go:build linux

// Command bench runs nfslock's workloads side by side with a floor, the
// Python flufl.lock and flock(2), and writes a Markdown table. See
// docs/performance.md.
//
//	go run ./bench [-quick] [-dir /dev/shm] [-o table.md] [-readme docs/performance.md]
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed flufl_worker.py
var fluflWorker []byte

// settings are the sizes of one run.
type settings struct {
	cycleRounds   int             // interleaved rounds of the uncontended cycle
	cycleN        map[string]int  // cycles per round
	straceN       [2]int          // cycles of the two strace runs
	procs         []int           // P of the contended runs
	span          time.Duration   // of each contended run
	passes        int             // of all the contended runs
	hold          time.Duration   // the lock is held this long per cycle
	handoffWaits  []time.Duration // the waiter's waits before a hand-off: each to twice it
	handoffRounds []int           // rounds each way of the hand-off, after each wait
	fluflRounds   int             // at most this many for flufl.lock, whose hand-off takes a second
	wait          [2]time.Duration
	across        []string      // the workloads across two clients, for -across
	acrossProcs   []int         // P of their contended runs
	acrossSpan    time.Duration // of their contended and shared runs
	acrossRounds  []int         // of their hand-offs, after each of handoffWaits
	acrossStraceN [2]int        // cycles of their two strace runs
	fairnessAt    int           // the P whose slowest and fastest processes are compared
	rwReaders     int           // reader processes of the shared lock (and one writer)
	rwPause       time.Duration // the writer's pause between two writes
	semProcs      int           // processes on the semaphore
	semSlots      int           // its slots
	workerLimit   time.Duration
	contendersOn  []string
	workloads     []string
}

// allWorkloads are the parts of a run, for -run.
var allWorkloads = []string{"cycle", "strace", "contend", "handoff", "wait", "rw", "sem", "sshfs", "nfs"}

func full() settings {
	return settings{
		cycleRounds:   7,
		cycleN:        map[string]int{cFloor: 20000, cCFloor: 20000, cNfslock: 20000, cNoWatch: 20000, cFair: 20000, cFlufl: 3000, cFlock: 200000},
		straceN:       [2]int{200, 1200},
		procs:         []int{2, 4, 8},
		span:          10 * time.Second,
		passes:        2,
		hold:          100 * time.Microsecond,
		handoffWaits:  []time.Duration{time.Millisecond, 50 * time.Millisecond, time.Second},
		handoffRounds: []int{100, 30, 8},
		fluflRounds:   8,
		wait:          [2]time.Duration{time.Second, 4 * time.Second},
		across:        acrossWorkloads,
		acrossProcs:   []int{2, 4, 8},
		acrossSpan:    10 * time.Second,
		acrossRounds:  []int{50, 15, 6},
		acrossStraceN: [2]int{50, 250},
		fairnessAt:    8,
		rwReaders:     32,
		rwPause:       10 * time.Millisecond,
		semProcs:      16,
		semSlots:      4,
		workerLimit:   2 * time.Minute,
	}
}

func quick() settings {
	s := full()
	s.cycleRounds = 3
	for k, n := range s.cycleN {
		s.cycleN[k] = n / 4
	}
	s.span = 2 * time.Second
	s.passes = 1
	s.handoffRounds = []int{30, 10, 3}
	s.fluflRounds = 3
	s.wait = [2]time.Duration{500 * time.Millisecond, 1500 * time.Millisecond}
	s.acrossSpan = 2 * time.Second
	s.acrossRounds = []int{15, 5, 2}
	s.acrossStraceN = [2]int{20, 70}
	return s
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("bench: ")
	if len(os.Args) == 3 && os.Args[1] == "worker" {
		workerMain(os.Args[2])
		return
	}
	quickFlag := flag.Bool("quick", false, "a shorter run (about 3 minutes) with 2 s contended runs")
	dir := flag.String("dir", defaultDir(), "directory in which to make the lock files (a tmpfs measures the locks, not a disk)")
	python := flag.String("python", "/usr/bin/python3", "the Python with flufl.lock (Debian: apt-get install python3-flufl.lock)")
	only := flag.String("only", "", "comma-separated contenders to run (default all): "+strings.Join(contenders, ","))
	workloads := flag.String("run", "", "comma-separated workloads to run (default all): "+strings.Join(allWorkloads, ","))
	acrossFlag := flag.String("across", "", "comma-separated workloads to run across two clients, with -run sshfs or nfs (default all): "+strings.Join(acrossWorkloads, ","))
	flag.BoolVar(&verbose, "v", false, "report details on standard error: system calls by name, per-process counts, every hand-off")
	span := flag.Duration("span", 0, "length of each contended run (default 10s, 2s with -quick)")
	procs := flag.String("p", "", "comma-separated numbers of contending processes (default 2,4,8)")
	out := flag.String("o", "", "also write the table to this file")
	readme := flag.String("readme", "", "replace the part of this README between the bench markers with the table")
	flag.Parse()

	set := full()
	mode := "full"
	if *quickFlag {
		set, mode = quick(), "quick"
	}
	if *span > 0 {
		set.span, set.acrossSpan = *span, *span
	}
	if *procs != "" {
		set.procs = nil
		for _, f := range strings.Split(*procs, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				log.Fatalf("-p: %q is not a number of processes", f)
			}
			set.procs = append(set.procs, n)
		}
		set.acrossProcs = set.procs
		set.fairnessAt = set.procs[len(set.procs)-1]
	}
	set.contendersOn = contenders
	set.workloads = allWorkloads
	if *workloads != "" {
		set.workloads = strings.Split(*workloads, ",")
		for _, w := range set.workloads {
			if !slices.Contains(allWorkloads, w) {
				log.Fatalf("-run: unknown workload %q (have %s)", w, strings.Join(allWorkloads, ","))
			}
		}
	}
	if *acrossFlag != "" {
		set.across = strings.Split(*acrossFlag, ",")
		for _, w := range set.across {
			if !slices.Contains(acrossWorkloads, w) {
				log.Fatalf("-across: unknown workload %q (have %s)", w, strings.Join(acrossWorkloads, ","))
			}
		}
	}
	if *only != "" {
		set.contendersOn = strings.Split(*only, ",")
		for _, c := range set.contendersOn {
			if !slices.Contains(contenders, c) {
				log.Fatalf("-only: unknown contender %q (have %s)", c, strings.Join(contenders, ","))
			}
		}
	}

	e := &env{timeout: set.workerLimit}
	var err error
	if e.exe, err = os.Executable(); err != nil {
		log.Fatal(err)
	}
	var notes []string
	if p, err := exec.LookPath("strace"); err == nil {
		e.strace = p
	} else {
		notes = append(notes, "strace is not installed: the system call and file operation cells are empty (Debian: apt-get install strace).")
	}
	work, err := os.MkdirTemp(*dir, "nfslock-bench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	if e.scratch, err = os.MkdirTemp("", "nfslock-bench-scratch-"); err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(e.scratch)
	if slices.Contains(set.contendersOn, cCFloor) {
		if e.cfloor, err = buildCFloor(e.scratch); err != nil {
			notes = append(notes, fmt.Sprintf("No C floor (%v): its column is empty.", err))
			set.contendersOn = slices.DeleteFunc(slices.Clone(set.contendersOn), func(c string) bool { return c == cCFloor })
		}
	}
	version, err := fluflVersion(*python)
	if err != nil {
		notes = append(notes, fmt.Sprintf("flufl.lock is not available (%v): its column is empty (Debian: apt-get install python3-flufl.lock).", err))
		set.contendersOn = slices.DeleteFunc(slices.Clone(set.contendersOn), func(c string) bool { return c == cFlufl })
	} else {
		e.python = *python
		e.script = filepath.Join(work, "flufl_worker.py")
		if err := os.WriteFile(e.script, fluflWorker, 0o644); err != nil {
			log.Fatal(err)
		}
	}

	args := []string{"go run ./bench"}
	if *quickFlag {
		args = append(args, "-quick")
	}
	if *dir != defaultDir() {
		args = append(args, "-dir", *dir)
	}
	if *span > 0 {
		args = append(args, "-span", span.String())
	}
	if *procs != "" {
		args = append(args, "-p", *procs)
	}
	if *only != "" {
		args = append(args, "-only", *only)
	}
	if *workloads != "" {
		args = append(args, "-run", *workloads)
	}
	if *acrossFlag != "" {
		args = append(args, "-across", *acrossFlag)
	}
	t0 := time.Now()
	load0 := loadAverage()
	res := measure(e, set, work, notes)
	res.command = strings.Join(args, " ")
	res.mode = mode
	res.fluflVersion = version
	res.fsType = fsType(*dir)
	res.dir = *dir
	res.loads = [2]string{load0, loadAverage()}
	res.took = time.Since(t0)
	res.cpus = runtime.NumCPU()
	table := res.markdown()
	fmt.Print(table)
	fmt.Fprint(os.Stderr, res.targets())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(table), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	if *readme != "" {
		if err := replaceSection(*readme, table); err != nil {
			log.Fatal(err)
		}
	}
}

// defaultDir is /dev/shm, a tmpfs on Linux, if it exists; otherwise
// os.TempDir().
func defaultDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

// fluflVersion returns the version of flufl.lock that python imports.
func fluflVersion(python string) (string, error) {
	out, err := exec.Command(python, "-c", "import flufl.lock; print(flufl.lock.__version__)").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s: %v: %s", python, err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// loadAverage returns the first three fields of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// verbose makes progress report details.
var verbose bool

// detail reports a detail on standard error if -v is set.
func detail(format string, args ...any) {
	if verbose {
		progress("    "+format, args...)
	}
}

// progress reports on standard error what the run is doing.
func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// replaceSection puts table between the markers in the file at path.
func replaceSection(path, table string) error {
	const begin, end = "<!-- bench:begin -->\n", "<!-- bench:end -->"
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q ... %q markers", path, strings.TrimSpace(begin), end)
	}
	s = s[:i+len(begin)] + table + s[j:]
	return os.WriteFile(path, []byte(s), 0o644)
}
