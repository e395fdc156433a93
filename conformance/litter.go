package conformance

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// Litter: the claim files of claimants that died while they waited.

// scenarioDeadClaimantsSwept: a waiting Lock removes the claim files that
// dead claimants left beside the lock file once they have expired by more
// than the slop, and nothing else: not the holder's, not a live waiter's
// (which it keeps alive by re-dating it), not a live process's of this
// host, not a file that is only named like a claim.
func scenarioDeadClaimantsSwept(t *testing.T, b Backend) {
	s := newScene(t, b, "waiting Locks remove the claim files of dead claimants once their time plus the slop has passed, and only those")
	if _, ok := s.env.FS.(locker.DirReader); !ok {
		t.Skipf("%s cannot list a directory (it is no locker.DirReader), so the claim files of dead claimants stay", b.Name)
	}
	tl := s.tl
	holder := s.newLock()
	s.requireErr("holder's Lock", holder.Lock(s.ctx), nil)
	start := tl.now()
	written := start.Add(tl.lifetime)

	type file struct {
		name, contents string
		empty          bool // written empty, not with contents
		fifo           bool // a FIFO, made where the backend can
		dead           bool
		what           string
	}
	sep := locker.DefaultSeparator
	claimOf := func(lockFile, host string, pid int, random int64) string {
		return strings.Join([]string{lockFile, host, fmt.Sprint(pid), fmt.Sprint(random)}, sep)
	}
	deadWaiter := claimOf(s.path, "dead.example.org", s.pid(), 1)
	files := []file{
		{name: deadWaiter, dead: true, what: "a dead waiter's claim from another host"},
		{name: deadWaiter + ".ticket", contents: deadWaiter, dead: true, what: "the temporary ticket file of that waiter, which died while it took a ticket"},
		{name: claimOf(s.path+".break", "dead.example.org", s.pid(), 2), dead: true, what: "a dead breaker's claim on the break lock"},
		{name: claimOf(s.path, "dead.example.org", s.pid(), 3), contents: "not a claim", what: "a file named like a claim that holds something else"},
		{name: claimOf(filepath.Join(s.env.Dir, "other.lock"), "dead.example.org", s.pid(), 4), what: "a claim of another lock file"},
		{name: claimOf(s.path, "dead.example.org", s.pid(), 7), empty: true, dead: true, what: "an empty claim file, as a claimant killed between creating and writing it leaves"},
		{name: claimOf(s.path, "dead.example.org", s.pid(), 11) + ".moved", contents: claimOf(s.path, "other.example.org", 1, 1),
			what: "a file that a process of another host moved aside (nothing proves that process dead)"},
	}
	if s.env.MakeObject != nil {
		files = append(files, file{name: claimOf(s.path, "dead.example.org", s.pid(), 8), fifo: true, what: "a FIFO named like a claim"})
	}
	if s.env.Spawn != nil {
		livePID, _ := s.env.Spawn(t)
		deadPID, kill := s.env.Spawn(t)
		kill()
		files = append(files,
			file{name: claimOf(s.path, LocalHost, deadPID, 5), dead: true, what: "a dead waiter's claim from this host"},
			file{name: claimOf(s.path, LocalHost, livePID, 6), what: "the claim of a live process of this host"},
			file{name: claimOf(s.path, LocalHost, deadPID, 9) + ".moved", contents: claimOf(s.path, "other.example.org", 1, 1), dead: true,
				what: "a file that a process of this host killed in the middle of a break moved aside"},
			file{name: claimOf(s.path, LocalHost, livePID, 10) + ".moved", contents: claimOf(s.path, "other.example.org", 1, 1),
				what: "a file that a live process of this host moved aside"},
		)
	} else {
		t.Logf("%s: Env.Spawn is nil: not checking claims of processes of this host", b.Name)
	}
	for i := 0; i < len(files); i++ {
		f := &files[i]
		switch {
		case f.fifo:
			if err := s.env.MakeObject(f.name, Object{Kind: FIFO}); err != nil {
				t.Logf("not checking %s: %v", f.what, err)
				files = slices.Delete(files, i, i+1)
				i--
				continue
			}
		case f.empty:
			s.writeFile(f.name, "")
		default:
			if f.contents == "" {
				f.contents = f.name
			}
			s.writeFile(f.name, f.contents)
		}
		if err := s.env.FS.Chtimes(f.name, written, written); err != nil {
			s.fatalf("dating %s: %v", f.name, err)
		}
	}
	// The date the filesystem keeps, which the sweepers judge: up to a
	// granule before the one written where file times are coarse.
	dated := s.look(files[0].name).mtime

	// Two waiters of this host, whose made-up pids the backend does not
	// know to be running: only the dates of their claim files show that
	// they are alive. Each sweeps.
	waiters := []*locker.Lock{
		s.newLock(locker.WithWatcher(false)),
		s.newLock(locker.WithWatcher(false)),
	}
	// They wait for the whole scenario, which on a filesystem with coarse
	// times runs longer than the scene's safety timeout (sshfs: 13 s).
	ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout+3*tl.lifetime+2*tl.slop)
	defer cancel()
	var waiting []<-chan error
	for _, w := range waiters {
		waiting = append(waiting, s.goLock(ctx, w))
	}
	tl.waitAsleep(len(waiters))
	// stillWaiting fails the scenario if a waiter's Lock has returned: it
	// must wait as long as the holder holds, and its claim file with it.
	stillWaiting := func(when string) {
		for i, done := range waiting {
			select {
			case err := <-done:
				s.errorf("%s: waiter %d's Lock returned %v while the holder held the lock; want it still waiting", when, i+1, err)
				waiting[i] = nil
			default:
			}
		}
	}

	// until keeps the holder refreshing and checks the waiters, step by
	// step, until when; it returns as soon as time reaches when, so that
	// what is checked next is checked then.
	step := tl.lifetime / 6
	until := func(when time.Time) {
		for tl.now().Before(when) {
			if err := holder.Refresh(); err != nil {
				s.fatalf("holder's Refresh at %s: %v", tl.at(tl.now()), err)
			}
			tl.waitAsleep(len(waiters))
			// A waiter keeps its claim file dated in the future: no
			// sweeper may take it for a dead one's.
			for i, w := range waiters {
				if f := s.look(w.ClaimFile()); !f.exists || !f.mtime.After(tl.now()) {
					s.fatalf("at %s, waiter %d's claim file: %s; want it there and dated after now: a waiting Lock re-dates its claim every lifetime/3",
						tl.at(tl.now()), i+1, s.describe(f))
				}
			}
			if d := when.Sub(tl.now()); d > 0 {
				tl.advance(min(step, d))
			}
		}
	}
	present := func(f file) bool {
		_, err := s.env.FS.Stat(f.name)
		return err == nil
	}

	// Until their time plus the slop, the dead claimants' files stay.
	boundary := dated.Add(tl.slop)
	until(boundary.Add(-tl.near))
	at := tl.now()
	var early []file
	for _, f := range files {
		if !present(f) {
			early = append(early, f)
		}
	}
	if !s.inTime(boundary, "the check that nothing was removed early") {
		return
	}
	for _, f := range early {
		s.errorf("at %s, %s (dated %s) was removed before its time plus the slop (%s)", tl.at(at), f.what, tl.at(dated), tl.at(boundary))
	}

	// Within a lifetime after that (each waiter sweeps at most once per
	// lifetime), they are gone; everything else stays.
	until(boundary.Add(tl.lifetime + 2*step + tl.lag))
	tl.waitAsleep(len(waiters)) // not in the middle of a sweep
	var want []string
	for _, f := range files {
		switch {
		case f.dead && present(f):
			s.errorf("at %s, %s (dated %s) is still there, a lifetime after its time plus the slop", tl.at(tl.now()), f.what, tl.at(dated))
		case !f.dead && !present(f):
			s.errorf("%s was removed; it must never be", f.what)
		case !f.dead:
			want = append(want, f.name)
		}
	}
	want = append(want, s.path, holder.ClaimFile(), waiters[0].ClaimFile(), waiters[1].ClaimFile())
	// A waiter sweeps under the break lock: on the real clock a listing
	// may catch the break lock and its claim of a sweep in progress, which
	// go a moment later (under Wine on a loaded machine, a sweep took over
	// 250 ms). Look again, often, for up to half a lifetime after a
	// refresh of the holder's, until a listing shows no sweep; that
	// listing is the one judged.
	listed := s.files()
	if tl.virtual == nil {
		if err := holder.Refresh(); err != nil {
			s.fatalf("holder's Refresh at %s: %v", tl.at(tl.now()), err)
		}
		sweeping := func(n string) bool { return strings.HasPrefix(n, filepath.Base(s.path)+".break") }
		for end := time.Now().Add(tl.lifetime / 2); time.Now().Before(end) && slices.ContainsFunc(listed, sweeping); listed = s.files() {
			time.Sleep(time.Millisecond)
		}
	}
	when := fmt.Sprintf("at %s, while the holder holds and two waiters wait", tl.at(tl.now()))
	stillWaiting(when)
	s.wantListed(when, listed, want...)
	if !holder.IsLocked() {
		s.errorf("the holder lost its lock while waiters swept")
	}

	s.checkErr("holder's Unlock", holder.Unlock(), nil)
}

// scenarioTakerSweeps: a Lock that takes a free lock, no one waiting,
// removes the claim files of dead claimants too (at most once per
// lifetime), so that litter does not outlive the lock's use.
func scenarioTakerSweeps(t *testing.T, b Backend) {
	s := newScene(t, b, "a Lock that takes the lock removes the claim files of dead claimants whose time plus the slop has passed, and only those, even when no one waits")
	if _, ok := s.env.FS.(locker.DirReader); !ok {
		t.Skipf("%s cannot list a directory (it is no locker.DirReader), so the claim files of dead claimants stay", b.Name)
	}
	sep := locker.DefaultSeparator
	dead := strings.Join([]string{s.path, "dead.example.org", fmt.Sprint(s.pid()), "1"}, sep)
	young := strings.Join([]string{s.path, "slow.example.org", fmt.Sprint(s.pid()), "2"}, sep)
	notClaim := strings.Join([]string{s.path, "dead.example.org", fmt.Sprint(s.pid()), "3"}, sep)
	for _, f := range []struct {
		name, contents string
		date           time.Time
	}{
		{dead, dead, s.tl.now().Add(-s.tl.slop - s.tl.lifetime)},
		{young, young, s.tl.now().Add(s.tl.lifetime)},
		{notClaim, "not a claim", s.tl.now().Add(-s.tl.slop - s.tl.lifetime)},
	} {
		if err := s.env.FS.WriteFile(f.name, []byte(f.contents), 0o666); err != nil {
			s.fatalf("writing %s: %v", f.name, err)
		}
		if err := s.env.FS.Chtimes(f.name, f.date, f.date); err != nil {
			s.fatalf("dating %s: %v", f.name, err)
		}
	}
	taker := s.newLock()
	s.requireErr("the taker's TryLock of the free lock", taker.TryLock(), nil)
	if f := s.look(dead); f.exists {
		s.errorf("after a Lock took the lock, a dead claimant's claim file, dated %s, long past its time plus the slop, is still there: %s", s.tl.at(f.mtime), s.describe(f))
	}
	s.requireErr("the taker's Unlock", taker.Unlock(), nil)
	s.wantFiles("after the taker let go: the claim file not yet expired and the file that is no claim stay", young, notClaim)
}
