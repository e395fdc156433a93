package conformance

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// workerEnv, set in a process's environment, makes Run do the job of a
// stress worker instead of running the suite. Its value is the worker's role.
const workerEnv = "NFSLOCK_CONFORMANCE_WORKER"

// Knobs of the stress tests: environment variables, read when the tests run.
// Environment variables rather than flags, because a flag of a library
// package would be registered in every test binary that imports it and
// would make "go test ./..." fail in the packages that do not, while an
// environment variable reaches every test binary (and every worker) alike.
const (
	procsKnob         = "NFSLOCK_STRESS_PROCS"
	cyclesKnob        = "NFSLOCK_STRESS_CYCLES"
	lifetimeKnob      = "NFSLOCK_STRESS_LIFETIME"
	slopKnob          = "NFSLOCK_STRESS_SLOP"
	crashProcsKnob    = "NFSLOCK_STRESS_CRASH_PROCS"
	crashCyclesKnob   = "NFSLOCK_STRESS_CRASH_CYCLES"
	crashLifetimeKnob = "NFSLOCK_STRESS_CRASH_LIFETIME"
	crashSlopKnob     = "NFSLOCK_STRESS_CRASH_SLOP"
)

// runStress runs the multi-process stress tests: several processes, each a
// re-execution of the test binary (see Run), contend for one lock file in
// one directory made by b.New and reached in each worker with b.Open.
//
//	Stress/Counter  NFSLOCK_STRESS_PROCS workers (default 4) each take the
//	                lock NFSLOCK_STRESS_CYCLES times (default 100), and
//	                under it add one to a number in a shared file. The file
//	                must end up holding the number of increments made: a
//	                lost update means two processes held the lock at once.
//	                The lock's lifetime and clock slop are
//	                NFSLOCK_STRESS_LIFETIME and NFSLOCK_STRESS_SLOP (default
//	                15s and 10s, flufl.lock's), long enough that no lock
//	                expires: the test is about exclusion, not breaking.
//	Stress/Crash    a worker takes the lock and is killed (SIGKILL) while
//	                holding it; then NFSLOCK_STRESS_CRASH_PROCS workers
//	                (default 2) each make NFSLOCK_STRESS_CRASH_CYCLES
//	                increments (default 20) with a lifetime of
//	                NFSLOCK_STRESS_CRASH_LIFETIME and a slop of
//	                NFSLOCK_STRESS_CRASH_SLOP (by default 2s and 1s, or 3 and
//	                1 timestamp granules where that is more). They must break
//	                the dead worker's lock once it has been expired for the
//	                slop, and not before, and lose no update.
//	Stress/RefreshWhileOthersWait  a worker keeps the lock alive with
//	                KeepAlive for several lifetimes while others (on the
//	                second client, if there is one) wait: none may break it.
//	Stress/KillWaiters  workers killed with SIGKILL while they wait leave
//	                claim files; the survivors must remove them (see
//	                testKillWaiters in stress_kill.go for its knobs).
//
// All check that no file but the counter is left in the directory, and log
// what they measured: throughput, the cycles each process had made when the
// first finished (a starved process shows up there), the longest wait for
// the lock, and the time it took to recover a dead holder's lock.
//
// Durations are Go durations ("2s", "500ms"). With Backend.OtherClient,
// every test spreads its workers over the two clients, each side playing a
// host of its own.
//
// A backend without Open (one that lives in a single process, like memfs)
// skips these tests.
func runStress(t *testing.T, b Backend) {
	if b.Open == nil {
		t.Skip("backend lives in one process; multi-process stress needs a real directory")
	}
	// Workers re-run the test that called Run: t is its subtest "Stress".
	runName := t.Name()[:strings.LastIndex(t.Name(), "/")]
	t.Run("Counter", func(t *testing.T) { testCounter(t, b, runName, false) })
	t.Run("FairCounter", func(t *testing.T) { testCounter(t, b, runName, true) })
	t.Run("Crash", func(t *testing.T) { testCrash(t, b, runName) })
	t.Run("RefreshWhileOthersWait", func(t *testing.T) { testRefreshWhileOthersWait(t, b, runName) })
	t.Run("KillWaiters", func(t *testing.T) { testKillWaiters(t, b, runName) })
}

// Host names the workers play when they are split over two clients.
const (
	clientAHost = "nfslock-client-a"
	clientBHost = "nfslock-client-b"
)

// otherClient returns env's directory through the backend's second client,
// or "" if it has none.
func otherClient(b Backend, env *Env) string {
	if b.OtherClient == nil {
		return ""
	}
	return b.OtherClient(env.Dir)
}

// shortLease returns the lifetime and slop of the tests in which locks
// expire: as short as the filesystem's timestamp granularity allows (a lock
// refuses a lifetime of two granules or less).
//
// Not shorter than 2 s and 1 s, though: a worker that the machine starves of
// CPU for longer than lifetime + slop (a loaded CI machine running the race
// detector) rightly loses its lock, which the test would report as a failed
// cycle.
func shortLease(b Backend) (lifetime, slop time.Duration) {
	return max(2*time.Second, 3*b.TimeGranularity), max(time.Second, b.TimeGranularity)
}

// testCounter: several processes increment a shared counter under the lock;
// with fair, their Locks queue (locker.WithFairness), for half the cycles:
// the queue's files come and go through the same filesystem, and must
// neither let two in nor stay behind.
func testCounter(t *testing.T, b Backend, runName string, fair bool) {
	procs := knobInt(t, procsKnob, 4)
	cycles := knobInt(t, cyclesKnob, 100)
	lifetime := knobDuration(t, lifetimeKnob, 15*time.Second)
	slop := knobDuration(t, slopKnob, 10*time.Second)

	env := b.New(t)
	if fair {
		if _, ok := env.FS.(locker.DirReader); !ok {
			t.Skipf("%s cannot list a directory (it is no locker.DirReader): no Lock queues there (WithFairness needs a listing)", b.Name)
		}
		if b.CachingClient {
			// Seen on sshfs with its default caching: the head of the
			// queue, on the caching client, saw the lock file that was
			// gone, and everyone waited behind it for minutes.
			t.Skipf("%s has a client that caches attributes and entries: there the head of the queue can see a lock file long gone, and every waiter waits behind it (WithFairness needs clients that do not cache; docs/network-filesystems.md)", b.Name)
		}
		cycles = max(cycles/2, 1)
	}
	ctx, deadline := processContext(t)
	g := startWorkers(t, ctx, procs, job{
		role: roleCounter, test: runName, dir: env.Dir, dir2: otherClient(b, env),
		cycles: cycles, lifetime: lifetime, slop: slop, deadline: deadline, fair: fair,
	})
	res := g.runCounters(t)
	g.logClients(t)

	total := res.total()
	t.Logf("%d processes × %d cycles (lifetime %v, slop %v): %d increments in %v, %.0f cycles/s",
		procs, cycles, lifetime, slop, total, round(res.elapsed), float64(total)/res.elapsed.Seconds())
	res.logFairness(t)

	checkCounter(t, b, env, g, total)
	checkLeftovers(t, env, "")
	g.checkExits(t)
}

// testCrash: a holder dies; the waiters break its lock after lifetime + slop.
func testCrash(t *testing.T, b Backend, runName string) {
	procs := knobInt(t, crashProcsKnob, 2)
	cycles := knobInt(t, crashCyclesKnob, 20)
	defLifetime, defSlop := shortLease(b)
	lifetime := knobDuration(t, crashLifetimeKnob, defLifetime)
	slop := knobDuration(t, crashSlopKnob, defSlop)

	env := b.New(t)
	if g, ok := timeGranularity(env); ok && g >= lifetime/2 {
		t.Logf("note: this filesystem stores file times to %v, which is not well below the lifetime %v; raise %s if this test fails",
			g, lifetime, crashLifetimeKnob)
	}
	ctx, deadline := processContext(t)
	base := job{test: runName, dir: env.Dir, dir2: otherClient(b, env), lifetime: lifetime, slop: slop, deadline: deadline}

	holdJob := base
	holdJob.role = roleHold
	holder := startWorkers(t, ctx, 1, holdJob)
	ev := holder.await(t, msgHolding)
	if err := holder.procs[0].cmd.Process.Kill(); err != nil {
		t.Fatalf("killing the worker that holds the lock: %v", err)
	}
	killed := time.Now()
	<-holder.procs[0].exited
	claim := ev.fields["claim"]

	// The dead holder's lock must still be there: its lock file, dated with
	// its expiry, and its claim file.
	lockPath := filepath.Join(env.Dir, stressLockName)
	fi, err := env.FS.Stat(lockPath)
	if err != nil {
		t.Fatalf("the killed holder's lock file: %v (want it left behind by the killed process)", err)
	}
	expiry := fi.ModTime
	names, err := env.List()
	if err != nil {
		t.Fatalf("listing %s: %v", env.Dir, err)
	}
	if !slices.Contains(names, claim) {
		t.Fatalf("the killed holder's claim file %q is missing after the kill; directory holds %q", claim, names)
	}

	counterJob := base
	counterJob.role, counterJob.cycles = roleCounter, cycles
	g := startWorkers(t, ctx, procs, counterJob)
	res := g.runCounters(t)
	g.logClients(t)

	total := res.total()
	t.Logf("holder pid %s on host %s killed while holding; its lock expired %v after the kill and could be broken from %v after (lifetime %v, slop %v)",
		ev.fields["pid"], ev.fields["host"], round(expiry.Sub(killed)), round(expiry.Add(slop).Sub(killed)), lifetime, slop)
	if first, ok := res.firstAcquired(); !ok {
		t.Errorf("no worker ever took the lock after its holder was killed")
	} else {
		t.Logf("recovered: the first waiter took the lock %v after the kill, %v after it could be broken (lifetime + slop = %v); %d processes × %d cycles: %d increments",
			round(first.Sub(killed)), round(first.Sub(expiry.Add(slop))), lifetime+slop, procs, cycles, total)
		if first.Before(expiry.Add(slop)) {
			t.Errorf("the dead holder's lock was broken at %v, before its expiry %v plus the clock slop %v",
				first.Format(time.RFC3339Nano), expiry.Format(time.RFC3339Nano), slop)
		}
	}
	res.logFairness(t)

	checkCounter(t, b, env, g, total)
	checkLeftovers(t, env, claim)
	g.checkExits(t)
}

// testRefreshWhileOthersWait: a holder keeps its lock alive with KeepAlive
// for several lifetimes while waiters (on the other client, when there is
// one) wait for it. No waiter may break the live, refreshed lock: each must
// take it only after the holder released it, and the holder must never learn
// that it lost it.
func testRefreshWhileOthersWait(t *testing.T, b Backend, runName string) {
	procs := knobInt(t, crashProcsKnob, 2)
	lifetime, slop := shortLease(b)
	hold := 2 * (lifetime + slop)

	env := b.New(t)
	ctx, deadline := processContext(t)
	base := job{test: runName, dir: env.Dir, lifetime: lifetime, slop: slop, deadline: deadline}
	keepJob := base
	keepJob.role, keepJob.hold = roleKeep, hold
	keepJob.dir2 = otherClient(b, env) // one worker: it works through the first client
	holder := startWorkers(t, ctx, 1, keepJob)
	ev := holder.await(t, msgHolding)

	waitJob := base
	waitJob.role, waitJob.cycles = roleCounter, 1
	waitJob.dir2, waitJob.allSecond = otherClient(b, env), true // every waiter on the other client
	waiters := startWorkers(t, ctx, procs, waitJob)
	res := waiters.runCounters(t)
	waiters.logClients(t)
	rel := holder.await(t, msgRelease)
	released := time.Unix(0, fieldInt(rel.fields, "at"))
	t.Logf("holder pid %s on host %s kept the lock %v (lifetime %v, slop %v) while %d waiters waited; lost: %q",
		ev.fields["pid"], ev.fields["host"], hold, lifetime, slop, procs, rel.fields["lost"])
	if lost := rel.fields["lost"]; lost != "" {
		t.Errorf("MUTUAL EXCLUSION VIOLATED: the holder, refreshing with KeepAlive, lost its lock while others waited: %s", lost)
	}
	res.logFairness(t)
	for i, d := range res.done {
		if n := fieldInt(d, "breaks"); n > 0 {
			t.Errorf("MUTUAL EXCLUSION VIOLATED: waiter pid %s broke the lock %d time(s) while its holder kept it alive with KeepAlive", d["pid"], n)
		}
		at := time.Unix(0, fieldInt(d, "first"))
		if d == nil || fieldInt(d, "first") == 0 {
			t.Errorf("waiter %d never took the lock", i+1)
			continue
		}
		if at.Before(released) {
			t.Errorf("MUTUAL EXCLUSION VIOLATED: waiter pid %s took the lock at %s, %v before the refreshing holder began to release it",
				d["pid"], at.Format(time.RFC3339Nano), round(released.Sub(at)))
		}
	}
	checkCounter(t, b, env, waiters, res.total())
	checkLeftovers(t, env, "")
	holder.checkExits(t)
	waiters.checkExits(t)
}

// checkCounter compares the shared counter with the increments the workers
// report.
//
// It first checks the hold intervals the workers of g wrote down (see
// stress_holds.go): they judge mutual exclusion whatever the client shows of
// the counter file. Where the backend has a client that caches attributes
// (Backend.CachingClient), a counter short of the increments while no two
// holds overlapped is that client's stale reads of the counter file, and is
// reported as such rather than as a failure of the lock.
func checkCounter(t *testing.T, b Backend, env *Env, g *workerGroup, increments int) {
	t.Helper()
	n, bad := checkHolds(t, g.holds)
	overlapped := bad > 0
	if !overlapped {
		t.Logf("no two of the %d holds the workers timed overlapped", n)
	}
	name := filepath.Join(env.Dir, stressCounterName)
	got, err := readCounter(env.FS, name)
	switch {
	case err != nil:
		t.Errorf("reading the counter: %v", err)
	case got < increments && b.CachingClient && !overlapped:
		t.Logf("the counter file says %d after %d increments (%d lost), yet no two holds overlapped: a client that caches attributes showed the counter file as it was (its old size or contents), which no lock can prevent; mount with caching off",
			got, increments, increments-got)
	case got < increments:
		t.Errorf("MUTUAL EXCLUSION VIOLATED: %d lost updates: the workers made %d increments under the lock, the counter file says %d",
			increments-got, increments, got)
	case got > increments:
		t.Errorf("the counter file says %d, but the workers made only %d increments", got, increments)
	}
}

// checkLeftovers checks that the directory holds nothing but the counter
// file. deadClaim, if not empty, is the claim file of a killed holder.
func checkLeftovers(t *testing.T, env *Env, deadClaim string) {
	t.Helper()
	names, err := env.List()
	if err != nil {
		t.Errorf("listing %s: %v", env.Dir, err)
		return
	}
	if client := clientFilesIn(env.Dir); len(client) > 0 {
		// The client's, not the lock's: report them apart, and how long
		// they stay.
		start := time.Now()
		for len(clientFilesIn(env.Dir)) > 0 && time.Since(start) < 10*time.Second {
			time.Sleep(50 * time.Millisecond)
		}
		if left := clientFilesIn(env.Dir); len(left) > 0 {
			t.Logf("the filesystem's client keeps %d file(s) removed while open (such as %q) %v after the workers ended; they are the client's, not the lock's",
				len(left), left[0], round(time.Since(start)+clientFileWait))
		} else {
			t.Logf("the filesystem's client kept %d file(s) removed while open (such as %q) for up to %v after the workers ended; they are the client's, not the lock's",
				len(client), client[0], round(time.Since(start)+clientFileWait))
		}
	}
	var extra []string
	for _, n := range names {
		if n != stressCounterName {
			extra = append(extra, n)
		}
	}
	if deadClaim != "" && slices.Contains(extra, deadClaim) {
		t.Errorf("the killed holder's claim file %q is still there after its lock was broken", deadClaim)
	}
	if len(extra) > 0 {
		t.Errorf("files left in %s after every lock was released: %q; want only %q", env.Dir, extra, stressCounterName)
	}
}

// timeGranularity finds how finely env's filesystem stores modification
// times, by setting one with nine significant decimals and reading it back.
func timeGranularity(env *Env) (time.Duration, bool) {
	name := filepath.Join(env.Dir, "granularity-probe")
	defer env.FS.Remove(name)
	want := time.Unix(time.Now().Unix()+3600, 987654321)
	if env.FS.WriteFile(name, nil, 0o666) != nil || env.FS.Chtimes(name, want, want) != nil {
		return 0, false
	}
	fi, err := env.FS.Stat(name)
	if err != nil {
		return 0, false
	}
	for _, g := range []time.Duration{1, time.Microsecond, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second, 2 * time.Second} {
		if fi.ModTime.Equal(want.Truncate(g)) || fi.ModTime.Equal(want.Round(g)) {
			return g, true
		}
	}
	return 0, false
}

// processContext returns the context the workers run under, which ends
// shortly before the test's deadline so that a stuck worker is killed and
// reported rather than the whole binary timing out, and the deadline the
// workers give their own waits (zero if the test has none).
func processContext(t *testing.T) (context.Context, time.Time) {
	ctx := t.Context()
	dl, ok := t.Deadline()
	if !ok {
		return ctx, time.Time{}
	}
	left := time.Until(dl)
	ctx, cancel := context.WithDeadline(ctx, dl.Add(-min(left/10, 10*time.Second)))
	t.Cleanup(cancel)
	kill, _ := ctx.Deadline()
	// The workers stop waiting a little earlier still, and report.
	return ctx, kill.Add(-min(left/20, 3*time.Second))
}

// A workerGroup is a set of worker processes doing one job.
type workerGroup struct {
	holds  string          // where the workers write when they held the lock
	ctx    context.Context // kills the workers when done
	procs  []*workerProc
	events chan workerEvent
	quit   chan struct{} // closed when the test ends: stop delivering events
}

// A workerProc is one worker process.
type workerProc struct {
	n      int // index in the group
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer  // read only after exited is closed
	exited chan struct{} // closed once the process has been waited for
	err    error         // from Wait; read only after exited is closed

	mu    sync.Mutex
	other []string          // stdout lines that are not protocol messages
	ready map[string]string // its ready or holding message
}

// A workerEvent is a protocol message from a worker, or its end of output.
type workerEvent struct {
	w      *workerProc
	msg    string // msgReady, ...; "" at end of output
	fields map[string]string
}

// holdsDir makes a directory for the workers' hold intervals (see
// stress_holds.go), removed when the test ends. Not t.TempDir: under Wine,
// removing files that other processes wrote can fail ("Invalid function"),
// and the test would fail for it; a directory left in the temporary
// directory there is harmless.
func holdsDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "nfslock-holds-*")
	if err != nil {
		t.Fatalf("making a directory for the workers' hold intervals: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startWorkers starts n processes doing job j. They are killed, and waited
// for, when the test ends or ctx is done.
func startWorkers(t *testing.T, ctx context.Context, n int, j job) *workerGroup {
	t.Helper()
	g := &workerGroup{
		holds:  holdsDir(t),
		ctx:    ctx,
		events: make(chan workerEvent, 8*n),
		quit:   make(chan struct{}),
	}
	args := workerArgs(j.test)
	for i := range n {
		cmd := exec.CommandContext(ctx, os.Args[0], args...)
		wj := j
		if j.dir2 != "" {
			// Two clients: even workers on the first, odd ones on the
			// second, each side playing a host of its own.
			wj.host = clientAHost
			if i%2 == 1 || j.allSecond {
				wj.dir, wj.host = j.dir2, clientBHost
			}
			wj.ownUTS = inOwnHost(cmd)
		}
		cmd.Env = append(os.Environ(), append(wj.environ(), jobHoldsEnv+"="+g.holds)...)
		cmd.WaitDelay = 5 * time.Second
		w := &workerProc{n: i, cmd: cmd, exited: make(chan struct{})}
		cmd.Stderr = &w.stderr
		stdout, err := cmd.StdoutPipe()
		if err == nil {
			w.stdin, err = cmd.StdinPipe()
		}
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			g.stop()
			t.Fatalf("starting worker %d of %d (%s %s): %v", i+1, n, os.Args[0], strings.Join(args, " "), err)
		}
		g.procs = append(g.procs, w)
		go g.read(w, stdout)
	}
	t.Cleanup(g.stop)
	return g
}

// workerArgs returns the command line that makes the test binary run only
// the test that called Run, as a worker. Flags the user set that are not the
// testing package's (such as -dir of the directory runner) are passed on, so
// that the test reaches Run in the worker as it did here.
func workerArgs(test string) []string {
	var pattern []string
	for _, elem := range strings.Split(test, "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(elem)+"$")
	}
	args := []string{"-test.run=" + strings.Join(pattern, "/"), "-test.count=1"}
	flag.CommandLine.Visit(func(f *flag.Flag) {
		if !strings.HasPrefix(f.Name, "test.") || f.Name == "test.gocoverdir" {
			args = append(args, "-"+f.Name+"="+f.Value.String())
		}
	})
	return args
}

// read turns w's output into events, and waits for w once it ends.
func (g *workerGroup) read(w *workerProc, stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, workerPrefix)
		if !ok {
			w.mu.Lock()
			w.other = append(w.other, line)
			w.mu.Unlock()
			continue
		}
		msg, fields := parseMessage(rest)
		if msg == msgReady || msg == msgHolding {
			w.mu.Lock()
			w.ready = fields
			w.mu.Unlock()
		}
		g.send(workerEvent{w: w, msg: msg, fields: fields})
	}
	io.Copy(io.Discard, stdout) // a line too long for the scanner
	g.send(workerEvent{w: w})
	w.err = w.cmd.Wait()
	close(w.exited)
}

func (g *workerGroup) send(ev workerEvent) {
	select {
	case g.events <- ev:
	case <-g.quit:
	}
}

// stop kills the workers that are still running and waits for them.
func (g *workerGroup) stop() {
	select {
	case <-g.quit:
		return
	default:
	}
	close(g.quit)
	for _, w := range g.procs {
		w.cmd.Process.Kill()
		w.stdin.Close()
	}
	for _, w := range g.procs {
		<-w.exited
	}
}

// tell sends a command to every worker. A worker that has already exited
// misses it, which is what the callers want.
func (g *workerGroup) tell(cmd string) {
	for _, w := range g.procs {
		io.WriteString(w.stdin, cmd+"\n")
	}
}

// await waits until every worker has sent msg, and returns the last such
// event. It fails the test if a worker ends first.
func (g *workerGroup) await(t *testing.T, msg string) workerEvent {
	t.Helper()
	var last workerEvent
	seen := make(map[*workerProc]bool)
	for len(seen) < len(g.procs) {
		ev := g.next(t)
		switch ev.msg {
		case msg:
			seen[ev.w] = true
			last = ev
		case "":
			<-ev.w.exited
			t.Fatalf("worker %d exited before it said %q: %s", ev.w.n+1, msg, ev.w.describe())
		}
	}
	return last
}

// next returns the next event, failing the test if the workers' context
// ends first (the test's deadline is near; the workers are being killed).
func (g *workerGroup) next(t *testing.T) workerEvent {
	t.Helper()
	select {
	case ev := <-g.events:
		return ev
	case <-g.ctx.Done():
		t.Fatalf("workers still running as the test's deadline nears: killed them (%v)", context.Cause(g.ctx))
	}
	panic("unreachable")
}

// counterResult is what a group of counter workers reported.
type counterResult struct {
	elapsed time.Duration       // from "go" until the last worker reported done
	done    []map[string]string // each worker's done message
	finish  []time.Duration     // when each finished, since "go"
	snap    []int64             // each worker's increments when the first finished
}

// runCounters starts counter workers together, once all are ready, and
// collects their reports.
func (g *workerGroup) runCounters(t *testing.T) counterResult {
	t.Helper()
	g.await(t, msgReady)
	n := len(g.procs)
	r := counterResult{
		done:   make([]map[string]string, n),
		finish: make([]time.Duration, n),
		snap:   make([]int64, n),
	}
	snapped := make([]bool, n)
	reported := false
	start := time.Now()
	g.tell(cmdGo)
	for ended := 0; ended < n; {
		ev := g.next(t)
		i := ev.w.n
		switch ev.msg {
		case msgDone:
			r.done[i] = ev.fields
			r.finish[i] = time.Since(start)
			if !reported {
				reported = true
				g.tell(cmdReport)
			}
			if !snapped[i] {
				r.snap[i], snapped[i] = fieldInt(ev.fields, "cycles"), true
			}
		case msgProgress:
			if reported && !snapped[i] {
				r.snap[i], snapped[i] = fieldInt(ev.fields, "cycles"), true
			}
		case "":
			ended++
			if r.done[i] == nil {
				<-ev.w.exited
				t.Errorf("worker %d exited without reporting: %s", i+1, ev.w.describe())
			}
		}
	}
	r.elapsed = slices.Max(r.finish)
	return r
}

// total returns the increments all workers made.
func (r counterResult) total() int {
	n := 0
	for _, d := range r.done {
		n += int(fieldInt(d, "cycles"))
	}
	return n
}

// firstAcquired returns when a worker first took the lock.
func (r counterResult) firstAcquired() (time.Time, bool) {
	var first time.Time
	for _, d := range r.done {
		if ns := fieldInt(d, "first"); ns > 0 {
			if at := time.Unix(0, ns); first.IsZero() || at.Before(first) {
				first = at
			}
		}
	}
	return first, !first.IsZero()
}

// logFairness logs each worker's share: a starved process has made few
// cycles when the first one finishes, and waited long for the lock.
func (r counterResult) logFairness(t *testing.T) {
	t.Helper()
	lo, hi := r.snap[0], r.snap[0]
	var b strings.Builder
	for i, d := range r.done {
		if d == nil {
			fmt.Fprintf(&b, "\n  worker %d: no report", i+1)
			continue
		}
		lo, hi = min(lo, r.snap[i]), max(hi, r.snap[i])
		fmt.Fprintf(&b, "\n  pid %-7s %4d cycles when the first finished; done %s cycles in %v, longest wait %s, errors %s, breaks %s",
			d["pid"], r.snap[i], d["cycles"], round(r.finish[i]), d["maxwait"], d["errors"], d["breaks"])
		if d["notes"] != "" {
			fmt.Fprintf(&b, "\n    the lock warned: %s", d["notes"])
		}
	}
	t.Logf("per process:%s\nspread when the first process finished: min %d, max %d cycles; finish times %v..%v",
		b.String(), lo, hi, round(slices.Min(r.finish)), round(slices.Max(r.finish)))
}

// logClients logs which host name and directory each worker used, when the
// workers were split over two clients.
func (g *workerGroup) logClients(t *testing.T) {
	t.Helper()
	byHost := map[string][]string{}
	var hosts []string
	for _, w := range g.procs {
		w.mu.Lock()
		f := w.ready
		w.mu.Unlock()
		key := fmt.Sprintf("host %q through %s", f["host"], f["dir"])
		if _, ok := byHost[key]; !ok {
			hosts = append(hosts, key)
		}
		byHost[key] = append(byHost[key], f["pid"])
	}
	if len(hosts) < 2 {
		return
	}
	slices.Sort(hosts)
	var b strings.Builder
	for _, h := range hosts {
		fmt.Fprintf(&b, "\n  %s: pids %s", h, strings.Join(byHost[h], " "))
	}
	t.Logf("workers on two clients:%s", b.String())
}

// checkExits fails the test for each worker that did not exit with status 0.
func (g *workerGroup) checkExits(t *testing.T) {
	t.Helper()
	for _, w := range g.procs {
		<-w.exited
		if w.err != nil {
			t.Errorf("worker %d: %v: %s", w.n+1, w.err, w.describe())
		}
	}
}

// describe returns what w printed besides protocol messages, for a failure
// message.
func (w *workerProc) describe() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "pid %d", w.cmd.Process.Pid)
	if w.err != nil {
		fmt.Fprintf(&b, ", %v", w.err)
	}
	if len(w.other) > 0 {
		fmt.Fprintf(&b, "\n--- stdout:\n%s", strings.Join(w.other, "\n"))
	}
	if w.stderr.Len() > 0 {
		fmt.Fprintf(&b, "\n--- stderr:\n%s", w.stderr.String())
	}
	return b.String()
}

// parseMessage splits "msg k=v k=\"quoted v\"" into msg and fields.
func parseMessage(s string) (string, map[string]string) {
	msg, rest, _ := strings.Cut(s, " ")
	fields := make(map[string]string)
	for rest = strings.TrimSpace(rest); rest != ""; rest = strings.TrimSpace(rest) {
		k, v, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		if q, err := strconv.QuotedPrefix(v); err == nil {
			rest = v[len(q):]
			v, _ = strconv.Unquote(q)
		} else {
			v, rest, _ = strings.Cut(v, " ")
		}
		fields[k] = v
	}
	return msg, fields
}

func fieldInt(fields map[string]string, k string) int64 {
	n, _ := strconv.ParseInt(fields[k], 10, 64)
	return n
}

// knobInt returns the positive integer in the environment variable name, or
// def if it is not set.
func knobInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, s)
	}
	return n
}

// knobDuration returns the positive duration in the environment variable
// name, or def if it is not set.
func knobDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 2s or 500ms", name, s)
	}
	return d
}

// round rounds d for a report.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second || d <= -time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond || d <= -time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
