//go:build linux

package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// uncontended is one round of the uncontended cycle: one process locks and
// unlocks n times.
type uncontended struct {
	perCycle          time.Duration
	mallocs, bytes    float64 // per cycle
	ownCalls, rtCalls float64 // per cycle, from strace
	calls             syscallCounts
}

// cycleOnce times n uncontended cycles of contender, after warm ones.
func (e *env) cycleOnce(contender, dir string, n, warm int) (uncontended, error) {
	p, err := e.start(contender, spec{Mode: "cycle", Lock: filepath.Join(dir, contender+".lock"), N: n, Warm: warm}, nil)
	if err != nil {
		return uncontended{}, err
	}
	rs, err := run([]*proc{p})
	if err != nil {
		return uncontended{}, err
	}
	r := rs[0]
	return uncontended{
		perCycle: time.Duration(r.NS / int64(r.Cycles)),
		mallocs:  float64(r.Mallocs) / float64(r.Cycles),
		bytes:    float64(r.Bytes) / float64(r.Cycles),
	}, nil
}

// cycleCalls counts the system calls of one uncontended cycle: the
// difference between runs of n1 and n2 cycles, divided by n2 - n1, so that
// everything a process does to start and stop cancels out. If count is not
// nil, it also counts the file server's operations in the same way
// (NaN if count is nil).
func (e *env) cycleCalls(contender, dir string, n1, n2 int, count opCounter) (syscallCounts, float64, error) {
	s := spec{Mode: "cycle", Lock: filepath.Join(dir, contender+".lock"), Warm: 20}
	var calls [2]syscallCounts
	var ops [2]float64
	for i, n := range []int{n1, n2} {
		s.N = n
		var err error
		if calls[i], ops[i], err = e.stracedCounted(contender, s, count); err != nil {
			return nil, 0, err
		}
	}
	return calls[1].sub(calls[0]).scale(1 / float64(n2-n1)), (ops[1] - ops[0]) / float64(n2-n1), nil
}

// An opCounter returns how many operations a network filesystem's client
// has sent its server so far; a workload's are the difference of two
// counts.
type opCounter func() (float64, error)

// stracedCounted is straced, and the difference of count around it (NaN
// if count is nil).
func (e *env) stracedCounted(contender string, s spec, count opCounter) (syscallCounts, float64, error) {
	if count == nil {
		calls, err := e.straced(contender, s)
		return calls, math.NaN(), err
	}
	before, err := count()
	if err != nil {
		return nil, 0, err
	}
	calls, err := e.straced(contender, s)
	if err != nil {
		return nil, 0, err
	}
	after, err := count()
	return calls, after - before, err
}

// contended is one run, or several merged, of P processes cycling on one
// lock.
type contended struct {
	procs   int
	span    time.Duration // of all the runs
	cycles  int           // of all the processes in all the runs
	counts  []int         // cycles per process, in the run whose slowest and fastest differ most
	quick   []int         // cycles per process of that run whose lock() took under 50 µs
	cpu     time.Duration // of all the processes in all the runs
	maxWait time.Duration // in any run
	lost    int64         // cycles counted by the processes but missing from the counter, in all the runs
	runs    int
}

func (c contended) total() int { return c.cycles }

func (c contended) perSecond() float64 { return float64(c.cycles) / c.span.Seconds() }

// spread is slowest/fastest of the run kept in counts.
func (c contended) spread() float64 {
	if len(c.counts) == 0 {
		return 1
	}
	lo, hi := slices.Min(c.counts), slices.Max(c.counts)
	if hi == 0 {
		return 1
	}
	return float64(lo) / float64(hi)
}

// merge adds the run d to c: throughput over both, the fairness of the
// less fair, the longest wait of either, lost updates of both.
func (c contended) merge(d contended) contended {
	if c.runs == 0 {
		return d
	}
	m := c
	m.span += d.span
	m.cycles += d.cycles
	m.cpu += d.cpu
	m.maxWait = max(c.maxWait, d.maxWait)
	m.lost += d.lost
	m.runs += d.runs
	if d.spread() < c.spread() {
		m.counts, m.quick = d.counts, d.quick
	}
	return m
}

// contend runs procs processes of contender for span, each holding the lock
// hold per cycle while it increments a shared counter. dirs are the
// directories (one per client) in which processes take turns to find the
// lock file and counter: the same directory through different mounts.
func (e *env) contend(contender string, dirs []string, procs int, span, hold time.Duration) (contended, error) {
	name := contender + "-contend"
	for _, d := range dirs[:1] {
		if err := os.WriteFile(filepath.Join(d, name+".counter"), fmt.Appendf(nil, "%020d\n", 0), 0o644); err != nil {
			return contended{}, err
		}
	}
	specs := make([]spec, procs)
	for i := range specs {
		d := dirs[i%len(dirs)]
		specs[i] = spec{Mode: "contend", Lock: filepath.Join(d, name+".lock"), Counter: filepath.Join(d, name+".counter"),
			Hold: hold.Nanoseconds(), Span: span.Nanoseconds()}
	}
	ps, err := e.startMany(contender, specs, nil)
	if err != nil {
		return contended{}, err
	}
	rs, err := run(ps)
	if err != nil {
		return contended{}, err
	}
	c := contended{procs: procs, span: span, runs: 1}
	for _, r := range rs {
		c.cycles += r.Cycles
		c.counts = append(c.counts, r.Cycles)
		c.quick = append(c.quick, r.Quick)
		c.cpu += r.CPU
		c.maxWait = max(c.maxWait, time.Duration(r.MaxWait))
	}
	final, err := readCounter(filepath.Join(dirs[0], name+".counter"))
	if err != nil {
		return c, err
	}
	c.lost = int64(c.total()) - final
	return c, nil
}

// handoff passes the lock back and forth between two processes of
// contender, rounds times each way, the waiter waiting wait to 2 × wait
// each time, and returns the hand-off latencies (the first round's left
// out as a warm-up). The processes find the lock in dirs[0] and
// dirs[len(dirs)-1].
func (e *env) handoff(contender string, dirs []string, rounds int, wait time.Duration) ([]time.Duration, error) {
	aIn, bOut, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	bIn, aOut, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	pipes := []*os.File{aIn, bOut, bIn, aOut}
	defer func() {
		for _, f := range pipes {
			f.Close()
		}
	}()
	name := contender + "-handoff.lock"
	specs := []spec{
		{Mode: "handoff", Lock: filepath.Join(dirs[0], name), N: rounds, First: true, Wait: wait.Nanoseconds()},
		{Mode: "handoff", Lock: filepath.Join(dirs[len(dirs)-1], name), N: rounds, Wait: wait.Nanoseconds()},
	}
	ps, err := e.startMany(contender, specs, [][]*os.File{{aIn, aOut}, {bIn, bOut}})
	if err != nil {
		return nil, err
	}
	for _, f := range pipes { // the workers have their own copies
		f.Close()
	}
	pipes = nil
	rs, err := run(ps)
	if err != nil {
		return nil, err
	}
	a, b := rs[0], rs[1]
	if len(a.Releases) != rounds || len(b.Acquires) != rounds || len(b.Releases) != rounds || len(a.Acquires) != rounds {
		return nil, fmt.Errorf("hand-off workers recorded %d/%d and %d/%d releases/acquisitions, want %d each",
			len(a.Releases), len(a.Acquires), len(b.Releases), len(b.Acquires), rounds)
	}
	var lat []time.Duration
	for i := 1; i < rounds; i++ {
		lat = append(lat, time.Duration(b.Acquires[i]-a.Releases[i]), time.Duration(a.Acquires[i]-b.Releases[i]))
	}
	slices.Sort(lat)
	return lat, nil
}

// waitOps measures how many file operations a process waiting for a lock
// held by someone else makes per second: the system calls (other than the
// runtime's) of a waiter that gives up after w2, less those of one that
// gives up after w1, over w2 - w1. The holder's files are in holdDir, the
// waiter looks for them in waitDir (the same directory through another
// client, or holdDir itself). count, if not nil, counts the operations of
// the waiter's client likewise (the last result; NaN without count).
func (e *env) waitOps(contender, holdDir, waitDir string, w1, w2 time.Duration, count opCounter) (float64, syscallCounts, float64, error) {
	name := contender + "-wait.lock"
	release, err := holdForever(contender, filepath.Join(holdDir, name))
	if err != nil {
		return 0, nil, 0, err
	}
	defer release()
	s := spec{Mode: "wait", Lock: filepath.Join(waitDir, name)}
	var counts [2]syscallCounts
	var ops [2]float64
	for i, w := range []time.Duration{w1, w2} {
		s.Span = w.Nanoseconds()
		if counts[i], ops[i], err = e.stracedCounted(contender, s, count); err != nil {
			return 0, nil, 0, err
		}
	}
	d := counts[1].sub(counts[0]).scale(1 / (w2 - w1).Seconds())
	own, _ := d.split()
	return own, d, (ops[1] - ops[0]) / (w2 - w1).Seconds(), nil
}

// holdForever makes the lock at path busy for contender, as a holder on
// another host would, with an expiry an hour away; release undoes it.
func holdForever(contender, path string) (release func(), err error) {
	if contender == cFlock {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, err
		}
		if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
			unix.Close(fd)
			return nil, err
		}
		return func() { unix.Close(fd); os.Remove(path) }, nil
	}
	claim := strings.Join([]string{path, "elsewhere.example.org", "4242", "1"}, "|")
	if err := os.WriteFile(claim, []byte(claim), 0o644); err != nil {
		return nil, err
	}
	later := time.Now().Add(time.Hour)
	if err := errors.Join(os.Chtimes(claim, later, later), os.Link(claim, path)); err != nil {
		os.Remove(claim)
		return nil, err
	}
	return func() { os.Remove(path); os.Remove(claim) }, nil
}
