package conformance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// This file is the worker side of the stress tests: what a re-executed test
// binary does when workerEnv is set. The parent side is in stress.go.
//
// A worker's job comes in environment variables (see job). It talks to the
// parent through its standard streams, one line per message:
//
//	parent → worker (stdin)    "go"        start the cycles (counter role)
//	                           "report"    print a progress line now
//	                           end of file the parent is gone: stop at once
//	worker → parent (stdout)   nfslock-worker: ready pid=...
//	                           nfslock-worker: holding pid=... claim=... start=...
//	                           nfslock-worker: progress pid=... cycles=...
//	                           nfslock-worker: done pid=... cycles=... errors=... elapsed=... maxwait=... first=...
//
// Closing stdin on end of file makes a worker that lost its parent (killed
// with the test binary) exit instead of holding the lock forever.

// The worker roles, the value of workerEnv.
const (
	roleCounter = "counter" // increment the counter file under the lock, cycles times
	roleHold    = "hold"    // take the lock and keep it until killed
	roleKeep    = "keep"    // take the lock, keep it alive for a while, release it
)

// Environment variables carrying the rest of a worker's job.
const (
	jobTestEnv     = "NFSLOCK_CONFORMANCE_TEST"     // t.Name() of the test that calls Run
	jobDirEnv      = "NFSLOCK_CONFORMANCE_DIR"      // Env.Dir
	jobCyclesEnv   = "NFSLOCK_CONFORMANCE_CYCLES"   // counter role: number of increments
	jobLifetimeEnv = "NFSLOCK_CONFORMANCE_LIFETIME" // locker.WithLifetime
	jobSlopEnv     = "NFSLOCK_CONFORMANCE_SLOP"     // locker.WithClockSlop
	jobDeadlineEnv = "NFSLOCK_CONFORMANCE_DEADLINE" // RFC 3339; empty for none
	jobHostEnv     = "NFSLOCK_CONFORMANCE_HOST"     // the host name to play, or empty
	jobOwnUTSEnv   = "NFSLOCK_CONFORMANCE_OWN_UTS"  // "1": the worker has a UTS namespace of its own
	jobHoldEnv     = "NFSLOCK_CONFORMANCE_HOLD"     // keep role: how long to keep the lock
	jobFairEnv     = "NFSLOCK_CONFORMANCE_FAIR"     // "true": the worker's Locks queue (locker.WithFairness)
)

// Names of the files the workers share in Env.Dir.
const (
	stressLockName    = "stress.lock"
	stressCounterName = "counter"
)

// workerPrefix starts every line of the protocol on a worker's stdout. Other
// lines there are the testing package's own output.
const workerPrefix = "nfslock-worker: "

// Protocol messages.
const (
	msgReady    = "ready"
	msgHolding  = "holding"
	msgRelease  = "releasing"
	msgProgress = "progress"
	msgDone     = "done"
	cmdGo       = "go"
	cmdReport   = "report"
)

// job is what a worker process is asked to do.
type job struct {
	role     string
	test     string
	dir      string
	cycles   int
	lifetime time.Duration
	slop     time.Duration
	deadline time.Time // zero: none
	host     string    // the host name the worker plays, or "" for this host's
	ownUTS   bool      // the worker runs in a UTS namespace of its own
	hold     time.Duration
	fair     bool // the worker's Locks queue (locker.WithFairness)
	// dir2 is dir reached through a second client: every other worker
	// works there, playing another host (see startWorkers).
	dir2 string
	// allSecond puts every worker on the second client.
	allSecond bool
}

// environ returns the environment variables that pass j to a worker.
func (j job) environ() []string {
	deadline := ""
	if !j.deadline.IsZero() {
		deadline = j.deadline.Format(time.RFC3339Nano)
	}
	return []string{
		workerEnv + "=" + j.role,
		jobTestEnv + "=" + j.test,
		jobDirEnv + "=" + j.dir,
		jobCyclesEnv + "=" + strconv.Itoa(j.cycles),
		jobLifetimeEnv + "=" + j.lifetime.String(),
		jobSlopEnv + "=" + j.slop.String(),
		jobDeadlineEnv + "=" + deadline,
		jobHostEnv + "=" + j.host,
		jobOwnUTSEnv + "=" + strconv.FormatBool(j.ownUTS),
		jobHoldEnv + "=" + j.hold.String(),
		jobFairEnv + "=" + strconv.FormatBool(j.fair),
	}
}

// jobFromEnv reads the job the parent passed.
func jobFromEnv() (job, error) {
	j := job{
		role: os.Getenv(workerEnv),
		test: os.Getenv(jobTestEnv),
		dir:  os.Getenv(jobDirEnv),
		host: os.Getenv(jobHostEnv),
	}
	j.ownUTS = os.Getenv(jobOwnUTSEnv) == "true"
	j.fair = os.Getenv(jobFairEnv) == "true"
	var err error
	if j.hold, err = time.ParseDuration(os.Getenv(jobHoldEnv)); err != nil {
		return j, fmt.Errorf("%s: %w", jobHoldEnv, err)
	}
	if j.cycles, err = strconv.Atoi(os.Getenv(jobCyclesEnv)); err != nil {
		return j, fmt.Errorf("%s: %w", jobCyclesEnv, err)
	}
	if j.lifetime, err = time.ParseDuration(os.Getenv(jobLifetimeEnv)); err != nil {
		return j, fmt.Errorf("%s: %w", jobLifetimeEnv, err)
	}
	if j.slop, err = time.ParseDuration(os.Getenv(jobSlopEnv)); err != nil {
		return j, fmt.Errorf("%s: %w", jobSlopEnv, err)
	}
	if s := os.Getenv(jobDeadlineEnv); s != "" {
		if j.deadline, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return j, fmt.Errorf("%s: %w", jobDeadlineEnv, err)
		}
	}
	if j.dir == "" {
		return j, fmt.Errorf("%s is empty", jobDirEnv)
	}
	return j, nil
}

// runWorker does the job of a worker process: see stress.go. The parent reads
// its report from stdout; a failed job also fails t, so the process exits
// with a non-zero status.
func runWorker(t *testing.T, b Backend) {
	j, err := jobFromEnv()
	if err != nil {
		t.Fatalf("stress worker: bad job from the parent process: %v", err)
	}
	if j.test != t.Name() {
		// The binary calls Run from more than one test: this is not the
		// one that asked for workers.
		t.Skipf("stress worker for %s, not for this test", j.test)
	}
	if b.Open == nil {
		t.Fatalf("stress worker: backend %s has no Open, so it cannot reach the parent's directory", b.Name)
	}
	if j.ownUTS {
		// Play another machine: the lock finds this name as it would
		// find any host's.
		if err := setHostname(j.host); err != nil {
			t.Fatalf("stress worker: setting the host name %q in its own UTS namespace: %v", j.host, err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if !j.deadline.IsZero() {
		var cancelDeadline context.CancelFunc
		ctx, cancelDeadline = context.WithDeadline(ctx, j.deadline)
		defer cancelDeadline()
	}
	w := &worker{t: t, job: j, fsys: b.Open(j.dir), pid: os.Getpid(), start: make(chan struct{})}
	go w.readCommands(cancel)
	switch j.role {
	case roleCounter:
		w.count(ctx)
	case roleHold:
		w.hold(ctx)
	case roleKeep:
		w.keep(ctx)
	case roleSurvive:
		w.survive(ctx)
	case roleContend:
		w.contend(ctx)
	case roleRWStress, roleSemStress: // shared_stress.go
		w.sharedStress(ctx)
	default:
		t.Fatalf("stress worker: unknown role %q in %s", j.role, workerEnv)
	}
}

// worker is the state of one worker process.
type worker struct {
	t     *testing.T
	job   job
	fsys  locker.FS
	pid   int
	start chan struct{} // closed by the "go" command
	done  atomic.Int64  // increments made so far
	outMu sync.Mutex
	log   lockEvents // what the worker's locks logged
	holds holdLog    // when it held the lock
}

// emit prints one protocol line: msg, then key=value pairs.
func (w *worker) emit(msg string, kv ...any) {
	var b strings.Builder
	b.WriteString(workerPrefix)
	b.WriteString(msg)
	for i := 0; i+1 < len(kv); i += 2 {
		v := fmt.Sprint(kv[i+1])
		if v == "" || strings.ContainsAny(v, " \t\"=") {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&b, " %s=%s", kv[i], v)
	}
	b.WriteString("\n")
	w.outMu.Lock()
	defer w.outMu.Unlock()
	os.Stdout.WriteString(b.String())
}

// readCommands obeys the parent's commands on stdin until end of file, and
// then calls stop: a worker must not outlive its parent.
func (w *worker) readCommands(stop func()) {
	defer stop()
	started := false
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		switch sc.Text() {
		case cmdGo:
			if !started {
				started = true
				close(w.start)
			}
		case cmdReport:
			w.emit(msgProgress, "pid", w.pid, "cycles", w.done.Load())
		}
	}
}

func (w *worker) newLock() *locker.Lock {
	opts := []locker.Option{locker.WithLifetime(w.job.lifetime), locker.WithClockSlop(w.job.slop), locker.WithLogger(slog.New(&w.log))}
	if w.job.host != "" && !w.job.ownUTS {
		opts = append(opts, locker.WithHostname(w.job.host))
	}
	if w.job.fair {
		opts = append(opts, locker.WithFairness(true))
	}
	l, err := locker.New(filepath.Join(w.job.dir, stressLockName), w.fsys, opts...)
	if err != nil {
		w.t.Fatalf("stress worker: %v", err)
	}
	return l
}

// count increments the counter file under the lock, job.cycles times. A
// failed cycle is counted and the loop goes on, so that one error does not
// hide whether the others lost updates; the run fails at the end.
func (w *worker) count(ctx context.Context) {
	l := w.newLock()
	counter := filepath.Join(w.job.dir, stressCounterName)
	w.emit(msgReady, "pid", w.pid, "host", l.Hostname(), "dir", w.job.dir)
	select {
	case <-w.start:
	case <-ctx.Done():
		w.t.Fatalf("stress worker: stopped before the parent said go: %v", ctx.Err())
	}
	var (
		errs     int
		firstErr error
		first    time.Time // first acquisition
		maxWait  time.Duration
		start    = time.Now()
	)
	for range w.job.cycles {
		if ctx.Err() != nil {
			break
		}
		t0 := time.Now()
		incremented, err := cycle(ctx, l, w.fsys, counter, &w.holds, func() {
			maxWait = max(maxWait, time.Since(t0))
			if first.IsZero() {
				first = time.Now()
			}
		})
		if incremented {
			w.done.Add(1)
		}
		if err != nil {
			errs++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	firstNanos := int64(0)
	if !first.IsZero() {
		firstNanos = first.UnixNano()
	}
	if err := w.holds.write(os.Getenv(jobHoldsEnv), w.pid); err != nil {
		w.t.Errorf("stress worker: writing its hold intervals: %v", err)
	}
	breaks, notes := w.log.report()
	w.emit(msgDone, "pid", w.pid, "cycles", w.done.Load(), "errors", errs,
		"elapsed", time.Since(start).Round(time.Microsecond), "maxwait", maxWait.Round(time.Microsecond), "first", firstNanos,
		"breaks", breaks, "notes", notes)
	if ctx.Err() != nil && w.done.Load() < int64(w.job.cycles) {
		w.t.Errorf("stopped after %d of %d cycles: %v", w.done.Load(), w.job.cycles, ctx.Err())
	}
	if errs > 0 {
		w.t.Errorf("%d of %d cycles failed; the first: %v", errs, w.job.cycles, firstErr)
	}
}

// cycle takes the lock, adds one to the number in the counter file and
// releases the lock. It calls acquired once the lock is held, and reports
// whether it wrote the incremented number.
func cycle(ctx context.Context, l *locker.Lock, fsys locker.FS, counter string, holds *holdLog, acquired func()) (bool, error) {
	if err := l.Lock(ctx); err != nil {
		return false, err
	}
	holds.acquired()
	acquired()
	n, err := readCounter(fsys, counter)
	wrote := false
	if err == nil {
		err = writeCounter(fsys, counter, n+1)
		wrote = err == nil
	}
	holds.releasing()
	if uerr := l.Unlock(); uerr != nil {
		err = errors.Join(err, uerr)
	}
	return wrote, err
}

// writeCounter replaces the counter file with one holding n. A locker.FS
// writes only new files, so it writes name.PID.new and renames it over name;
// one left by a crash of this process's pid between the two is replaced.
// The name is the process's own, so that no other client ever renames it
// away: a client that caches entries would go on seeing it.
//
// On NFS a call whose reply was lost is sent again, and one that was done
// then fails: a remove with ENOENT, a rename with ENOENT (the .new file is
// gone, and the counter holds n). Those count as done, so that the stress
// tests with lost replies injected judge the lock, not this bookkeeping.
func writeCounter(fsys locker.FS, name string, n int) error {
	return writeShared(fsys, name, strconv.Itoa(n))
}

// writeShared replaces the file name with data, as writeCounter says.
func writeShared(fsys locker.FS, name, data string) error {
	tmp := name + "." + strconv.Itoa(os.Getpid()) + ".new"
	err := fsys.WriteFile(tmp, []byte(data), 0o666)
	if errors.Is(err, fs.ErrExist) {
		if err = fsys.Remove(tmp); err == nil || errors.Is(err, fs.ErrNotExist) {
			err = fsys.WriteFile(tmp, []byte(data), 0o666)
		}
	}
	if err != nil {
		return err
	}
	err = fsys.Rename(tmp, name)
	if errors.Is(err, fs.ErrNotExist) {
		_, serr := fsys.Stat(tmp)
		got, rerr := fsys.ReadFile(name)
		if errors.Is(serr, fs.ErrNotExist) && rerr == nil && string(got) == data {
			return nil // done, its reply lost
		}
	}
	return err
}

// readCounter returns the number in the counter file, 0 if there is none.
func readCounter(fsys locker.FS, name string) (int, error) {
	data, err := fsys.ReadFile(name)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(string(data))
	if err != nil {
		return 0, fmt.Errorf("counter file %s holds %q, not a number: another process was writing it while this one held the lock", name, data)
	}
	return n, nil
}

// hold takes the lock, says so, and keeps it until the parent kills the
// process. If the parent goes away instead, it releases the lock.
func (w *worker) hold(ctx context.Context) {
	l := w.newLock()
	start := time.Now()
	if err := l.Lock(ctx); err != nil {
		w.t.Fatalf("stress worker: %v", err)
	}
	w.emit(msgHolding, "pid", w.pid, "host", l.Hostname(), "claim", filepath.Base(l.ClaimFile()), "start", start.UnixNano())
	<-ctx.Done()
	err := l.UnlockUnconditionally()
	w.t.Errorf("stress worker: asked to hold the lock until killed, but the parent went away (%v); released it: %v", ctx.Err(), err)
}

// keep takes the lock, keeps it alive with KeepAlive for job.hold (several
// lifetimes), and releases it. It reports whether the keep-alive ever lost
// the lock: waiters on other clients must see every refresh and never break
// it.
func (w *worker) keep(ctx context.Context) {
	l := w.newLock()
	if err := l.Lock(ctx); err != nil {
		w.t.Fatalf("stress worker: %v", err)
	}
	ka, err := l.KeepAlive(ctx)
	if err != nil {
		w.t.Fatalf("stress worker: KeepAlive: %v", err)
	}
	w.emit(msgHolding, "pid", w.pid, "host", l.Hostname(), "claim", filepath.Base(l.ClaimFile()), "start", time.Now().UnixNano())
	lost := ""
	select {
	case <-time.After(w.job.hold):
	case <-ka.Lost():
		lost = fmt.Sprint(ka.Err())
	case <-ctx.Done():
		w.t.Errorf("stress worker: stopped while keeping the lock: %v", ctx.Err())
	}
	if lost == "" && !l.IsLocked() {
		lost = "IsLocked is false at the end of the hold"
	}
	w.emit(msgRelease, "pid", w.pid, "at", time.Now().UnixNano(), "lost", lost)
	if err := l.Unlock(); err != nil && lost == "" {
		w.t.Errorf("stress worker: Unlock after keeping the lock: %v", err)
	}
	breaks, notes := w.log.report()
	w.emit(msgDone, "pid", w.pid, "cycles", 0, "errors", 0, "lost", lost, "breaks", breaks, "notes", notes)
}
