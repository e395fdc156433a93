package locker_test

import (
	"context"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/afero"
)

// TestQueueListsWaitersInTurn: Queue lists the waiters of a fair lock in
// the order they are served, each with its host, pid and ticket date; it
// leaves out what only looks like a ticket, and changes no file.
func TestQueueListsWaitersInTurn(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false) // the holder holds until it lets go
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if q, err := holder.Queue(); err != nil || len(q) != 0 {
		t.Fatalf("Queue with no one waiting: %v, %v; want none", q, err)
	}
	// Something at a ticket's name that is no ticket of this lock.
	if err := afero.WriteFile(w.fs, lockPath+".queue.1", []byte("not a ticket"), 0o644); err != nil {
		t.Fatal(err)
	}
	hosts := []string{"beta", "gamma"}
	var waiters []*locker.Lock
	var done []chan error
	for i, host := range hosts {
		l := w.newLock(t, w.fs.Host(host), nil, locker.WithFairness(true), locker.WithWatcher(false))
		ch := make(chan error, 1)
		go func() { ch <- l.Lock(ctx) }()
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := w.clk.BlockUntilSleepers(wctx, i+1)
		cancel()
		if err != nil {
			t.Fatalf("waiter %d never waited: %v", i+1, err)
		}
		waiters, done = append(waiters, l), append(done, ch)
	}
	before := w.files(t)
	q, err := holder.Queue()
	if err != nil {
		t.Fatalf("Queue: %v", err)
	}
	if len(q) != len(hosts) {
		t.Fatalf("Queue: %+v; want the %d waiters", q, len(hosts))
	}
	for i, tk := range q {
		// Ticket 1 is the file that is no ticket.
		if tk.Hostname != hosts[i] || tk.PID != waiters[i].PID() || tk.LockFile != lockPath || tk.Number != i+2 || tk.Expired || !tk.Expires.After(w.clk.Now()) {
			t.Errorf("Queue()[%d] = %+v; want waiter %d (host %s, pid %d, ticket %d), dated after now (%v)",
				i, tk, i+1, hosts[i], waiters[i].PID(), i+2, w.clk.Now())
		}
	}
	if after := w.files(t); len(after) != len(before) {
		t.Errorf("Queue changed the directory: %v, then %v", before, after)
	}

	// Served in that order: the first waiter, then the second.
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := w.advanceUntil(t, done[0]); err != nil {
		t.Fatalf("the first waiter's Lock: %v", err)
	}
	if q, err := waiters[0].Queue(); err != nil || len(q) != 1 || q[0].Hostname != hosts[1] {
		t.Errorf("Queue once the first waiter holds: %+v, %v; want the second waiter alone", q, err)
	}
	if err := waiters[0].Unlock(); err != nil {
		t.Fatal(err)
	}
	if err := w.advanceUntil(t, done[1]); err != nil {
		t.Fatalf("the second waiter's Lock: %v", err)
	}
	if q, err := waiters[1].Queue(); err != nil || len(q) != 0 {
		t.Errorf("Queue once both were served: %+v, %v; want none", q, err)
	}
	if err := waiters[1].Unlock(); err != nil {
		t.Fatal(err)
	}
}

// advanceUntil moves the clock on in small steps until done reports, and
// returns what it reports; it fails the test after 10 s of real time.
func (w *world) advanceUntil(t *testing.T, done <-chan error) error {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		select {
		case err := <-done:
			return err
		case <-time.After(time.Millisecond):
			w.clk.Advance(50 * time.Millisecond)
		}
	}
	t.Fatal("a waiter's Lock did not return within 10 s of real time")
	return nil
}
