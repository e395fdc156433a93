package conformance

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// The rules of the queue of WithFairness (docs/algorithm.md, "Waiters
// served in order").

// fair is the option of the Locks that queue.
var fair = locker.WithFairness(true)

// needQueue skips a test of the queue on a backend that cannot list a
// directory, which the queue needs (New refuses WithFairness there).
func needQueue(t *testing.T, b Backend, fsys locker.FS) {
	t.Helper()
	if _, ok := fsys.(locker.DirReader); !ok {
		t.Skipf("%s cannot list a directory (it is no locker.DirReader): no Lock queues there (WithFairness needs a listing)", b.Name)
	}
}

// tickets returns the names of the scene's tickets, lowest first.
func (s *scene) tickets() []string {
	var out []string
	prefix := filepath.Base(s.path) + ".queue."
	for _, n := range s.files() {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// queueUp starts Lock of each waiter in turn, each once the one before it
// has its ticket, and returns where their results will come.
func (s *scene) queueUp(waiters ...*locker.Lock) []<-chan error {
	s.t.Helper()
	var done []<-chan error
	for i, w := range waiters {
		done = append(done, s.goDo(func() error { return w.Lock(s.ctx) }))
		s.waitUntil(fmt.Sprintf("waiter %d has its ticket", i+1), func() bool { return len(s.tickets()) == i+1 })
	}
	return done
}

// firstToReturn drives the clock until one of the calls whose results come
// on done returns, by limit, and returns its index and result. Only that
// one result is taken from done.
func (s *scene) firstToReturn(what string, done []<-chan error, limit time.Time) (int, error) {
	s.t.Helper()
	relay, stop := make(chan error, 1), make(chan struct{})
	defer close(stop)
	first := -1
	go func() {
		for {
			for i, d := range done {
				select {
				case err := <-d:
					first = i
					relay <- err
					return
				default:
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	// Time moves once every caller sleeps (a waiter at work must not
	// see the clock run ahead of it).
	err := s.drive(what, relay, limit, len(done))
	return first, err
}

func scenarioFairOrder(t *testing.T, b Backend) {
	s := newScene(t, b, "with WithFairness, waiters take the lock in the order they queued, each once the one before it has let it go, whoever polls at the right moment")
	needQueue(t, b, s.env.FS)
	holder := s.newLock(fair, long)
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	waiters := []*locker.Lock{s.newLock(fair, long), s.newLock(fair, long), s.newLock(fair, long)}
	done := s.queueUp(waiters...)
	s.requireErr("the holder's Unlock", holder.Unlock(), nil)
	for n := range waiters {
		limit := s.tl.now().Add(s.tl.lifetime)
		i, err := s.firstToReturn(fmt.Sprintf("the %d waiters' Locks", len(waiters)-n), done[n:], limit)
		i += n
		s.requireErr(fmt.Sprintf("waiter %d's Lock", i+1), err, nil)
		if i != n {
			s.fatalf("waiter %d took the lock before waiter %d, which queued before it (tickets now %q)", i+1, n+1, s.tickets())
		}
		if !waiters[n].IsLocked() {
			s.fatalf("waiter %d's Lock returned nil and its IsLocked = false", n+1)
		}
		for j := n + 1; j < len(waiters); j++ {
			if !s.stillWaiting(fmt.Sprintf("waiter %d's Lock", j+1), fmt.Sprintf("waiter %d holds the lock", n+1), done[j]) {
				s.fatalf("TWO HOLDERS: waiter %d returned while waiter %d holds the lock", j+1, n+1)
			}
		}
		s.requireErr(fmt.Sprintf("waiter %d's Unlock", n+1), waiters[n].Unlock(), nil)
	}
	s.wantFiles("after every waiter took the lock and let it go")
}

func scenarioFairTryDoesNotPass(t *testing.T, b Backend) {
	s := newScene(t, b, "with WithFairness, TryLock of a free lock reports it busy while a live waiter queues for it (it would pass the waiter), and takes it once the queue is empty")
	needQueue(t, b, s.env.FS)
	holder := s.newLock(fair, long)
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	faults := faultfs.New(s.env.FS)
	waiter := s.newLockOn(faults, s.path, fair, long)
	done := s.queueUp(waiter)
	// The waiter stops at its next call; the lock is let go meanwhile.
	paused, goOn := s.pauseAt(faults, func(faultfs.Op, []string) bool { return true })
	stopped := make(chan error, 1)
	go func() {
		select {
		case <-paused:
			stopped <- nil
		case err := <-done[0]:
			stopped <- fmt.Errorf("the waiter's Lock returned %s while the lock was held", errText(err))
		}
	}()
	s.requireErr("the waiter's next call", s.drive("the waiter's next call", stopped, s.tl.now().Add(s.tl.lifetime), 1), nil)
	s.requireErr("the holder's Unlock", holder.Unlock(), nil)
	newcomer := s.newLock(fair, long)
	s.checkErr("a newcomer's TryLock of the free lock while a waiter queues", newcomer.TryLock(), locker.ErrBusy)
	if newcomer.IsLocked() {
		s.fatalf("the newcomer holds the lock it was refused")
	}
	goOn()
	s.requireErr("the waiter's Lock once it goes on", s.drive("the waiter's Lock", done[0], s.tl.now().Add(s.tl.lifetime), 1), nil)
	s.requireErr("the waiter's Unlock", waiter.Unlock(), nil)
	s.checkErr("the newcomer's TryLock once the queue is empty", newcomer.TryLock(), nil)
	s.checkErr("the newcomer's Unlock", newcomer.Unlock(), nil)
	s.wantFiles("after everyone left")
}

func scenarioFairDeadWaiter(t *testing.T, b Backend) {
	s := newScene(t, b, "with WithFairness, a dead waiter holds up the waiters behind it until its ticket has been expired for longer than the slop, never less, and within a backoff step more")
	needQueue(t, b, s.env.FS)
	holder := s.newLock(fair, long)
	s.requireErr("the holder's Lock", holder.Lock(s.ctx), nil)
	faults := faultfs.New(s.env.FS)
	dead := s.newLockOn(faults, s.path, fair)
	// The dead waiter stops for good just after it took its ticket.
	ticket := s.path + ".queue.1"
	paused, goOn := s.pauseAt(faults, after(faultfs.OpLink, ticket))
	deadCtx, stop := context.WithCancel(s.ctx)
	deadDone := s.startPaused("the dead waiter's Lock", func() error { return dead.Lock(deadCtx) }, paused)
	// At the end the dead waiter goes on, and is stopped and waited for,
	// lest it write in the directory as it is removed.
	t.Cleanup(func() {
		stop()
		goOn()
		<-deadDone
	})
	t0 := s.look(ticket)
	if !t0.exists {
		s.fatalf("the dead waiter has no ticket %s: files %q", ticket, s.files())
	}
	boundary := t0.mtime.Add(s.tl.slop)
	next := s.newLock(fair, long)
	done := s.goDo(func() error { return next.Lock(s.ctx) })
	s.waitUntil("the next waiter has its ticket", func() bool { return len(s.tickets()) == 2 })
	s.requireErr("the holder's Unlock", holder.Unlock(), nil)

	before := boundary.Add(-s.tl.near)
	if s.tl.virtual != nil {
		before = boundary
	} else {
		before = before.Add(-s.tl.lag)
	}
	s.stepTo(before)
	ok := s.stillWaiting("the next waiter's Lock", "the dead waiter's ticket may not be removed yet", done)
	if !s.inTime(boundary, "checking that the next waiter still waits") {
		return
	}
	if !ok || next.IsLocked() {
		s.fatalf("the waiter behind a dead one took the lock at %s, before the dead one's ticket expiry+slop %s", s.tl.at(s.tl.now()), s.tl.at(boundary))
	}
	limit := boundary.Add(s.tl.maxBackoff + s.tl.lag + 10*driveStep)
	s.requireErr("the next waiter's Lock", s.drive("the next waiter's Lock", done, limit, 1), nil)
	if f := s.look(ticket); f.exists {
		s.errorf("the dead waiter's ticket %s is still there after the next waiter took the lock: %s", ticket, s.describe(f))
	}
	s.requireErr("the next waiter's Unlock", next.Unlock(), nil)
}
