package conformance

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// Knobs of Stress/KillWaiters (see testKillWaiters).
const (
	killProcsKnob    = "NFSLOCK_STRESS_KILL_PROCS"
	killCountKnob    = "NFSLOCK_STRESS_KILLS"
	killLifetimeKnob = "NFSLOCK_STRESS_KILL_LIFETIME"
	killSlopKnob     = "NFSLOCK_STRESS_KILL_SLOP"
)

// Worker roles of Stress/KillWaiters.
const (
	roleSurvive = "survive" // increment the counter under the lock until the parent closes stdin
	roleContend = "contend" // take and release the lock, touching nothing, until killed
)

// testKillWaiters: claimants killed with SIGKILL while they wait leave their
// claim files behind; the survivors must remove them, and lose no update.
//
// First a worker takes the lock and three others wait for it; all four are
// killed, which leaves a lock and three waiting claims for certain. Then
// NFSLOCK_STRESS_KILL_PROCS survivors (default 3) increment the counter
// under the lock, while NFSLOCK_STRESS_KILLS more workers (default 6) join
// the contention one after another and are killed at a random moment, most
// likely while they wait. The lock's lifetime and slop are
// NFSLOCK_STRESS_KILL_LIFETIME and NFSLOCK_STRESS_KILL_SLOP (by default the
// shortest the filesystem's timestamp granularity allows, 2s and 1s on a
// local filesystem). Where the backend has a second client, the workers are
// spread over both, playing two hosts.
//
// The survivors go on for long enough after the last kill for every dead
// claim to expire by the slop and be swept (a dead breaker's break lock
// too), then stop. No file naming a killed process may remain, the
// directory must hold only the counter, and the counter must hold the
// survivors' increments.
func testKillWaiters(t *testing.T, b Backend, runName string) {
	procs := knobInt(t, killProcsKnob, 3)
	kills := knobInt(t, killCountKnob, 6)
	defLifetime, defSlop := shortLease(b)
	lifetime := knobDuration(t, killLifetimeKnob, defLifetime)
	slop := knobDuration(t, killSlopKnob, defSlop)

	env := b.New(t)
	if _, ok := env.FS.(locker.DirReader); !ok {
		t.Skipf("%s cannot list a directory (it is no locker.DirReader), so the claim files of dead claimants stay", b.Name)
	}
	ctx, deadline := processContext(t)
	base := job{test: runName, dir: env.Dir, dir2: otherClient(b, env), lifetime: lifetime, slop: slop, deadline: deadline}
	killed := map[int]bool{}
	kill := func(g *workerGroup) {
		t.Helper()
		for _, w := range g.procs {
			if err := w.cmd.Process.Kill(); err != nil {
				t.Fatalf("killing worker pid %d: %v", w.cmd.Process.Pid, err)
			}
			<-w.exited
			killed[w.cmd.Process.Pid] = true
		}
	}

	// A dead holder and three dead waiters, for certain.
	holdJob, contendJob, surviveJob := base, base, base
	holdJob.role, contendJob.role, surviveJob.role = roleHold, roleContend, roleSurvive
	holder := startWorkers(t, ctx, 1, holdJob)
	holder.await(t, msgHolding)
	waiters := startWorkers(t, ctx, 3, contendJob)
	waiters.await(t, msgReady)
	time.Sleep(100 * time.Millisecond) // into their waits
	kill(waiters)
	kill(holder)
	left := deadFiles(t, env, killed)
	t.Logf("after killing a holder and three waiters: %d files of theirs in %s: %q", len(left), env.Dir, left)
	if len(left) < 2 {
		t.Errorf("killing a holder and three waiters left %d files of theirs (%q), want the lock's claim and the waiters' claims: the test proves nothing", len(left), left)
	}

	// Survivors contend, while more workers join and are killed.
	survivors := startWorkers(t, ctx, procs, surviveJob)
	survivors.await(t, msgReady)
	survivors.tell(cmdGo)
	start := time.Now()
	for i := range kills {
		vj := contendJob
		vj.allSecond = i%2 == 1 // on the second client, if there is one
		v := startWorkers(t, ctx, 1, vj)
		v.await(t, msgReady)
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		kill(v)
	}
	lastKill := time.Now()
	left = deadFiles(t, env, killed)
	t.Logf("after %d more kills during contention: %d files of killed processes: %q", kills, len(left), left)

	// A dead claim expires a lifetime after its last re-date, may be
	// removed a slop after that, and a waiter sweeps once per lifetime; a
	// break lock left by a process killed while sweeping or breaking
	// expires after max(slop, 2s), and a slop after that it is broken.
	// File times may be a granule off.
	grace := lifetime + slop + max(slop, 2*time.Second) + slop + lifetime + time.Second + 2*b.TimeGranularity
	time.Sleep(grace)
	for _, w := range survivors.procs {
		w.stdin.Close() // stop: finish the cycle and report
	}
	total := 0
	for ended := 0; ended < len(survivors.procs); {
		ev := survivors.next(t)
		switch ev.msg {
		case msgDone:
			total += int(fieldInt(ev.fields, "cycles"))
			t.Logf("survivor pid %s: %s increments, %s errors; its lock's warnings: %q", ev.fields["pid"], ev.fields["cycles"], ev.fields["errors"], ev.fields["notes"])
		case "":
			ended++
		}
	}
	t.Logf("%d survivors made %d increments in %v, with %d killed claimants (%v after the last kill)",
		procs, total, round(time.Since(start)), len(killed), round(time.Since(lastKill)))

	if left := deadFiles(t, env, killed); len(left) > 0 {
		t.Errorf("LITTER: %d files of killed processes remain %v after the last kill (lifetime %v, slop %v): %q",
			len(left), round(time.Since(lastKill)), lifetime, slop, left)
	}
	checkCounter(t, b, env, survivors, total)
	checkLeftovers(t, env, "")
	survivors.checkExits(t)
}

// deadFiles returns the names in env's directory that are claim names (of
// the lock or of its break lock, perhaps moved aside) of the killed pids.
func deadFiles(t *testing.T, env *Env, killed map[int]bool) []string {
	t.Helper()
	names, err := env.List()
	if err != nil {
		t.Fatalf("listing %s: %v", env.Dir, err)
	}
	var dead []string
	for _, n := range names {
		parts := strings.Split(n, locker.DefaultSeparator)
		if len(parts) != 4 {
			continue
		}
		if pid, err := strconv.Atoi(parts[2]); err == nil && killed[pid] {
			dead = append(dead, n)
		}
	}
	slices.Sort(dead)
	return dead
}

// survive increments the counter file under the lock until the parent
// closes stdin, and then reports.
func (w *worker) survive(ctx context.Context) {
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
	)
	for ctx.Err() == nil {
		incremented, err := cycle(ctx, l, w.fsys, counter, &w.holds, func() {})
		if incremented {
			w.done.Add(1)
		}
		if err != nil && !(errors.Is(err, context.Canceled) && ctx.Err() != nil) {
			errs++
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if err := w.holds.write(os.Getenv(jobHoldsEnv), w.pid); err != nil {
		w.t.Errorf("stress worker: writing its hold intervals: %v", err)
	}
	_, notes := w.log.report()
	w.emit(msgDone, "pid", w.pid, "cycles", w.done.Load(), "errors", errs, "notes", notes)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		w.t.Errorf("stopped by the test's deadline, not by the parent, after %d cycles", w.done.Load())
	}
	if errs > 0 {
		w.t.Errorf("%d cycles failed; the first: %v", errs, firstErr)
	}
}

// contend takes and releases the lock, touching nothing under it, until it
// is killed (or the parent goes away).
func (w *worker) contend(ctx context.Context) {
	l := w.newLock()
	w.emit(msgReady, "pid", w.pid, "claim", filepath.Base(l.ClaimFile()))
	for ctx.Err() == nil {
		if err := l.Lock(ctx); err == nil {
			if err := l.Unlock(); err != nil {
				fmt.Println("unlock:", err)
			}
		}
	}
}
