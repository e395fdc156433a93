package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// The multi-process stress tests of the shared lock and the semaphore, in
// the style of stress.go, whose workers (re-executions of the test binary)
// and protocol they share:
//
//	RWLock/Stress     NFSLOCK_STRESS_RW_PROCS workers (default 4) each make
//	                  NFSLOCK_STRESS_RW_CYCLES cycles (default 40), one in
//	                  four as the writer, the others as a reader. A writer
//	                  adds one to a number in a shared file, writing it
//	                  first marked as half-done, then done; a reader reads
//	                  the file twice, a moment apart, and must find it
//	                  done and unchanged. The file must end up holding the
//	                  number of writes made.
//	Semaphore/Stress  NFSLOCK_STRESS_SEM_PROCS workers (default 4) each take
//	                  one of NFSLOCK_STRESS_SEM_SLOTS slots (default 2)
//	                  NFSLOCK_STRESS_SEM_CYCLES times (default 20); holding
//	                  it, each adds one to a count of holders in a shared
//	                  file (under an exclusive lock of its own), checks that
//	                  the count is at most N, waits a moment, and takes one
//	                  off. The count must never exceed N, and end at 0.
//
// Both also judge by the hold intervals the workers write down (by this
// machine's one clock): no write overlaps another hold; never more than N
// slots held at once. The lifetime and slop are those of Stress/Counter
// (NFSLOCK_STRESS_LIFETIME, NFSLOCK_STRESS_SLOP): nothing expires.

// Knobs of the shared stress tests.
const (
	rwProcsKnob   = "NFSLOCK_STRESS_RW_PROCS"
	rwCyclesKnob  = "NFSLOCK_STRESS_RW_CYCLES"
	semProcsKnob  = "NFSLOCK_STRESS_SEM_PROCS"
	semCyclesKnob = "NFSLOCK_STRESS_SEM_CYCLES"
	semSlotsKnob  = "NFSLOCK_STRESS_SEM_SLOTS"
)

// Worker roles of the shared stress tests.
const (
	roleRWStress  = "rwlock"    // read and write the shared file under the RWLock
	roleSemStress = "semaphore" // count itself among the holders of a slot
)

// jobSlotsEnv passes the semaphore's number of slots to its workers.
const jobSlotsEnv = "NFSLOCK_CONFORMANCE_SLOTS"

// Files of the shared stress tests besides stressLockName's.
const (
	stressHoldersName = "holders"      // the semaphore holders' count
	stressHoldersLock = "holders.lock" // the exclusive lock on it
	halfDone          = " half-done"   // a writer's mark on a write under way
)

// sharedHoldsSuffix names a worker's file of hold intervals, with their
// modes: "acquired released mode" per line.
const sharedHoldsSuffix = ".sharedholds"

func testRWStress(t *testing.T, b Backend, runName string) {
	if b.Open == nil {
		t.Skip("backend lives in one process; multi-process stress needs a real directory")
	}
	procs := knobInt(t, rwProcsKnob, 4)
	cycles := knobInt(t, rwCyclesKnob, 40)
	lifetime := knobDuration(t, lifetimeKnob, 15*time.Second)
	slop := knobDuration(t, slopKnob, 10*time.Second)
	env := b.New(t)
	ctx, deadline := processContext(t)
	g := startWorkers(t, ctx, procs, job{
		role: roleRWStress, test: runName, dir: env.Dir, dir2: otherClient(b, env),
		cycles: cycles, lifetime: lifetime, slop: slop, deadline: deadline,
	})
	res := g.runCounters(t)
	g.logClients(t)
	writes, reads, changed := 0, 0, 0
	for _, d := range res.done {
		writes += int(fieldInt(d, "writes"))
		reads += int(fieldInt(d, "reads"))
		changed += int(fieldInt(d, "changed"))
	}
	t.Logf("%d processes × %d cycles: %d reads, %d writes in %v", procs, cycles, reads, writes, round(res.elapsed))
	res.logFairness(t)

	overlapping := checkSharedHolds(t, g.holds, 0)
	data, err := env.FS.ReadFile(filepath.Join(env.Dir, stressCounterName))
	got, perr := strconv.Atoi(string(data))
	switch {
	case changed > 0 && b.CachingClient && overlapping == 0:
		t.Logf("readers saw the shared file change %d time(s) under them, yet no write overlapped a read: a client that caches attributes showed it as it was", changed)
	case changed > 0:
		t.Errorf("%s: readers saw the shared file change or half-written under them %d time(s)", rwViolation, changed)
	}
	switch {
	case writes == 0 && errors.Is(err, fs.ErrNotExist):
	case err != nil || perr != nil:
		t.Errorf("the shared file: %q, %v %v; want the number of writes, %d", data, err, perr, writes)
	case got != writes && b.CachingClient && overlapping == 0:
		t.Logf("the shared file says %d after %d writes, yet no two holds overlapped: a client that caches attributes", got, writes)
	case got != writes:
		t.Errorf("%s: the shared file says %d after %d writes: %d lost", rwViolation, got, writes, writes-got)
	}
	checkSharedLeftovers(t, env, stressCounterName, stressLockName+".readers")
	g.checkExits(t)
}

func testSemStress(t *testing.T, b Backend, runName string) {
	if b.Open == nil {
		t.Skip("backend lives in one process; multi-process stress needs a real directory")
	}
	procs := knobInt(t, semProcsKnob, 4)
	cycles := knobInt(t, semCyclesKnob, 20)
	slots := knobInt(t, semSlotsKnob, 2)
	lifetime := knobDuration(t, lifetimeKnob, 15*time.Second)
	slop := knobDuration(t, slopKnob, 10*time.Second)
	t.Setenv(jobSlotsEnv, strconv.Itoa(slots)) // the workers inherit it
	env := b.New(t)
	ctx, deadline := processContext(t)
	g := startWorkers(t, ctx, procs, job{
		role: roleSemStress, test: runName, dir: env.Dir, dir2: otherClient(b, env),
		cycles: cycles, lifetime: lifetime, slop: slop, deadline: deadline,
	})
	res := g.runCounters(t)
	g.logClients(t)
	over, most := 0, 0
	for _, d := range res.done {
		over += int(fieldInt(d, "over"))
		most = max(most, int(fieldInt(d, "most")))
	}
	t.Logf("%d processes × %d cycles, %d slots: %d slot holds in %v; the most holders a holder counted: %d", procs, cycles, slots, res.total(), round(res.elapsed), most)
	res.logFairness(t)
	overlapping := checkSharedHolds(t, g.holds, slots)
	switch {
	case over > 0 && b.CachingClient && overlapping == 0:
		t.Logf("holders counted more than %d holders %d time(s), yet the hold intervals never had more: a client that caches attributes", slots, over)
	case over > 0:
		t.Errorf("%s: holders counted more than %d holders %d time(s)", semViolation, slots, over)
	}
	data, err := env.FS.ReadFile(filepath.Join(env.Dir, stressHoldersName))
	if err != nil || strings.TrimSpace(string(data)) != "0" {
		t.Errorf("the holders' count file: %q, %v; want 0 once every holder left", data, err)
	}
	checkSharedLeftovers(t, env, stressHoldersName, stressLockName+".slots")
	g.checkExits(t)
}

// checkSharedLeftovers checks that the directory holds only the files named.
func checkSharedLeftovers(t *testing.T, env *Env, allowed ...string) {
	t.Helper()
	names, err := env.List()
	if err != nil {
		t.Errorf("listing %s: %v", env.Dir, err)
		return
	}
	extra := slices.DeleteFunc(names, func(n string) bool { return slices.Contains(allowed, n) })
	if len(extra) > 0 {
		t.Errorf("files left in %s after every lock was released: %q; want only %q", env.Dir, extra, allowed)
	}
}

// A sharedHold is one worker's interval holding the lock, in a mode ("r",
// "w", "slot").
type sharedHold struct {
	hold
	mode string
}

// checkSharedHolds reads the intervals the workers wrote in dir and fails
// the test if a write overlapped another process's hold (slots 0), or if
// more than slots processes held a slot at once. It returns how many
// violations it found.
func checkSharedHolds(t *testing.T, dir string, slots int) int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+sharedHoldsSuffix))
	if err != nil || len(files) == 0 {
		t.Errorf("reading the workers' hold intervals in %s: %v (%d files)", dir, err, len(files))
		return 0
	}
	var all []sharedHold
	for _, f := range files {
		pid := strings.TrimSuffix(filepath.Base(f), sharedHoldsSuffix)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Errorf("%v", err)
			return 0
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			var a, r int64
			var mode string
			if _, err := fmt.Sscan(sc.Text(), &a, &r, &mode); err != nil {
				t.Errorf("%s: %q: %v", f, sc.Text(), err)
				return 0
			}
			if r == 0 {
				r = a
			}
			all = append(all, sharedHold{hold{pid: pid, acq: time.Unix(0, a), rel: time.Unix(0, r)}, mode})
		}
	}
	slices.SortFunc(all, func(x, y sharedHold) int { return x.acq.Compare(y.acq) })
	bad := 0
	report := func(format string, args ...any) {
		bad++
		if bad <= 3 {
			t.Errorf(format, args...)
		}
	}
	if slots == 0 {
		for i, w := range all {
			if w.mode != "w" {
				continue
			}
			for j, o := range all {
				if i != j && o.pid != w.pid && o.acq.Before(w.rel) && w.acq.Before(o.rel) {
					report("%s: pid %s wrote from %s to %s, and pid %s held the lock (%s) from %s to %s",
						rwViolation, w.pid, w.acq.Format(time.RFC3339Nano), w.rel.Format(time.RFC3339Nano), o.pid, o.mode, o.acq.Format(time.RFC3339Nano), o.rel.Format(time.RFC3339Nano))
				}
			}
		}
	} else {
		for _, h := range all {
			n := 0
			for _, o := range all {
				if !o.acq.After(h.acq) && o.rel.After(h.acq) {
					n++
				}
			}
			if n > slots {
				report("%s: at %s, %d processes held slots of %d", semViolation, h.acq.Format(time.RFC3339Nano), n, slots)
			}
		}
	}
	if bad > 3 {
		t.Errorf("... and %d more", bad-3)
	}
	if bad == 0 {
		t.Logf("the %d holds the workers timed never broke the rule", len(all))
	}
	return bad
}

// sharedHoldLog is a worker's record of its holds, with their modes.
type sharedHoldLog struct {
	mu    sync.Mutex
	lines []string
	acq   int64
}

func (h *sharedHoldLog) acquired() {
	h.mu.Lock()
	h.acq = time.Now().UnixNano()
	h.mu.Unlock()
}

func (h *sharedHoldLog) releasing(mode string) {
	h.mu.Lock()
	h.lines = append(h.lines, fmt.Sprintf("%d %d %s", h.acq, time.Now().UnixNano(), mode))
	h.mu.Unlock()
}

func (h *sharedHoldLog) write(pid int) error {
	dir := os.Getenv(jobHoldsEnv)
	if dir == "" {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return os.WriteFile(filepath.Join(dir, strconv.Itoa(pid)+sharedHoldsSuffix), []byte(strings.Join(h.lines, "\n")+"\n"), 0o644)
}

// sharedOpts returns the options of a worker's locks.
func (w *worker) sharedOpts() []locker.Option {
	opts := []locker.Option{locker.WithLifetime(w.job.lifetime), locker.WithClockSlop(w.job.slop), locker.WithLogger(slog.New(&w.log))}
	if w.job.host != "" && !w.job.ownUTS {
		opts = append(opts, locker.WithHostname(w.job.host))
	}
	return opts
}

// awaitGo says the worker is ready and waits for the parent's "go".
func (w *worker) awaitGo(ctx context.Context, host string) bool {
	w.emit(msgReady, "pid", w.pid, "host", host, "dir", w.job.dir)
	select {
	case <-w.start:
		return true
	case <-ctx.Done():
		w.t.Errorf("stress worker: stopped before the parent said go: %v", ctx.Err())
		return false
	}
}

// readShared returns the contents of name, "" if there is none.
func readShared(fsys locker.FS, name string) (string, error) {
	data, err := fsys.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return string(data), err
}

// sharedStress does the job of a worker of RWLock/Stress or
// Semaphore/Stress.
func (w *worker) sharedStress(ctx context.Context) {
	if w.job.role == roleRWStress {
		w.rwStress(ctx)
	} else {
		w.semStress(ctx)
	}
}

// rwStress is a worker of RWLock/Stress.
func (w *worker) rwStress(ctx context.Context) {
	rw, err := locker.NewRWLock(filepath.Join(w.job.dir, stressLockName), w.fsys, w.sharedOpts()...)
	if err != nil {
		w.t.Fatalf("stress worker: %v", err)
	}
	if !w.awaitGo(ctx, rw.Gate().Hostname()) {
		return
	}
	name := filepath.Join(w.job.dir, stressCounterName)
	var holds sharedHoldLog
	var reads, writes, changed, errs int
	var firstErr error
	fail := func(err error) {
		errs++
		if firstErr == nil {
			firstErr = err
		}
	}
	start := time.Now()
	var maxWait time.Duration
	for range w.job.cycles {
		if ctx.Err() != nil {
			break
		}
		t0 := time.Now()
		if rand.IntN(4) == 0 {
			if err := rw.Lock(ctx); err != nil {
				fail(err)
				continue
			}
			maxWait = max(maxWait, time.Since(t0))
			holds.acquired()
			s, err := readShared(w.fsys, name)
			n := 0
			if err == nil && s != "" {
				n, err = strconv.Atoi(s)
			}
			if err == nil {
				err = writeShared(w.fsys, name, strconv.Itoa(n+1)+halfDone)
			}
			if err == nil {
				time.Sleep(time.Millisecond)
				err = writeShared(w.fsys, name, strconv.Itoa(n+1))
			}
			if err == nil {
				writes++
			} else {
				fail(err)
			}
			holds.releasing("w")
			if err := rw.Unlock(); err != nil {
				fail(err)
			}
		} else {
			if err := rw.RLock(ctx); err != nil {
				fail(err)
				continue
			}
			maxWait = max(maxWait, time.Since(t0))
			holds.acquired()
			before, err := readShared(w.fsys, name)
			if err == nil {
				time.Sleep(time.Millisecond)
				var after string
				after, err = readShared(w.fsys, name)
				if err == nil && (after != before || strings.HasSuffix(before, halfDone)) {
					changed++
					w.t.Errorf("%s: a reader read %q, then %q a moment later", rwViolation, before, after)
				}
			}
			if err == nil {
				reads++
			} else {
				fail(err)
			}
			holds.releasing("r")
			if err := rw.RUnlock(); err != nil {
				fail(err)
			}
		}
		w.done.Add(1)
	}
	if err := holds.write(w.pid); err != nil {
		w.t.Errorf("stress worker: writing its hold intervals: %v", err)
	}
	breaks, notes := w.log.report()
	w.emit(msgDone, "pid", w.pid, "cycles", w.done.Load(), "errors", errs, "elapsed", time.Since(start).Round(time.Microsecond),
		"maxwait", maxWait.Round(time.Microsecond), "first", start.UnixNano(), "breaks", breaks, "notes", notes,
		"reads", reads, "writes", writes, "changed", changed)
	if errs > 0 {
		w.t.Errorf("%d of %d cycles failed; the first: %v", errs, w.job.cycles, firstErr)
	}
}

// semStress is a worker of Semaphore/Stress.
func (w *worker) semStress(ctx context.Context) {
	slots, err := strconv.Atoi(os.Getenv(jobSlotsEnv))
	if err != nil {
		w.t.Fatalf("stress worker: %s: %v", jobSlotsEnv, err)
	}
	sem, err := locker.NewSemaphore(filepath.Join(w.job.dir, stressLockName), slots, w.fsys, w.sharedOpts()...)
	if err != nil {
		w.t.Fatalf("stress worker: %v", err)
	}
	count, err := locker.New(filepath.Join(w.job.dir, stressHoldersLock), w.fsys, w.sharedOpts()...)
	if err != nil {
		w.t.Fatalf("stress worker: %v", err)
	}
	if !w.awaitGo(ctx, sem.Gate().Hostname()) {
		return
	}
	name := filepath.Join(w.job.dir, stressHoldersName)
	// add adds d to the count of holders under the exclusive lock, and
	// returns the new count.
	add := func(d int) (int, error) {
		if err := count.Lock(ctx); err != nil {
			return 0, err
		}
		s, err := readShared(w.fsys, name)
		n := 0
		if err == nil && s != "" {
			n, err = strconv.Atoi(s)
		}
		if err == nil {
			n += d
			err = writeShared(w.fsys, name, strconv.Itoa(n))
		}
		if uerr := count.Unlock(); err == nil {
			err = uerr
		}
		return n, err
	}
	var holds sharedHoldLog
	var over, most, errs int
	var firstErr error
	fail := func(err error) {
		errs++
		if firstErr == nil {
			firstErr = err
		}
	}
	start := time.Now()
	var maxWait time.Duration
	for range w.job.cycles {
		if ctx.Err() != nil {
			break
		}
		t0 := time.Now()
		if _, err := sem.Acquire(ctx); err != nil {
			fail(err)
			continue
		}
		maxWait = max(maxWait, time.Since(t0))
		holds.acquired()
		n, err := add(1)
		if err == nil {
			most = max(most, n)
			if n > slots {
				over++
				w.t.Errorf("%s: a holder counted %d holders of %d slots", semViolation, n, slots)
			}
			time.Sleep(2 * time.Millisecond)
			_, err = add(-1)
		}
		if err != nil {
			fail(err)
		}
		holds.releasing("slot")
		if err := sem.Release(); err != nil {
			fail(err)
		}
		w.done.Add(1)
	}
	if err := holds.write(w.pid); err != nil {
		w.t.Errorf("stress worker: writing its hold intervals: %v", err)
	}
	breaks, notes := w.log.report()
	w.emit(msgDone, "pid", w.pid, "cycles", w.done.Load(), "errors", errs, "elapsed", time.Since(start).Round(time.Microsecond),
		"maxwait", maxWait.Round(time.Microsecond), "first", start.UnixNano(), "breaks", breaks, "notes", notes,
		"over", over, "most", most)
	if errs > 0 {
		w.t.Errorf("%d of %d cycles failed; the first: %v", errs, w.job.cycles, firstErr)
	}
}
