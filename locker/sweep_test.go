package locker_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

const (
	lifetime = locker.DefaultLifetime
	slop     = locker.DefaultClockSlop
)

// claimName is the claim name of a claimant of the lock file path.
func claimName(path, host string, pid int, random int64) string {
	return fmt.Sprintf("%s|%s|%d|%d", path, host, pid, random)
}

// leave writes the file name holding contents and dates it expiry, as a
// claimant that died while waiting leaves its claim file.
func (w *world) leave(t *testing.T, name, contents string, expiry time.Time) {
	t.Helper()
	if err := w.host.WriteFile(name, []byte(contents), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := w.host.Chtimes(name, expiry, expiry); err != nil {
		t.Fatal(err)
	}
}

func (w *world) exists(name string) bool {
	_, err := w.fs.Stat(name)
	return err == nil
}

// asleep waits until n locks wait on the world's (manual) clock.
func (w *world) asleep(t *testing.T, n int) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := w.clk.BlockUntilSleepers(c, n); err != nil {
		t.Fatalf("waiting for %d lock(s) to sleep: only %d did within 10s of real time", n, w.clk.Sleepers())
	}
}

// goLock runs l.Lock on a goroutine. Cancelling the returned function ends
// the wait; the test's cleanup does so and waits for the goroutine.
func goLock(t *testing.T, l *locker.Lock) (<-chan error, context.CancelFunc) {
	c, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		done <- l.Lock(c)
	}()
	t.Cleanup(func() { cancel(); <-finished })
	return done, cancel
}

func await(t *testing.T, what string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatalf("%s did not return within 10s of real time", what)
		return nil
	}
}

// drive moves the manual clock to until in steps of step. After each step
// the holder refreshes its lock and the test waits until sleepers locks
// are asleep again, so that each waiter has had its turn.
func (w *world) drive(t *testing.T, holder *locker.Lock, until time.Time, step time.Duration, sleepers int) {
	t.Helper()
	for w.clk.Now().Before(until) {
		w.clk.Advance(min(step, until.Sub(w.clk.Now())))
		if err := holder.Refresh(); err != nil {
			t.Fatalf("holder's Refresh at %v: %v", w.clk.Now(), err)
		}
		w.asleep(t, sleepers)
	}
}

func TestSweepRemovesOnlyProvablyDeadClaims(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	expiry := w.clk.Now().Add(lifetime) // of the holder's lock and every file below
	dead, live := w.host.Spawn(), w.host.Spawn()
	dead.Kill()
	// flufl.lock processes write "localhost" where that is their host's
	// getfqdn, though this host's Locks write the kernel's host name.
	loopback := w.fs.Host("localhost")
	loopbackDead, loopbackLive := loopback.Spawn(), loopback.Spawn()
	loopbackDead.Kill()
	same := func(name string) string { return name }
	files := []struct {
		name      string
		contents  func(name string) string
		removable bool
		what      string
	}{
		{claimName(lockPath, "gamma", 4242, 1), same, true, "a dead waiter's claim, from another host"},
		{claimName(lockPath, "alpha", dead.PID(), 2), same, true, "a dead waiter's claim, from this host"},
		{claimName(lockPath+".break", "gamma", 4243, 3), same, true, "a dead breaker's claim on the break lock"},
		{claimName(lockPath, "gamma", 4244, 4), func(string) string { return claimName("/mnt/elsewhere/resource.lock", "gamma", 4244, 4) }, true,
			"a dead waiter's claim, from a host that mounts the directory elsewhere"},
		{claimName(lockPath, "alpha", live.PID(), 5), same, false, "the claim of a live process on this host"},
		{claimName(lockPath, "gamma", 4245, 6), func(string) string { return "hello" }, false, "a file named like a claim holding something else"},
		{claimName(lockPath, "gamma", 4246, 7), func(string) string { return claimName(lockPath, "gamma", 4246, 8) }, false, "a file named like a claim holding another claim's name"},
		{claimName(lockPath, "gamma", 4247, 9), func(string) string { return "" }, true, "an empty claim file, left by a claimant killed between creating it and writing it"},
		{claimName(dir+"/other.lock", "gamma", 4248, 10), same, false, "a claim of another lock file"},
		{claimName(lockPath, "gamma", 4249, 11) + ".moved", func(n string) string { return n[:len(n)-len(".moved")] }, false, "a file moved aside"},
		{dir + "/resource.lock|gamma|x|12", same, false, "a name that is no claim name"},
		{claimName(lockPath, "localhost", loopbackLive.PID(), 13), same, false, "the claim of a live process naming localhost, as flufl.lock's on a host whose getfqdn is localhost"},
		{claimName(lockPath, "localhost", loopbackDead.PID(), 14), same, true, "a dead waiter's claim naming localhost"},
	}
	all := []string{lockPath, holder.ClaimFile()}
	for _, f := range files {
		w.leave(t, f.name, f.contents(f.name), expiry)
		all = append(all, f.name)
	}
	sweeper := w.newLock(t, nil, nil) // on this host, which it can ask about processes

	// At expiry + slop exactly, nothing has expired by more than the slop.
	w.clk.Set(expiry.Add(slop))
	n, got, err := sweeper.SweepNow()
	if n != 0 || !got || err != nil {
		t.Errorf("sweep at expiry + slop: removed %d, got the break lock %v, err %v; want 0 removed, true, nil", n, got, err)
	}
	w.wantFiles(t, all...)

	// A nanosecond later the dead claimants' files go, and only they.
	w.clk.Advance(time.Nanosecond)
	n, got, err = sweeper.SweepNow()
	var want []string
	removable := 0
	for _, f := range files {
		gone := !w.exists(f.name)
		if f.removable {
			removable++
		} else {
			want = append(want, f.name)
		}
		if gone != f.removable {
			t.Errorf("%s (%s): removed = %v, want %v", f.what, f.name, gone, f.removable)
		}
	}
	if n != removable || !got || err != nil {
		t.Errorf("sweep just past expiry + slop: removed %d, got the break lock %v, err %v; want %d removed, true, nil", n, got, err, removable)
	}
	// The holder's claim file is the lock file's second link: expired past
	// the slop, but a lock, which only breaking may remove.
	w.wantFiles(t, append(want, lockPath, holder.ClaimFile())...)
	if !holder.IsLocked() {
		t.Error("the holder lost its lock to a sweep")
	}
}

// A process killed between two file operations may leave a file it names
// after its claim: what it moved aside, a temporary file. The sweep removes
// those of a dead process of this host once their date has passed by the
// slop (no one else acts on them), and leaves those of a live process, of
// another host (which it cannot prove dead), and of another lock file.
func TestSweepRemovesLeftoversOfDeadProcessesOfThisHost(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	dead, live := w.host.Spawn(), w.host.Spawn()
	dead.Kill()
	dated := w.clk.Now().Add(lifetime)
	files := []struct {
		name, contents string
		removable      bool
		what           string
	}{
		{claimName(lockPath, "alpha", dead.PID(), 1) + ".moved", holder.ClaimFile(), true, "a lock file a dead process of this host moved aside"},
		{claimName(lockPath, "alpha", dead.PID(), 2) + ".moved.look", holder.ClaimFile(), true, "the link of a dead process's fresh look"},
		{claimName(lockPath+".break", "alpha", dead.PID(), 3) + ".moved", claimName(lockPath+".break", "alpha", 77, 4), true, "a break lock a dead process moved aside"},
		{claimName(lockPath, "alpha", dead.PID(), 5) + ".fence-tmp", "41", true, "a dead process's temporary fencing file"},
		{claimName(lockPath, "alpha", dead.PID(), 6) + ".count-tmp", "2", true, "a dead process's temporary count file"},
		{claimName(lockPath, "alpha", dead.PID(), 7) + ".ticket", "x", true, "a dead process's temporary ticket file"},
		{claimName(lockPath, "alpha", live.PID(), 8) + ".moved", holder.ClaimFile(), false, "what a live process of this host moved aside"},
		{claimName(lockPath, "gamma", 4242, 9) + ".moved", holder.ClaimFile(), false, "what a process of another host moved aside"},
		{claimName(dir+"/other.lock", "alpha", dead.PID(), 10) + ".moved", "x", false, "a dead process's leftover of another lock file"},
		{claimName(lockPath, "alpha", dead.PID(), 11) + ".other", "x", false, "a file named after a dead claim with a suffix no Lock uses"},
	}
	var want []string
	for _, f := range files {
		w.leave(t, f.name, f.contents, dated)
		if !f.removable {
			want = append(want, f.name)
		}
	}
	sweeper := w.newLock(t, nil, nil)
	all := append(slices.Clone(want), lockPath, holder.ClaimFile())
	for _, f := range files {
		if f.removable {
			all = append(all, f.name)
		}
	}

	// Until their date has passed by the slop, they stay: a process of
	// another pid namespace that writes this host's name may still use
	// them.
	w.clk.Set(dated.Add(slop))
	if n, got, err := sweeper.SweepNow(); n != 0 || !got || err != nil {
		t.Errorf("sweep at their date + slop: removed %d, got the break lock %v, err %v; want 0 removed, true, nil", n, got, err)
	}
	w.wantFiles(t, all...)

	w.clk.Advance(time.Nanosecond)
	n, got, err := sweeper.SweepNow()
	for _, f := range files {
		if gone := !w.exists(f.name); gone != f.removable {
			t.Errorf("%s (%s): removed = %v, want %v", f.what, f.name, gone, f.removable)
		}
	}
	if removable := len(files) - len(want); n != removable || !got || err != nil {
		t.Errorf("sweep: removed %d, got the break lock %v, err %v; want %d removed, true, nil", n, got, err, removable)
	}
	w.wantFiles(t, append(want, lockPath, holder.ClaimFile())...)
	if !holder.IsLocked() {
		t.Error("the holder lost its lock to a sweep")
	}
}

// noLinkCounts is a Host on a filesystem that reports one link for every
// file, as sshfs does.
type noLinkCounts struct{ *memfs.Host }

func (f noLinkCounts) Stat(name string) (locker.FileInfo, error) {
	fi, err := f.Host.Stat(name)
	if err == nil {
		fi.Links = 1
	}
	return fi, err
}

func TestSweepSparesTheHolderWithoutLinkCounts(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	fsys := noLinkCounts{w.host}
	holder := w.newLock(t, nil, fsys)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	deadClaim := claimName(lockPath, "gamma", 4242, 1)
	w.leave(t, deadClaim, deadClaim, w.clk.Now().Add(lifetime))
	w.clk.Advance(lifetime + slop + time.Second)
	sweeper := w.newLock(t, w.fs.Host("delta"), noLinkCounts{w.fs.Host("delta")})
	n, got, err := sweeper.SweepNow()
	if n != 1 || !got || err != nil {
		t.Errorf("sweep: removed %d, got the break lock %v, err %v; want the dead claim removed, true, nil", n, got, err)
	}
	// With no link counts to go by, the lock file's contents show that the
	// holder's expired claim file is a lock's.
	w.wantFiles(t, lockPath, holder.ClaimFile())
	if !holder.IsLocked() {
		t.Error("the holder lost its lock to a sweep")
	}
}

func TestSweepPutsBackAClaimThatComesAlive(t *testing.T) {
	tests := []struct {
		name string
		// revive acts for the claimant of claim when the sweeper is
		// about to make the call op on args.
		revive  func(t *testing.T, w *world, claim string, op memfs.Op, args []string) bool
		lock    bool // the claimant ends up holding the lock
		noLinks bool // on a filesystem that reports no link counts
	}{
		{"re-dated before the move", func(t *testing.T, w *world, claim string, op memfs.Op, args []string) bool {
			if op != memfs.OpRename || args[0] != claim {
				return false
			}
			exp := w.clk.Now().Add(lifetime)
			check(t, w.host.Chtimes(claim, exp, exp))
			return true
		}, false, false},
		{"linked to the lock file before the move", func(t *testing.T, w *world, claim string, op memfs.Op, args []string) bool {
			if op != memfs.OpRename || args[0] != claim {
				return false
			}
			exp := w.clk.Now().Add(lifetime)
			check(t, w.host.Chtimes(claim, exp, exp))
			check(t, w.host.Link(claim, lockPath))
			return true
		}, true, false},
		{"linked to the lock file, undated, before the move, without link counts", func(t *testing.T, w *world, claim string, op memfs.Op, args []string) bool {
			// A waiter paused between its re-date and its link: the lock
			// file's contents alone show that the claim is a lock's.
			if op != memfs.OpRename || args[0] != claim {
				return false
			}
			check(t, w.host.Link(claim, lockPath))
			return true
		}, true, true},
		{"re-dated before the move and written again after it", func(t *testing.T, w *world, claim string, op memfs.Op, args []string) bool {
			exp := w.clk.Now().Add(lifetime)
			switch {
			case op == memfs.OpRename && args[0] == claim:
				check(t, w.host.Chtimes(claim, exp, exp))
			case op == memfs.OpStat && args[0] != claim && w.exists(args[0]) && !w.exists(claim):
				// The claimant found its claim file missing and wrote it
				// again, while the sweeper looks at what it moved.
				check(t, w.host.WriteFile(claim, []byte(claim), 0o644))
				check(t, w.host.Chtimes(claim, exp, exp))
				return true
			}
			return false
		}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.clk.AutoAdvance(false)
			claim := claimName(lockPath, "gamma", 4242, 1)
			w.leave(t, claim, claim, w.clk.Now().Add(lifetime))
			w.clk.Advance(lifetime + slop + time.Second)
			var backend locker.FS = w.fs.Host("delta")
			if tt.noLinks {
				backend = noLinkCounts{w.fs.Host("delta")}
			}
			faults := memfs.NewFaultFS(backend)
			sweeper := w.newLock(t, w.fs.Host("delta"), faults)
			revived := false // the hook runs on this goroutine, in SweepNow
			maxLinks := uint64(0)
			faults.SetHook(func(op memfs.Op, args ...string) {
				if !revived && tt.revive(t, w, claim, op, args) {
					revived = true
				}
				if w.exists(lockPath) {
					_, links := w.stat(t, lockPath)
					maxLinks = max(maxLinks, links)
				}
			})
			n, got, err := sweeper.SweepNow()
			faults.SetHook(nil)
			if !revived {
				t.Fatal("the test never revived the claim: the sweeper did not move it aside")
			}
			if n != 0 || !got || err != nil {
				t.Errorf("sweep: removed %d, got the break lock %v, err %v; want 0 removed, true, nil", n, got, err)
			}
			if c := w.read(t, claim); c != claim {
				t.Errorf("claim file holds %q after the sweep, want %q", c, claim)
			}
			// (Where link counts are not reported, no one goes by them.)
			if maxLinks > 2 && !tt.noLinks {
				t.Errorf("the lock file had %d links during the sweep: its holder would have seen a third name and thought its lock lost", maxLinks)
			}
			if mtime, _ := w.stat(t, claim); !tt.noLinks && !mtime.After(w.clk.Now()) {
				t.Errorf("claim file dated %v after the sweep, want the claimant's fresh date, after %v", mtime, w.clk.Now())
			}
			if tt.lock {
				if _, links := w.stat(t, claim); links != 2 {
					t.Errorf("the claim file, now the lock file's other link, has %d links, want 2", links)
				}
				if c := w.read(t, lockPath); c != claim {
					t.Errorf("lock file holds %q, want %q", c, claim)
				}
				w.wantFiles(t, lockPath, claim)
			} else {
				w.wantFiles(t, claim)
			}
		})
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestWaitersKeepTheirClaimsAliveAndSweepTheDead(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	start := w.clk.Now()
	deadClaim := claimName(lockPath, "gamma", 4242, 1)
	w.leave(t, deadClaim, deadClaim, start.Add(lifetime))

	// Two waiters on other hosts, so that only the dates of their claim
	// files show that they are alive. One is counted.
	faults := memfs.NewFaultFS(w.fs.Host("beta"))
	counted := w.newLock(t, w.fs.Host("beta"), faults, locker.WithWatcher(false))
	other := w.newLock(t, w.fs.Host("epsilon"), nil, locker.WithWatcher(false))
	var mu sync.Mutex
	calls := map[string]int{}
	faults.SetHook(func(op memfs.Op, args ...string) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case op == memfs.OpLink && args[1] == lockPath:
			calls["link"]++
		case op == memfs.OpChtimes && args[0] == counted.ClaimFile():
			calls["redate"]++
		case op == memfs.OpReadDirNames:
			calls["list"]++
		}
	})
	goLock(t, counted)
	goLock(t, other)
	w.asleep(t, 2)
	mu.Lock()
	calls0 := maps.Clone(calls)
	mu.Unlock()

	// Until the dead claim has expired by the slop, it stays.
	w.drive(t, holder, start.Add(lifetime+slop), time.Second, 2)
	if !w.exists(deadClaim) {
		t.Errorf("the dead claim was removed by %v, before its time plus the slop (%v)", w.clk.Now().Sub(start), lifetime+slop)
	}
	// Within a lifetime more (the waiters sweep once per lifetime), it goes;
	// the waiters' claims, many lifetimes old, stay.
	w.drive(t, holder, start.Add(2*lifetime+slop+time.Second), time.Second, 2)
	if w.exists(deadClaim) {
		t.Errorf("the dead claim is still there %v after it was written, more than lifetime + slop + lifetime", w.clk.Now().Sub(start))
	}
	w.drive(t, holder, start.Add(10*lifetime), time.Second, 2)
	w.wantFiles(t, lockPath, holder.ClaimFile(), counted.ClaimFile(), other.ClaimFile())
	for _, l := range []*locker.Lock{counted, other} {
		if mtime, _ := w.stat(t, l.ClaimFile()); mtime.Before(w.clk.Now().Add(lifetime / 2)) {
			t.Errorf("a waiter's claim file is dated %v, want at least now + lifetime/2 = %v: a waiter re-dates it every lifetime/3",
				mtime.Sub(start), w.clk.Now().Add(lifetime/2).Sub(start))
		}
	}

	// The cost: a re-date per third of a lifetime and at most a listing
	// per lifetime (fewer when the other waiter holds the break lock at
	// that moment), against one link per poll.
	elapsed := w.clk.Now().Sub(start)
	mu.Lock()
	links, redates, lists := calls["link"]-calls0["link"], calls["redate"]-calls0["redate"], calls["list"]-calls0["list"]
	mu.Unlock()
	if want := int(elapsed / (lifetime / 3)); redates < want-1 || redates > want+1 {
		t.Errorf("a waiter re-dated its claim file %d times in %v, want about %d (every lifetime/3)", redates, elapsed, want)
	}
	if most := int(elapsed/lifetime) + 1; lists > most {
		t.Errorf("a waiter listed the directory %d times in %v, want at most %d (once per lifetime)", lists, elapsed, most)
	}
	t.Logf("in %v a waiter made %d links, %d re-dates, %d listings", elapsed, links, redates, lists)
}

func TestPausedWaiterWritesItsClaimAgain(t *testing.T) {
	for _, pauseAt := range []memfs.Op{memfs.OpLink, memfs.OpChtimes} {
		t.Run("paused at "+pauseAt.String(), func(t *testing.T) {
			w := newWorld(t)
			w.clk.AutoAdvance(false)
			holder := w.newLock(t, nil, nil)
			if err := holder.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			p := &pauser{only: pauseAt, blocked: make(chan struct{}, 1)}
			faults := memfs.NewFaultFS(w.fs.Host("beta"))
			faults.SetHook(p.hook)
			paused := w.newLock(t, w.fs.Host("beta"), faults, locker.WithWatcher(false))
			done, _ := goLock(t, paused)
			w.asleep(t, 1)

			// Stop it at its next link, or its next re-date.
			p.pause()
			if pauseAt == memfs.OpLink {
				w.clk.Advance(time.Second)
			} else {
				w.clk.Advance(lifetime / 3)
			}
			select {
			case <-p.blocked:
			case <-time.After(10 * time.Second):
				t.Fatalf("the waiter never called %v", pauseAt)
			}
			claimTime, _ := w.stat(t, paused.ClaimFile())
			for !w.clk.Now().After(claimTime.Add(slop)) {
				w.clk.Advance(lifetime / 3)
				check(t, holder.Refresh())
			}

			// A newcomer finds the paused waiter's claim dead and removes it.
			newcomer := w.newLock(t, w.fs.Host("epsilon"), nil, locker.WithWatcher(false))
			newDone, cancelNew := goLock(t, newcomer)
			w.asleep(t, 1)
			if w.exists(paused.ClaimFile()) {
				t.Fatalf("the paused waiter's claim file, dated %v, is still there at %v: the newcomer did not sweep it", claimTime, w.clk.Now())
			}
			cancelNew()
			if err := await(t, "the newcomer's Lock", newDone); !errors.Is(err, context.Canceled) {
				t.Fatalf("the newcomer's Lock: %v, want context.Canceled", err)
			}
			check(t, holder.Unlock())

			// Resumed, the waiter writes its claim again and takes the lock.
			w.clk.AutoAdvance(true)
			p.resume()
			if err := await(t, "the resumed waiter's Lock", done); err != nil {
				t.Fatalf("the resumed waiter's Lock: %v, want it to take the free lock", err)
			}
			if !paused.IsLocked() {
				t.Error("the resumed waiter's Lock returned nil, but IsLocked is false")
			}
			w.wantFiles(t, lockPath, paused.ClaimFile())
			if exp, _ := paused.Expiration(); !exp.After(w.clk.Now()) {
				t.Errorf("the resumed waiter's lock expires %v, not after now (%v)", exp, w.clk.Now())
			}
			check(t, paused.Unlock())
			w.wantFiles(t)
		})
	}
}

// pauser stops a lock's backend calls of one kind while paused, as a
// process stopped (SIGSTOP, a frozen VM) in the middle of its wait.
type pauser struct {
	only    memfs.Op
	blocked chan struct{} // told when a call stops

	mu   sync.Mutex
	gate chan struct{} // not nil while paused; closed to resume
}

func (p *pauser) hook(op memfs.Op, _ ...string) {
	p.mu.Lock()
	gate := p.gate
	p.mu.Unlock()
	if gate == nil || op != p.only {
		return
	}
	select {
	case p.blocked <- struct{}{}:
	default:
	}
	<-gate
}

func (p *pauser) pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.gate = make(chan struct{})
}

func (p *pauser) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.gate)
	p.gate = nil
}

func TestNoSweepWhenOffOrUnable(t *testing.T) {
	tests := []struct {
		name    string
		backend func(*memfs.Host) locker.FS
		opts    []locker.Option
	}{
		{"WithSweep(false)", func(h *memfs.Host) locker.FS { return h }, []locker.Option{locker.WithSweep(false)}},
		{"backend without DirReader", func(h *memfs.Host) locker.FS { return struct{ locker.FS }{h} }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			w.clk.AutoAdvance(false)
			holder := w.newLock(t, nil, nil)
			if err := holder.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			start := w.clk.Now()
			deadClaim := claimName(lockPath, "gamma", 4242, 1)
			w.leave(t, deadClaim, deadClaim, start.Add(lifetime))
			h := w.fs.Host("beta")
			waiter := w.newLock(t, h, tt.backend(h), append(tt.opts, locker.WithWatcher(false))...)
			goLock(t, waiter)
			w.asleep(t, 1)
			w.drive(t, holder, start.Add(3*lifetime+slop), time.Second, 1)
			w.wantFiles(t, lockPath, holder.ClaimFile(), waiter.ClaimFile(), deadClaim)
		})
	}
}

func TestSweepIsBoundedAndResumes(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	const litter = 150
	var dead []string
	for i := range litter {
		name := claimName(lockPath, "gamma", 5000+i, int64(i))
		w.leave(t, name, name, w.clk.Now().Add(lifetime))
		dead = append(dead, name)
	}
	w.clk.Advance(lifetime + slop + time.Second)
	sweeper := w.newLock(t, w.fs.Host("delta"), nil)
	var removed []int
	for range 5 {
		n, _, err := sweeper.SweepNow()
		check(t, err)
		removed = append(removed, n)
	}
	if want := []int{64, 64, 22, 0, 0}; !slices.Equal(removed, want) {
		t.Errorf("successive sweeps of %d dead claims removed %v, want %v (at most 64 each)", litter, removed, want)
	}
	w.wantFiles(t)
}
