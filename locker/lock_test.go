package locker_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

var ctx = context.Background()

func TestNewRejectsBadInput(t *testing.T) {
	w := newWorld(t)
	if err := w.fs.MkdirAll(dir+"/sub.lock", 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		opts []locker.Option
		want string // in the message
	}{
		{"empty path", "", nil, "empty lock path"},
		{"directory", dir + "/sub.lock", nil, "is a directory"},
		{"trailing slash", dir + "/x.lock/", nil, "names a directory"},
		{"path contains separator", dir + "/a|b.lock", nil, "contains the separator"},
		{"path contains custom separator", dir + "/a+b.lock", []locker.Option{locker.WithSeparator("+")}, "contains the separator"},
		{"zero lifetime", lockPath, []locker.Option{locker.WithLifetime(0)}, "lifetime 0s is not positive"},
		{"negative lifetime", lockPath, []locker.Option{locker.WithLifetime(-time.Second)}, "lifetime -1s is not positive"},
		{"letter separator", lockPath, []locker.Option{locker.WithSeparator("x")}, "must not be a letter"},
		{"empty separator", lockPath, []locker.Option{locker.WithSeparator("")}, "single character"},
		{"long separator", lockPath, []locker.Option{locker.WithSeparator("||")}, "single character"},
		{"slash separator", lockPath, []locker.Option{locker.WithSeparator("/")}, "ambiguous"},
		{"host contains separator", lockPath, []locker.Option{locker.WithHostname("a|b")}, "host name"},
		{"empty host", lockPath, []locker.Option{locker.WithHostname("")}, "empty host name"},
		{"zero pid", lockPath, []locker.Option{locker.WithPID(0)}, "pid 0"},
		{"negative timeout", lockPath, []locker.Option{locker.WithTimeout(-1)}, "timeout"},
		{"negative slop", lockPath, []locker.Option{locker.WithClockSlop(-1)}, "slop"},
		{"bad backoff", lockPath, []locker.Option{locker.WithBackoff(time.Second, time.Millisecond)}, "backoff"},
		{"nil clock", lockPath, []locker.Option{locker.WithClock(nil)}, "nil clock"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := append(w.host.Spawn().Options(), tt.opts...)
			l, err := locker.New(tt.path, w.host, opts...)
			if err == nil {
				t.Fatalf("New(%q) = %v, want an error", tt.path, l)
			}
			if !errors.Is(err, locker.ErrInvalid) {
				t.Errorf("error %q does not wrap ErrInvalid", err)
			}
			var le *locker.Error
			if !errors.As(err, &le) || le.Op != "new" {
				t.Errorf("error %q is not an *Error with Op \"new\"", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
	w.wantFiles(t, dir+"/sub.lock")
	if _, err := locker.New(lockPath, nil); !errors.Is(err, locker.ErrInvalid) {
		t.Errorf("New with a nil backend: got %v, want ErrInvalid", err)
	}
}

func TestAcquireAndRelease(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	if l.IsLocked() {
		t.Fatal("IsLocked before locking")
	}
	if err := l.Lock(ctx); err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if !l.IsLocked() {
		t.Fatal("IsLocked = false after Lock")
	}
	w.wantFiles(t, lockPath, l.ClaimFile())
	if _, n := w.stat(t, lockPath); n != 2 {
		t.Errorf("lock file has %d links, want 2", n)
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	if l.IsLocked() {
		t.Error("IsLocked after Unlock")
	}
	w.wantFiles(t)
	// A Lock can be taken again after release.
	if err := l.TryLock(); err != nil {
		t.Fatalf("TryLock after Unlock: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatalf("second Unlock: %v", err)
	}
	w.wantFiles(t)
}

// TestWireFormat checks the files against flufl.lock's format byte for byte.
func TestWireFormat(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil, locker.WithLifetime(42*time.Second))
	start := w.clk.Now()
	if err := l.TryLock(); err != nil {
		t.Fatal(err)
	}
	claim := l.ClaimFile()
	parts := strings.Split(claim, "|")
	if len(parts) != 4 {
		t.Fatalf("claim name %q has %d |-separated parts, want 4", claim, len(parts))
	}
	if parts[0] != lockPath || parts[1] != "alpha" || parts[2] != strconv.Itoa(l.PID()) {
		t.Errorf("claim name %q: want %q|alpha|%d|<random>", claim, lockPath, l.PID())
	}
	if r, err := strconv.ParseInt(parts[3], 10, 64); err != nil || r < 0 {
		t.Errorf("claim name %q: random part is not a non-negative int64", claim)
	}
	if got := w.read(t, claim); got != claim {
		t.Errorf("claim file contains %q, want exactly its own name %q", got, claim)
	}
	if got := w.read(t, lockPath); got != claim {
		t.Errorf("lock file contains %q, want the claim name %q", got, claim)
	}
	mtime, _ := w.stat(t, lockPath)
	if want := start.Add(42 * time.Second); !mtime.Equal(want) {
		t.Errorf("lock file mtime = %v, want now + lifetime = %v", mtime, want)
	}
	exp, err := l.Expiration()
	if err != nil || !exp.Equal(mtime) {
		t.Errorf("Expiration() = %v, %v; want the mtime %v", exp, err, mtime)
	}
	if l.Lifetime() != 42*time.Second {
		t.Errorf("Lifetime() = %v", l.Lifetime())
	}
	other := w.newLock(t, nil, nil)
	if other.ClaimFile() == claim {
		t.Error("two Locks share a claim name")
	}
}

func TestAlreadyLocked(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.TryLock(); !errors.Is(err, locker.ErrAlreadyLocked) {
		t.Errorf("TryLock while held: got %v, want ErrAlreadyLocked", err)
	}
	if err := l.Lock(ctx); !errors.Is(err, locker.ErrAlreadyLocked) {
		t.Errorf("Lock while held: got %v, want ErrAlreadyLocked", err)
	}
	if !l.IsLocked() {
		t.Error("lock no longer held after a refused second Lock")
	}
	if got := w.read(t, lockPath); got != l.ClaimFile() {
		t.Errorf("lock file contents changed to %q", got)
	}
}

func TestSecondLockTimesOutNamingHolder(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	waiter := w.newLock(t, nil, nil, locker.WithTimeout(time.Second))
	start := w.clk.Now()
	err := waiter.Lock(ctx)
	if !errors.Is(err, locker.ErrTimeout) {
		t.Fatalf("Lock: got %v, want ErrTimeout", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a default-timeout error %q claims the context's deadline passed", err)
	}
	if waited := w.clk.Now().Sub(start); waited < time.Second || waited > 2*time.Second {
		t.Errorf("waited %v of virtual time, want about the 1s timeout", waited)
	}
	var le *locker.Error
	if !errors.As(err, &le) || le.Holder == nil || le.Holder.PID != holder.PID() || le.Holder.Hostname != "alpha" {
		t.Fatalf("error %q does not carry the holder alpha pid %d", err, holder.PID())
	}
	for _, want := range []string{`host "alpha"`, fmt.Sprintf("pid %d", holder.PID()), "expires"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %s", err, want)
		}
	}
	w.wantFiles(t, lockPath, holder.ClaimFile())
	if err := waiter.TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Errorf("TryLock on a held lock: got %v, want ErrBusy", err)
	}
	w.wantFiles(t, lockPath, holder.ClaimFile())
}

func TestContextEndsWait(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, nil, nil, locker.WithLifetime(time.Hour))
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	waiter := w.newLock(t, nil, nil)

	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	err := waiter.Lock(dctx)
	if !errors.Is(err, locker.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Lock with an expiring context: got %v, want ErrTimeout and context.DeadlineExceeded", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err = waiter.Lock(cctx)
	if !errors.Is(err, context.Canceled) || errors.Is(err, locker.ErrTimeout) {
		t.Errorf("Lock with a cancelled context: got %v, want context.Canceled and not ErrTimeout", err)
	}
	w.wantFiles(t, lockPath, holder.ClaimFile())
}

func TestWaiterTakesReleasedLock(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	waiter := w.newLock(t, nil, nil, locker.WithTimeout(time.Minute))
	done := make(chan error, 1)
	go func() { done <- waiter.Lock(ctx) }()
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultMaxBackoff)
	if err := <-done; err != nil {
		t.Fatalf("waiter's Lock: %v", err)
	}
	if !waiter.IsLocked() || holder.IsLocked() {
		t.Errorf("after hand-off: waiter.IsLocked=%v holder.IsLocked=%v, want true, false", waiter.IsLocked(), holder.IsLocked())
	}
}

// TestBreakingAfterLifetimePlusSlop checks flufl.lock's expiry rule: a lock
// may be broken once lifetime + slop have passed, and not a moment before.
func TestBreakingAfterLifetimePlusSlop(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	breaker := w.newLock(t, nil, nil)
	w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop)
	if err := breaker.TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Fatalf("TryLock exactly at expiry + slop: got %v, want ErrBusy", err)
	}
	if !holder.IsLocked() {
		t.Fatal("holder lost the lock at exactly expiry + slop")
	}
	w.clk.Advance(time.Nanosecond)
	if err := breaker.TryLock(); err != nil {
		t.Fatalf("TryLock just after expiry + slop: %v", err)
	}
	if holder.IsLocked() || !breaker.IsLocked() {
		t.Errorf("after breaking: holder.IsLocked=%v breaker.IsLocked=%v", holder.IsLocked(), breaker.IsLocked())
	}
	// The breaker removed the old holder's claim file.
	w.wantFiles(t, lockPath, breaker.ClaimFile())
	if err := holder.Refresh(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Refresh by the broken holder: got %v, want ErrNotLocked", err)
	}
	if err := holder.Unlock(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Unlock by the broken holder: got %v, want ErrNotLocked", err)
	}
	if !breaker.IsLocked() {
		t.Error("the broken holder's Unlock released the new holder's lock")
	}
	w.wantFiles(t, lockPath, breaker.ClaimFile())
}

func TestLockBreaksExpiredLockWhileWaiting(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	start := w.clk.Now()
	waiter := w.newLock(t, nil, nil)
	if err := waiter.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	waited := w.clk.Now().Sub(start)
	limit := locker.DefaultLifetime + locker.DefaultClockSlop + locker.DefaultMaxBackoff
	if waited <= locker.DefaultLifetime+locker.DefaultClockSlop || waited > limit {
		t.Errorf("waiter took the crashed holder's lock after %v, want within (lifetime+slop, lifetime+slop+max backoff] = %v", waited, limit)
	}
	w.wantFiles(t, lockPath, waiter.ClaimFile())
}

func TestRefresh(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	l := w.newLock(t, nil, nil)
	if err := l.Refresh(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Refresh before Lock: got %v, want ErrNotLocked", err)
	}
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(10 * time.Second)
	if err := l.Refresh(); err != nil {
		t.Fatal(err)
	}
	if exp, _ := l.Expiration(); !exp.Equal(w.clk.Now().Add(locker.DefaultLifetime)) {
		t.Errorf("after Refresh the lock expires %v, want now + lifetime %v", exp, w.clk.Now().Add(locker.DefaultLifetime))
	}
	if err := l.RefreshLifetime(time.Hour); err != nil {
		t.Fatal(err)
	}
	if exp, _ := l.Expiration(); !exp.Equal(w.clk.Now().Add(time.Hour)) || l.Lifetime() != time.Hour {
		t.Errorf("after RefreshLifetime(1h): expires %v, lifetime %v", exp, l.Lifetime())
	}
	if err := l.RefreshLifetime(0); !errors.Is(err, locker.ErrInvalid) {
		t.Errorf("RefreshLifetime(0): got %v, want ErrInvalid", err)
	}
	// The refreshed lock is not breakable after the old lifetime.
	w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop + time.Second)
	if err := w.newLock(t, nil, nil).TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Errorf("TryLock on a refreshed lock: got %v, want ErrBusy", err)
	}
}

// TestLifetimeCountsFromAcquisition checks that a waiter's lock expires a
// lifetime after it got the lock, not after it first wrote its claim.
func TestLifetimeCountsFromAcquisition(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	// Without the watcher, which would wake the waiter at the release,
	// before the clock moves on: it takes the lock when the clock wakes it.
	waiter := w.newLock(t, nil, nil, locker.WithWatcher(false))
	done := make(chan error, 1)
	go func() { done <- waiter.Lock(ctx) }()
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(5 * time.Second) // the waiter wakes, finds the lock busy, sleeps again
	if err := w.clk.BlockUntilSleepers(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultMaxBackoff) // the waiter wakes and takes the lock
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	exp, _ := waiter.Expiration()
	if want := w.clk.Now().Add(locker.DefaultLifetime); !exp.Equal(want) {
		t.Errorf("lock taken at %v expires %v, want %v", w.clk.Now(), exp, want)
	}
}

func TestUnlockWhenNotHeld(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	if err := l.Unlock(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Unlock before Lock: got %v, want ErrNotLocked", err)
	}
	if err := l.UnlockUnconditionally(); err != nil {
		t.Errorf("UnlockUnconditionally before Lock: %v", err)
	}
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Unlock of another's lock: got %v, want ErrNotLocked", err)
	}
	if err := l.UnlockUnconditionally(); err != nil {
		t.Errorf("UnlockUnconditionally of another's lock: %v", err)
	}
	if !holder.IsLocked() {
		t.Error("another Lock's Unlock released the holder's lock")
	}
	w.wantFiles(t, lockPath, holder.ClaimFile())
	if err := holder.UnlockUnconditionally(); err != nil {
		t.Fatal(err)
	}
	w.wantFiles(t)
}

// TestForeignFileAtLockPath: a file that is not a lock is never removed or
// changed, and Lock says so at once instead of waiting for ever.
func TestForeignFileAtLockPath(t *testing.T) {
	for _, contents := range []string{"", "precious data\n", "a|b|c", "/other.lock|h|1|2", "/locks/resource.lock|h|x|2"} {
		t.Run(fmt.Sprintf("%q", contents), func(t *testing.T) {
			w := newWorld(t)
			if err := w.fs.WriteFile(lockPath, []byte(contents), 0o644); err != nil {
				t.Fatal(err)
			}
			mtime, _ := w.stat(t, lockPath)
			// Long after the file "expired", nothing may break it.
			w.clk.Advance(24 * time.Hour)
			faults := memfs.NewFaultFS(w.host)
			l := w.newLock(t, nil, faults)
			err := l.Lock(ctx)
			if !errors.Is(err, locker.ErrForeignFile) {
				t.Fatalf("Lock: got %v, want ErrForeignFile", err)
			}
			if n := faults.Calls(memfs.OpLink); n != 1 {
				t.Errorf("Lock made %d link attempts, want 1", n)
			}
			if err := l.TryLock(); !errors.Is(err, locker.ErrForeignFile) {
				t.Errorf("TryLock: got %v, want ErrForeignFile", err)
			}
			if got := w.read(t, lockPath); got != contents {
				t.Errorf("foreign file now contains %q, want %q", got, contents)
			}
			if m, n := w.stat(t, lockPath); !m.Equal(mtime) || n != 1 {
				t.Errorf("foreign file mtime %v links %d, want %v and 1", m, n, mtime)
			}
			if _, err := l.Details(); !errors.Is(err, locker.ErrForeignFile) {
				t.Errorf("Details: got %v, want ErrForeignFile", err)
			}
			if err := l.UnlockUnconditionally(); err != nil {
				t.Errorf("UnlockUnconditionally: %v", err)
			}
			w.wantFiles(t, lockPath)
		})
	}
}

func TestDirectoryProblemsFailFirstAttempt(t *testing.T) {
	w := newWorld(t)
	if err := w.fs.MkdirAll("/ro", 0o555); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path    string
		wantErr error
		wantMsg string
	}{
		{"/missing/x.lock", syscall.ENOENT, "directory /missing does not exist"},
		{"/ro/x.lock", syscall.EACCES, "directory /ro is not writable"},
	}
	for _, tt := range tests {
		p := w.host.Spawn()
		l, err := locker.New(tt.path, w.host, p.Options()...)
		if err != nil {
			t.Fatalf("New(%q): %v; a missing or unwritable directory must be reported by the first attempt", tt.path, err)
		}
		for name, try := range map[string]func() error{"Lock": func() error { return l.Lock(ctx) }, "TryLock": l.TryLock} {
			err := try()
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("%s(%s): got %v, want %v saying %q", name, tt.path, err, tt.wantErr, tt.wantMsg)
			}
		}
	}
	if names, _ := w.fs.Open("/ro"); names != nil {
		if n, _ := names.Readdirnames(-1); len(n) != 0 {
			t.Errorf("files left in /ro: %q", n)
		}
	}
}

// TestLinkErrorsRetried: ENOENT and ESTALE from link are retried, as in
// flufl.lock; other errors fail at once and leave nothing behind.
func TestLinkErrorsRetried(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		wantLinks int
		wantErr   error
	}{
		{"ENOENT", syscall.ENOENT, 2, nil},
		{"ESTALE", locker.Transient(syscall.ESTALE), 2, nil},
		{"EIO", syscall.EIO, 1, syscall.EIO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t)
			faults := memfs.NewFaultFS(w.host)
			faults.Fail(memfs.OpLink, 1, tt.err)
			l := w.newLock(t, nil, faults)
			err := l.Lock(ctx)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Lock: got %v, want %v", err, tt.wantErr)
			}
			if n := faults.Calls(memfs.OpLink); n != tt.wantLinks {
				t.Errorf("%d link calls, want %d", n, tt.wantLinks)
			}
			if tt.wantErr != nil {
				w.wantFiles(t)
			} else {
				w.wantFiles(t, lockPath, l.ClaimFile())
			}
		})
	}
}

func TestRetryErrorsOption(t *testing.T) {
	w := newWorld(t)
	holder := w.newLock(t, nil, nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	faults := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, faults, locker.WithRetryErrors(syscall.EIO))
	faults.Fail(memfs.OpReadFile, 1, syscall.EIO)
	d, err := l.Details()
	if err != nil || d.PID != holder.PID() {
		t.Errorf("Details with one EIO read, EIO retryable: got %+v, %v", d, err)
	}
	plain := w.newLock(t, nil, faults)
	faults.Fail(memfs.OpReadFile, 1, syscall.EIO)
	if _, err := plain.Details(); !errors.Is(err, syscall.EIO) {
		t.Errorf("Details with one EIO read, EIO not retryable: got %v, want EIO", err)
	}
}

// TestLostLinkReply: on NFS a link can succeed while the client sees an
// error. The lock is then ours, and must be recognised as such.
func TestLostLinkReply(t *testing.T) {
	for _, e := range []error{syscall.EEXIST, syscall.EIO} {
		t.Run(e.Error(), func(t *testing.T) {
			w := newWorld(t)
			faults := memfs.NewFaultFS(w.host)
			faults.LoseReply(memfs.OpLink, 1, e)
			l := w.newLock(t, nil, faults)
			if err := l.TryLock(); err != nil {
				t.Fatalf("TryLock whose link reply was lost: %v", err)
			}
			if !l.IsLocked() {
				t.Fatal("not locked")
			}
			if err := l.TryLock(); !errors.Is(err, locker.ErrAlreadyLocked) {
				t.Errorf("second TryLock: got %v, want ErrAlreadyLocked", err)
			}
			if err := l.Unlock(); err != nil {
				t.Fatal(err)
			}
			w.wantFiles(t)
		})
	}
}

func TestState(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	l := w.newLock(t, nil, nil)
	check := func(want locker.State) {
		t.Helper()
		got, err := l.State()
		if err != nil || got != want {
			t.Errorf("State() = %v, %v; want %v", got, err, want)
		}
	}
	check(locker.Unlocked)
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	check(locker.Ours)
	w.clk.Advance(locker.DefaultLifetime + time.Nanosecond)
	check(locker.OursExpired)
	if err := l.UnlockUnconditionally(); err != nil {
		t.Fatal(err)
	}

	// Another live process on this host.
	p := w.host.Spawn()
	other, err := locker.New(lockPath, w.host, p.Options()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	check(locker.Unknown)
	w.clk.Advance(locker.DefaultLifetime + time.Nanosecond)
	check(locker.TheirsExpired)
	p.Kill()
	check(locker.Stale)
	if err := other.UnlockUnconditionally(); err != nil {
		t.Fatal(err)
	}

	// Another host.
	remote := w.newLock(t, w.fs.Host("beta"), nil)
	if err := remote.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	check(locker.Unknown)
	if err := remote.Unlock(); err != nil {
		t.Fatal(err)
	}
	// A foreign file.
	if err := w.fs.WriteFile(lockPath, []byte("not a lock"), 0o644); err != nil {
		t.Fatal(err)
	}
	check(locker.Unknown)

	for s, name := range map[locker.State]string{locker.Unlocked: "unlocked", locker.Ours: "ours", locker.OursExpired: "ours_expired", locker.Stale: "stale", locker.TheirsExpired: "theirs_expired", locker.Unknown: "unknown"} {
		if s.String() != name {
			t.Errorf("State(%d).String() = %q, want %q", int(s), s.String(), name)
		}
	}
}

func TestDetails(t *testing.T) {
	w := newWorld(t)
	l := w.newLock(t, nil, nil)
	if _, err := l.Details(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Details with no lock file: got %v, want ErrNotLocked", err)
	}
	if _, err := l.Expiration(); !errors.Is(err, locker.ErrNotLocked) {
		t.Errorf("Expiration with no lock file: got %v, want ErrNotLocked", err)
	}
	holder := w.newLock(t, w.fs.Host("beta"), nil)
	if err := holder.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	d, err := l.Details()
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := holder.Expiration()
	want := locker.Details{Hostname: "beta", PID: holder.PID(), LockFile: lockPath, Expires: exp}
	if d != want {
		t.Errorf("Details() = %+v, want %+v", d, want)
	}
}

// TestBreakerRestoresALockTakenMeanwhile: a waiter judges the lock expired,
// but before it breaks it the lock is released by a process that does not
// know nfslock's break lock (a flufl.lock process removes the lock file
// directly) and taken afresh. The breaker must leave the fresh lock in
// place (flufl.lock deletes it).
func TestBreakerRestoresALockTakenMeanwhile(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(false)
	old := w.newLock(t, nil, nil)
	if err := old.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	w.clk.Advance(locker.DefaultLifetime + locker.DefaultClockSlop + time.Second)
	fresh := w.newLock(t, nil, nil)
	faults := memfs.NewFaultFS(w.host)
	breaker := w.newLock(t, nil, faults)
	faults.SetHook(func(op memfs.Op, args ...string) {
		if op != memfs.OpRename {
			return
		}
		faults.SetHook(nil)
		// Just before the breaker moves the lock aside, the old holder
		// releases as flufl.lock does and a fresh one takes the lock.
		if err := w.fs.Remove(lockPath); err != nil {
			t.Errorf("removing the old lock: %v", err)
		}
		if err := fresh.TryLock(); err != nil {
			t.Errorf("fresh.TryLock: %v", err)
		}
	})
	if err := breaker.TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Errorf("breaker's TryLock: got %v, want ErrBusy", err)
	}
	if !fresh.IsLocked() {
		t.Fatal("the breaker removed a fresh lock: two holders possible")
	}
	if breaker.IsLocked() {
		t.Fatal("breaker and fresh holder both hold the lock")
	}
	w.wantFiles(t, lockPath, fresh.ClaimFile(), old.ClaimFile())
}
