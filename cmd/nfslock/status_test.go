//go:build unix

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
)

// takeLock takes path with the library, in the name of pid (and host, if
// not empty), and dates its expiry at expires unless that is zero.
func takeLock(t *testing.T, path string, pid int, host string, expires time.Time) *locker.Lock {
	t.Helper()
	opts := []locker.Option{locker.WithPID(pid)}
	if host != "" {
		opts = append(opts, locker.WithHostname(host))
	}
	l, err := locker.New(path, posix.New(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !expires.IsZero() {
		if err := os.Chtimes(path, expires, expires); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

// deadPID is the pid of a process that has exited and been reaped, and
// that no process has taken since, as the backend checks.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	if alive, err := posix.New().ProcessAlive("", pid); err != nil || alive {
		t.Fatalf("pid %d of a reaped child: alive %v (%v), want no process", pid, alive, err)
	}
	return pid
}

// livePID is the pid of a process that runs until the test ends.
func livePID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "3600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

// TestStatusAgreesWithTheLibrary: status --json reports what the library's
// State and Details say, for each of flufl.lock's states.
func TestStatusAgreesWithTheLibrary(t *testing.T) {
	me := os.Getpid() // the parent of the nfslock the test runs: "ours" by default
	past := time.Now().Add(-time.Minute)
	for _, tt := range []struct {
		name  string
		setup func(path string)
		state string // nfslock's; flufl_state must be the library's
		code  int
	}{
		{"unlocked", func(string) {}, "unlocked", 0},
		{"ours", func(p string) { takeLock(t, p, me, "", time.Time{}) }, "ours", 1},
		{"ours_expired", func(p string) { takeLock(t, p, me, "", past) }, "ours_expired", 1},
		{"stale", func(p string) { takeLock(t, p, deadPID(t), "", time.Time{}) }, "stale", 1},
		{"theirs_expired", func(p string) { takeLock(t, p, livePID(t), "", past) }, "theirs_expired", 1},
		{"held: a live process of this host", func(p string) { takeLock(t, p, livePID(t), "", time.Time{}) }, "held", 1},
		{"held: another host", func(p string) { takeLock(t, p, me, "elsewhere.example", time.Time{}) }, "held", 1},
		{"theirs_expired: another host", func(p string) { takeLock(t, p, me, "elsewhere.example", past) }, "theirs_expired", 1},
		{"not a lock", func(p string) { os.WriteFile(p, []byte("not a lock"), 0o644) }, "not_a_lock", exitDataErr},
		{"not a lock: a FIFO", func(p string) { syscall.Mkfifo(p, 0o644) }, "not_a_lock", exitDataErr},
		{"not a lock: a symbolic link", func(p string) { os.Symlink("elsewhere", p) }, "not_a_lock", exitDataErr},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "lock.lock")
			tt.setup(path)
			before := files(t, dir)
			r := run(t, dir, "status", "--json", "lock.lock")
			if r.code != tt.code {
				t.Errorf("status exit: want %d; got %v", tt.code, r)
			}
			var got statusReport
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("status --json output does not parse: %v\n%s", err, r.stdout)
			}
			lib, err := locker.New(path, posix.New(), locker.WithPID(me))
			if err != nil {
				t.Fatal(err)
			}
			st, err := lib.State()
			if err != nil && !errors.Is(err, locker.ErrForeignFile) {
				t.Fatal(err)
			}
			if err != nil {
				st = locker.Unknown
			}
			if got.FluflState != st.String() || got.State != tt.state {
				t.Errorf("status --json state %q, flufl_state %q; the library's State() says %q; want state %q", got.State, got.FluflState, st, tt.state)
			}
			if got.LockFile != path {
				t.Errorf("lock_file %q, want %q", got.LockFile, path)
			}
			if got.Held != (tt.code == 1) || got.NotALock != (tt.code == exitDataErr) {
				t.Errorf("held=%v not_a_lock=%v for exit %d", got.Held, got.NotALock, tt.code)
			}
			d, derr := lib.Details()
			switch {
			case derr != nil && got.Holder != nil:
				t.Errorf("holder %+v reported, but the library's Details() says %v", got.Holder, derr)
			case derr == nil && got.Holder == nil:
				t.Errorf("no holder reported; the library's Details() says %+v", d)
			case derr == nil:
				h := got.Holder
				contents := readFile(t, path)
				if h.Host != d.Hostname || h.PID != d.PID || h.LockFile != d.LockFile || !h.Expires.Equal(d.Expires) || h.ClaimFile != contents {
					t.Errorf("holder %+v; the library's Details() says %+v, and the claim file is %s", *h, d, contents)
				}
				left := time.Until(d.Expires).Seconds()
				if h.ExpiresInSeconds > left+1 || h.ExpiresInSeconds < left-5 {
					t.Errorf("expires_in_seconds %v; the lock expires in %vs", h.ExpiresInSeconds, left)
				}
				if wantBreakable := d.Expires.Before(time.Now().Add(-locker.DefaultClockSlop)); h.Breakable != wantBreakable {
					t.Errorf("breakable %v for a lock expiring %v", h.Breakable, d.Expires)
				}
			}
			if got.ClockOffsetSeconds == nil {
				t.Errorf("no clock offset: %s", got.ClockOffsetError)
			}
			wantFiles(t, dir, before...) // status changed nothing
		})
	}
}

func TestStatusOfALockInAMissingDirectory(t *testing.T) {
	if r := run(t, t.TempDir(), "status", "missing/lock.lock"); r.code != exitNoInput {
		t.Errorf("status of a lock whose directory does not exist: want exit %d, not \"free\"; got %v", exitNoInput, r)
	}
}

func TestStatusText(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lock.lock")
	holder := livePID(t)
	takeLock(t, path, holder, "", time.Time{})
	r := run(t, dir, "status", "lock.lock")
	for _, want := range []string{fmt.Sprintf("%s: held (host %s, pid %d)", path, hostname(t), holder), "claim file: " + readFile(t, path), "expires:", "clock:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestStatusListsTheQueue: status lists the waiters with tickets, in the
// order they will be served, in text and in JSON, and changes nothing.
func TestStatusListsTheQueue(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lock.lock")
	holder := takeLock(t, path, livePID(t), "", time.Time{})
	// Each waiter is bounded (-w): a failed test leaves no process behind.
	var waiters []*proc
	for i := range 2 {
		waiters = append(waiters, start(t, dir, nil, "-w", "60", "lock.lock", "true"))
		waitUntil(t, fmt.Sprintf("waiter %d's ticket", i+1), 20*time.Second, func() bool { return countFiles(t, dir, "lock.lock.queue.") == i+1 })
	}
	before := files(t, dir)
	r := run(t, dir, "status", "--json", "lock.lock")
	var got statusReport
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("status --json output does not parse: %v\n%s", err, r.stdout)
	}
	if len(got.Queue) != len(waiters) {
		t.Fatalf("status --json: queue %+v; want the %d waiters", got.Queue, len(waiters))
	}
	for i, q := range got.Queue {
		w := waiters[i].cmd.Process.Pid
		ticket := filepath.Join(dir, fmt.Sprintf("lock.lock.queue.%d", q.Ticket))
		if q.PID != w || q.Host != hostname(t) || q.ClaimFile != readFile(t, ticket) || q.Breakable || q.ExpiresInSeconds <= 0 {
			t.Errorf("queue[%d] = %+v; want waiter %d (pid %d, claim file %s), not expired", i, q, i+1, w, readFile(t, ticket))
		}
		if i > 0 && q.Ticket <= got.Queue[i-1].Ticket {
			t.Errorf("queue: ticket %d after ticket %d; want the lowest first", q.Ticket, got.Queue[i-1].Ticket)
		}
	}
	text := run(t, dir, "status", "lock.lock").stdout
	for _, want := range []string{"waiting:    2, served in this order:", fmt.Sprintf("ticket %d: host %s, pid %d", got.Queue[0].Ticket, hostname(t), waiters[0].cmd.Process.Pid)} {
		if !strings.Contains(text, want) {
			t.Errorf("status output lacks %q:\n%s", want, text)
		}
	}
	wantFiles(t, dir, before...)

	if err := holder.Unlock(); err != nil {
		t.Fatal(err)
	}
	for i, w := range waiters {
		if res := w.wait(commandTimeout); res.code != 0 {
			t.Errorf("waiter %d: %v", i+1, res)
		}
	}
	if r := run(t, dir, "status", "--json", "lock.lock"); !strings.Contains(r.stdout, `"queue": []`) {
		t.Errorf("status --json once no one waits: want an empty queue:\n%s", r.stdout)
	}
}

// hostname is the host name claims of this host hold.
func hostname(t *testing.T) string {
	t.Helper()
	l, err := locker.New(filepath.Join(t.TempDir(), "x"), posix.New())
	if err != nil {
		t.Fatal(err)
	}
	return l.Hostname()
}

func TestBreak(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lock.lock")
	if r := run(t, dir, "break", "lock.lock"); r.code != 0 || !strings.Contains(r.stderr, "not locked") {
		t.Errorf("break with no lock: want exit 0, nothing to break; got %v", r)
	}

	// Live, and expired for less than the slop: left alone.
	holder := livePID(t)
	for _, expires := range []time.Time{{}, time.Now().Add(-5 * time.Second)} {
		takeLock(t, path, holder, "", expires)
		held := files(t, dir)
		if r := run(t, dir, "break", "lock.lock"); r.code != 1 || !strings.Contains(r.stderr, fmt.Sprintf("pid %d", holder)) {
			t.Errorf("break of a lock expiring %v: want exit 1 naming the holder; got %v", expires, r)
		}
		wantFiles(t, dir, held...)
		os.RemoveAll(dir)
		os.Mkdir(dir, 0o755)
	}

	// Expired for longer than the slop: broken, with its claim file.
	takeLock(t, path, holder, "", time.Now().Add(-time.Minute))
	if r := run(t, dir, "break", "lock.lock"); r.code != 0 || !strings.Contains(r.stderr, "broke") {
		t.Errorf("break of a lock expired a minute ago: want exit 0; got %v", r)
	}
	wantFiles(t, dir)

	// --force breaks a live lock, after saying whose.
	takeLock(t, path, holder, "", time.Time{})
	r := run(t, dir, "break", "--force", "lock.lock")
	if r.code != 0 || !strings.Contains(r.stderr, "breaking the lock") || !strings.Contains(r.stderr, fmt.Sprintf("pid %d,", holder)) {
		t.Errorf("break --force of a live lock: want exit 0, naming the holder; got %v", r)
	}
	wantFiles(t, dir)

	// A file that is not a lock is never touched, forced or not.
	os.WriteFile(path, []byte("not a lock"), 0o644)
	os.Chtimes(path, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	for _, args := range [][]string{{"break", "lock.lock"}, {"break", "--force", "lock.lock"}} {
		if r := run(t, dir, args...); r.code != exitDataErr {
			t.Errorf("%q of a file that is not a lock: want exit %d; got %v", args, exitDataErr, r)
		}
	}
	if got := readFile(t, path); got != "not a lock" {
		t.Errorf("the file at the lock path now holds %q", got)
	}
}

// TestBreakStopsALiveHolder: break --force on the lock of a running
// nfslock makes it stop its command and exit with the lost-lock code.
func TestBreakStopsALiveHolder(t *testing.T) {
	dir := t.TempDir()
	holder := holdLock(t, dir, "-l", "1.5s", "--kill-after", "5s")
	if r := run(t, dir, "break", "--force", "lock.lock"); r.code != 0 || !strings.Contains(r.stderr, "pid "+strconv.Itoa(holder.cmd.Process.Pid)) {
		t.Fatalf("break --force: %v", r)
	}
	r := holder.wait(commandTimeout)
	if r.code != exitLost || !strings.Contains(r.stderr, "LOST THE LOCK "+filepath.Join(dir, "lock.lock")) {
		t.Errorf("holder whose lock was broken: want exit %d and a message naming the lock file; got %v", exitLost, r)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.Count(line, "nfslock:") != 1 || !strings.HasPrefix(line, "nfslock: ") {
			t.Errorf("want each line to begin \"nfslock: \", once; got %q", line)
		}
	}
	wantFiles(t, dir, "child.pid")
}
