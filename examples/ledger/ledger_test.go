package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/examples/ledger"
	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
	"github.com/nfslock/nfslock/locker/vclock"
	"github.com/spf13/afero"
)

// The tests run on one in-memory file server, shared by simulated hosts.
// Its virtual clock stands still unless a test moves it: a lock that waits
// sleeps on it, and wakes when the clock is moved past its wake-up time, or
// at once when the lock file is removed (memfs tells waiting locks, as
// inotify does on a local disk).

const (
	dir      = "/shared"
	path     = dir + "/ledger.txt"
	lockPath = path + ".lock"
)

// newServer returns a file server with an empty /shared.
func newServer(t *testing.T) *memfs.FS {
	t.Helper()
	server := memfs.New()
	if err := server.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return server
}

// open returns the ledger as a new process of host h sees it, reaching the
// server through fsys (h itself if nil), with opts for its lock.
func open(t *testing.T, h *memfs.Host, fsys locker.FS, opts ...locker.Option) *ledger.Ledger {
	t.Helper()
	if fsys == nil {
		fsys = h
	}
	lock, err := locker.New(lockPath, fsys, append(h.Spawn().Options(), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &ledger.Ledger{Files: h.FS(), Path: path, Lock: lock}
}

// files lists /shared.
func files(t *testing.T, server *memfs.FS) []string {
	t.Helper()
	infos, err := afero.ReadDir(server, dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
	}
	return names
}

// wantOnlyTheLedger fails the test unless the ledger is the only file left:
// no lock file, no claim file.
func wantOnlyTheLedger(t *testing.T, server *memfs.FS) {
	t.Helper()
	if got := files(t, server); !slices.Equal(got, []string{"ledger.txt"}) {
		t.Errorf("%s holds %q, want only ledger.txt", dir, got)
	}
}

// Two hosts append at once; the lock makes them take turns, and no entry
// is lost.
func TestTwoHostsAppendWithoutLosingEntries(t *testing.T) {
	server := newServer(t)
	const n = 50
	var wg sync.WaitGroup
	for _, host := range []string{"alpha", "beta"} {
		l := open(t, server.Host(host), nil)
		wg.Go(func() {
			for i := range n {
				if err := l.Append(context.Background(), fmt.Sprintf("%s %d", host, i)); err != nil {
					t.Errorf("%s: Append: %v", host, err)
					return
				}
			}
		})
	}
	wg.Wait()
	entries, err := open(t, server.Host("gamma"), nil).Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2*n {
		t.Errorf("the ledger has %d entries, want %d: two appends overlapped and one was lost", len(entries), 2*n)
	}
	wantOnlyTheLedger(t, server)
}

// A lock with a lifetime of ten minutes, and a waiter that gives up after
// five: minutes of virtual time pass in microseconds.
func TestWaiterGivesUpAfterMinutes(t *testing.T) {
	server := newServer(t)
	clk := server.Clock()
	holder := open(t, server.Host("alpha"), nil, locker.WithLifetime(10*time.Minute))
	if err := holder.Lock.Lock(context.Background()); err != nil { // alpha is in the middle of a long append
		t.Fatal(err)
	}
	clk.AutoAdvance(true) // beta's waits move the clock: it is the only one that sleeps
	start := clk.Now()
	waiter := open(t, server.Host("beta"), nil, locker.WithTimeout(5*time.Minute))
	err := waiter.Append(context.Background(), "beta")
	waited := clk.Now().Sub(start)
	if !errors.Is(err, locker.ErrTimeout) {
		t.Fatalf("Append while alpha holds a 10-minute lock: got %v, want ErrTimeout after 5 minutes", err)
	}
	if waited < 5*time.Minute {
		t.Errorf("beta gave up after %v of virtual time, before its 5-minute timeout", waited)
	}
	if !holder.Lock.IsLocked() {
		t.Error("alpha lost its lock, 5 minutes into a 10-minute lifetime")
	}
}

// A holder that crashes leaves its lock; a waiter breaks it once it has been
// expired for longer than the clock slop, and not before.
func TestCrashedHoldersLockIsBrokenAfterLifetimePlusSlop(t *testing.T) {
	server := newServer(t)
	clk := server.Clock()
	ctx := context.Background()
	alpha := server.Host("alpha")
	crashed := alpha.Spawn()
	lock, err := locker.New(lockPath, alpha, append(crashed.Options(), locker.WithLifetime(10*time.Minute))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	crashed.Kill() // it never unlocks
	breakable, err := lock.Expiration()
	if err != nil {
		t.Fatal(err)
	}
	breakable = breakable.Add(locker.DefaultClockSlop)

	waiter := open(t, server.Host("beta"), nil)
	done := make(chan error, 1)
	go func() { done <- waiter.Append(ctx, "beta") }()

	// Move the clock to just before the lock may be broken, while beta
	// waits: beta looks again, and must still wait.
	waitForSleepers(t, clk)
	clk.Set(breakable.Add(-time.Nanosecond))
	waitForSleepers(t, clk)
	if holder, err := afero.ReadFile(server, lockPath); err != nil || string(holder) != lock.ClaimFile() {
		t.Fatalf("1 ns before the crashed lock may be broken, the lock file holds %q (%v), want the crashed holder's claim", holder, err)
	}
	// Past it: beta breaks the lock at its next look, within one backoff.
	clk.Advance(time.Nanosecond + locker.DefaultMaxBackoff)
	if err := <-done; err != nil {
		t.Fatalf("Append after the crashed holder's lock expired: %v", err)
	}
	if entries, _ := waiter.Entries(); !slices.Equal(entries, []string{"beta"}) {
		t.Errorf("the ledger holds %q, want [beta]", entries)
	}
	wantOnlyTheLedger(t, server) // the crashed holder's claim file went with its lock
}

// waitForSleepers waits until a lock sleeps on the clock (bounded in real
// time, so that a lock that never waits fails the test instead of hanging
// it).
func waitForSleepers(t *testing.T, clk *vclock.Clock) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal("no lock waits on the clock")
	}
}

// On NFS a link can succeed while its reply is lost; the client retries and
// gets EEXIST. The append must still happen, once.
func TestAppendSurvivesALostLinkReply(t *testing.T) {
	server := newServer(t)
	alpha := server.Host("alpha")
	faulty := faultfs.New(alpha)
	faulty.LoseReply(faultfs.OpLink, 1, syscall.EEXIST) // the next link is made, but reported as failed
	l := open(t, alpha, faulty)
	if err := l.Append(context.Background(), "alpha"); err != nil {
		t.Fatalf("Append with a lost link reply: %v", err)
	}
	if faulty.Calls(faultfs.OpLink) == 0 {
		t.Fatal("the lock made no link: the fault was not exercised")
	}
	if entries, _ := l.Entries(); !slices.Equal(entries, []string{"alpha"}) {
		t.Errorf("the ledger holds %q, want [alpha]", entries)
	}
	wantOnlyTheLedger(t, server)
}
