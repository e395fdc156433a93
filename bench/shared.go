//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// The shared workloads: a shared lock (many readers and one writer, mode
// "read" and "write") and a semaphore (mode "sem"). A worker loops until
// the span is over: it takes the lock, checks that no one is inside who
// should not be, holds the lock for s.Hold (a nanosleep), and lets it go.
// Inside means a marker file: the writer and a semaphore's holder create
// theirs (O_EXCL, so a second holder of the same slot finds it), a reader
// looks for the writer's. Each overlap found is counted, and must be 0.

// sharedWorker runs a worker of mode read, write or sem and fills r.
func sharedWorker(s spec, r *result) error {
	take, give, err := sharedHandle(s)
	if err != nil {
		return err
	}
	fmt.Println("ready")
	start, err := readStart()
	if err != nil {
		return err
	}
	time.Sleep(time.Until(start))
	ctx := context.Background()
	end := start.Add(time.Duration(s.Span))
	hold, pause := unix.NsecToTimespec(s.Hold), unix.NsecToTimespec(s.Pause)
	for time.Now().Before(end) {
		t0 := time.Now()
		inside, err := take(ctx)
		if err != nil {
			return err
		}
		waited := time.Since(t0)
		r.MaxWait = max(r.MaxWait, waited.Nanoseconds())
		if waited < 50*time.Microsecond {
			r.Quick++
		}
		if s.Mode == "write" {
			r.Waits = append(r.Waits, waited.Nanoseconds())
		}
		mine := false
		if inside == "" { // a reader: is the writer in?
			if _, err := os.Lstat(s.Marker); err == nil {
				r.Overlaps++
			}
		} else if fd, err := unix.Open(inside, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, 0o644); err == nil {
			unix.Close(fd)
			mine = true
		} else if err == unix.EEXIST {
			r.Overlaps++
		} else {
			return &os.PathError{Op: "open", Path: inside, Err: err}
		}
		unix.Nanosleep(&hold, nil)
		if mine {
			unix.Unlink(inside)
		}
		if err := give(); err != nil {
			return err
		}
		r.Cycles++
		if s.Pause > 0 {
			unix.Nanosleep(&pause, nil)
		}
	}
	return nil
}

// sharedHandle returns how the worker of s takes its lock (and the marker
// it creates inside, "" for a reader) and lets it go.
func sharedHandle(s spec) (take func(context.Context) (string, error), give func() error, err error) {
	switch {
	case s.Mode == "sem" && s.Slots > 0:
		sem, err := locker.NewSemaphore(s.Lock, s.Slots, posix.New())
		if err != nil {
			return nil, nil, err
		}
		return func(ctx context.Context) (string, error) {
			slot, err := sem.Acquire(ctx)
			return s.Marker + "." + strconv.Itoa(slot.Index), err
		}, sem.Release, nil
	case s.Mode == "sem": // one of several exclusive locks
		l, err := locker.New(s.Lock, posix.New())
		if err != nil {
			return nil, nil, err
		}
		return func(ctx context.Context) (string, error) { return s.Marker, l.Lock(ctx) }, l.Unlock, nil
	case s.Contender == cNfslock:
		rw, err := locker.NewRWLock(s.Lock, posix.New())
		if err != nil {
			return nil, nil, err
		}
		if s.Mode == "read" {
			return func(ctx context.Context) (string, error) { return "", rw.RLock(ctx) }, rw.RUnlock, nil
		}
		return func(ctx context.Context) (string, error) { return s.Marker, rw.Lock(ctx) }, rw.Unlock, nil
	case s.Contender == cFlock:
		fd, err := unix.Open(s.Lock, unix.O_RDWR|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, nil, &os.PathError{Op: "open", Path: s.Lock, Err: err}
		}
		how, marker := unix.LOCK_EX, s.Marker
		if s.Mode == "read" {
			how, marker = unix.LOCK_SH, ""
		}
		return func(context.Context) (string, error) {
				for {
					if err := unix.Flock(fd, how); err != unix.EINTR {
						return marker, err
					}
				}
			}, func() error {
				return unix.Flock(fd, unix.LOCK_UN)
			}, nil
	}
	return nil, nil, fmt.Errorf("no shared workload %q for contender %q", s.Mode, s.Contender)
}

// rwRun is one run, or several merged, of readers and a writer on one
// shared lock.
type rwRun struct {
	readers  int
	span     time.Duration   // of all the runs
	reads    int             // the readers' cycles
	readMax  time.Duration   // a reader's longest wait
	waits    []time.Duration // the writer's wait for each write, sorted
	overlaps int             // readers that found the writer inside
	runs     int
}

func (a rwRun) merge(b rwRun) rwRun {
	if a.runs == 0 {
		return b
	}
	a.span += b.span
	a.reads += b.reads
	a.readMax = max(a.readMax, b.readMax)
	a.waits = append(a.waits, b.waits...)
	slices.Sort(a.waits)
	a.overlaps += b.overlaps
	a.runs += b.runs
	return a
}

// rw runs readers processes reading and one writing on one shared lock of
// contender (nfslock or flock) for span; the writer pauses between writes.
// dirs are the directories (one per client) in which the processes take
// turns to find the lock: the same directory through different mounts.
func (e *env) rw(contender string, dirs []string, readers int, span, hold, pause time.Duration) (rwRun, error) {
	in := func(i int) spec {
		lock := filepath.Join(dirs[i%len(dirs)], contender+"-rw.lock")
		return spec{Lock: lock, Marker: lock + ".writing", Hold: hold.Nanoseconds(), Span: span.Nanoseconds()}
	}
	w := in(0)
	w.Mode, w.Pause = "write", pause.Nanoseconds()
	specs := []spec{w}
	for i := range readers {
		r := in(i + 1)
		r.Mode = "read"
		specs = append(specs, r)
	}
	ps, err := e.startMany(contender, specs, nil)
	if err != nil {
		return rwRun{}, err
	}
	rs, err := run(ps)
	if err != nil {
		return rwRun{}, err
	}
	out := rwRun{readers: readers, span: span, runs: 1}
	for _, ns := range rs[0].Waits {
		out.waits = append(out.waits, time.Duration(ns))
	}
	slices.Sort(out.waits)
	for _, r := range rs {
		out.overlaps += r.Overlaps
	}
	for _, r := range rs[1:] {
		out.reads += r.Cycles
		out.readMax = max(out.readMax, time.Duration(r.MaxWait))
	}
	return out, nil
}

// The two contenders of the semaphore workload.
const (
	semOne  = "semaphore" // one Semaphore of N slots
	semMany = "exclusive" // N exclusive locks, the processes spread over them
)

// sem runs procs processes of kind for span, each taking a slot (or its
// exclusive lock) over and over and holding it for hold. The processes
// of one lock take turns to find it in dirs, as rw's do.
func (e *env) sem(kind string, dirs []string, procs, slots int, span, hold time.Duration) (contended, error) {
	specs := make([]spec, procs)
	for i := range specs {
		s := spec{Mode: "sem", Hold: hold.Nanoseconds(), Span: span.Nanoseconds()}
		if kind == semOne {
			s.Lock, s.Slots = filepath.Join(dirs[i%len(dirs)], "sem.lock"), slots
			s.Marker = s.Lock + ".inside"
		} else { // process i on lock i % slots, the lock's k-th process (k = i / slots) in dirs[k % len(dirs)]
			s.Lock = filepath.Join(dirs[i/slots%len(dirs)], fmt.Sprintf("excl-%d.lock", i%slots))
			s.Marker = s.Lock + ".inside.0"
		}
		specs[i] = s
	}
	ps, err := e.startMany(cNfslock, specs, nil)
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
		c.lost += int64(r.Overlaps)
	}
	return c, nil
}

// measureShared runs the shared workloads that set asks for, in passes as
// the contended runs are, and puts their results in r.
func measureShared(e *env, set settings, work string, r *results, fail func(what, c string, err error)) {
	doing := func(w string) bool { return slices.Contains(set.workloads, w) }
	var rwOn []string
	for _, c := range []string{cNfslock, cFlock} {
		if slices.Contains(set.contendersOn, c) {
			rwOn = append(rwOn, c)
		}
	}
	semOn := []string{semOne, semMany}
	if !slices.Contains(set.contendersOn, cNfslock) {
		semOn = nil
	}
	for pass := range set.passes {
		rwOrder, semOrder := slices.Clone(rwOn), slices.Clone(semOn)
		if pass%2 == 1 {
			slices.Reverse(rwOrder)
			slices.Reverse(semOrder)
		}
		for _, c := range rwOrder {
			if !doing("rw") {
				break
			}
			progress("shared lock: %s, %d readers and a writer, %v (pass %d of %d)", c, set.rwReaders, set.span, pass+1, set.passes)
			res, err := e.rw(c, []string{work}, set.rwReaders, set.span, set.hold, set.rwPause)
			if err != nil {
				fail("shared lock", c, err)
				continue
			}
			r.rw[c] = r.rw[c].merge(res)
			detail("%s: %.0f reads/s, %d writes, writer's wait p50 %v, longest %v; overlaps %d", c, float64(res.reads)/res.span.Seconds(), len(res.waits), percentileOr0(res.waits, 50), percentileOr0(res.waits, 100), res.overlaps)
		}
		for _, k := range semOrder {
			if !doing("sem") {
				break
			}
			progress("semaphore: %s, %d processes, %d slots, %v (pass %d of %d)", k, set.semProcs, set.semSlots, set.span, pass+1, set.passes)
			res, err := e.sem(k, []string{work}, set.semProcs, set.semSlots, set.span, set.hold)
			if err != nil {
				fail("semaphore", k, err)
				continue
			}
			r.sem[k] = r.sem[k].merge(res)
			detail("%s: %.0f/s, counts %v, longest wait %v, overlaps %d", k, res.perSecond(), res.counts, res.maxWait, res.lost)
		}
	}
}

func percentileOr0(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	return percentile(d, p)
}

// sharedMarkdown renders the shared workloads' tables, if they ran: rw's
// with the columns rwCols, each run of both lasting span.
func sharedMarkdown(set settings, span time.Duration, rws map[string]rwRun, sems map[string]contended, rwCols []string) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	row := func(title string, cols []string, cell func(c string) string) {
		w("| %s |", title)
		for _, c := range cols {
			v := cell(c)
			if v == "" {
				v = "–"
			}
			w(" %s |", v)
		}
		w("\n")
	}
	if len(rws) > 0 {
		cols := rwCols
		w("\nShared lock: %d reader processes and 1 writer process on one lock, %v, %s; a reader holds the lock %v per cycle, the writer %v per write and pauses %v between writes:\n\n",
			set.rwReaders, span, passesText(set.passes), set.hold, set.hold, set.rwPause)
		titles := map[string]string{cNfslock: "nfslock `RWLock`", cFlock: "flock(2) `LOCK_SH` / `LOCK_EX`"}
		w("|  |")
		for _, c := range cols {
			w(" %s |", titles[c])
		}
		w("\n|---|%s\n", strings.Repeat("---|", len(cols)))
		get := func(f func(rwRun) string) func(string) string {
			return func(c string) string {
				if res, ok := rws[c]; ok {
					return f(res)
				}
				return ""
			}
		}
		row(fmt.Sprintf("read throughput, %d readers (reader cycles/s)", set.rwReaders), cols, get(func(res rwRun) string {
			return fmt.Sprintf("%.0f", float64(res.reads)/res.span.Seconds())
		}))
		row("writes", cols, get(func(res rwRun) string { return fmt.Sprint(len(res.waits)) }))
		row("writer's wait, p50 / p99", cols, get(func(res rwRun) string { return p50p99(res.waits) }))
		row("writer's longest wait", cols, get(func(res rwRun) string { return dur(percentileOr0(res.waits, 100)) }))
		row("a reader's longest wait", cols, get(func(res rwRun) string { return dur(res.readMax) }))
		row("readers that found the writer inside (must be 0)", cols, get(func(res rwRun) string { return fmt.Sprint(res.overlaps) }))
	}
	if len(sems) > 0 {
		cols := []string{semOne, semMany}
		n, p := set.semSlots, set.semProcs
		w("\nSemaphore: %d processes, %d at a time, %v, %s; a holder holds its slot %v per cycle:\n\n", p, n, span, passesText(set.passes), set.hold)
		w("|  | nfslock `Semaphore`, %d slots | %d × nfslock exclusive lock (%d processes on each) |\n|---|---|---|\n", n, n, p/n)
		get := func(f func(contended) string) func(string) string {
			return func(c string) string {
				if res, ok := sems[c]; ok {
					return f(res)
				}
				return ""
			}
		}
		row("throughput (acquisitions/s)", cols, get(func(res contended) string { return fmt.Sprintf("%.0f", res.perSecond()) }))
		row(fmt.Sprintf("fairness, %v: slowest / fastest process", span), cols, get(func(res contended) string {
			return fairness(map[int]contended{p: res}, p)
		}))
		row("longest wait", cols, get(func(res contended) string { return dur(res.maxWait) }))
		row("two holders of one slot (must be 0)", cols, get(func(res contended) string { return fmt.Sprint(res.lost) }))
	}
	return b.String()
}
