//go:build unix

package interop

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// TestGoSweepsDeadFluflWaitersOnly: two flufl.lock processes of this host
// wait for a lock that Go holds; one is killed. flufl.lock never re-dates a
// waiting claim, so after lifetime + slop both claim files look dead by
// their dates. A Go waiter that sweeps must remove the killed one's and
// leave the live one's (its process is running), which then takes the lock
// once Go releases it.
func TestGoSweepsDeadFluflWaitersOnly(t *testing.T) {
	requireFlufl(t)
	const (
		lifetime = 2 * time.Second
		slop     = 500 * time.Millisecond
	)
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	opts := []locker.Option{locker.WithLifetime(lifetime), locker.WithClockSlop(slop)}
	holder := newGoLock(t, path, opts...)
	if err := holder.Lock(t.Context()); err != nil {
		t.Fatalf("Go holder's Lock: %v", err)
	}
	if _, err := holder.KeepAlive(t.Context()); err != nil {
		t.Fatalf("Go holder's KeepAlive: %v", err)
	}

	live, doomed := startPy(t, dir, path, lifetime), startPy(t, dir, path, lifetime)
	liveDone := waitInBackground(t, live, "lock 20")
	fmt.Fprintln(doomed.in, "lock 20")
	liveClaim, doomedClaim := awaitClaim(t, dir, live.PID), awaitClaim(t, dir, doomed.PID)
	if err := doomed.cmd.Process.Kill(); err != nil {
		t.Fatalf("killing the flufl.lock waiter %d: %v", doomed.PID, err)
	}
	doomed.cmd.Wait()
	doomed.cmd = nil

	// A Go waiter sweeps when it starts waiting and once per lifetime; by
	// the time it gives up, both flufl.lock claims have looked dead by
	// their dates for more than a lifetime.
	waiter := newGoLock(t, path, append(opts, locker.WithTimeout(lifetime+slop+2*lifetime))...)
	if err := waiter.Lock(t.Context()); !errors.Is(err, locker.ErrTimeout) {
		t.Fatalf("Go waiter's Lock while Go holds the lock: %v, want ErrTimeout", err)
	}
	names := files(t, dir)
	if slices.Contains(names, doomedClaim) {
		t.Errorf("the killed flufl.lock waiter's claim file %q is still there; the Go waiter should have removed it; the directory:%s", doomedClaim, describeFiles(dir))
	}
	if !slices.Contains(names, liveClaim) {
		t.Fatalf("the live flufl.lock waiter's claim file %q was removed (directory: %q): its process is running", liveClaim, names)
	}

	if err := holder.Unlock(); err != nil {
		t.Fatalf("Go holder's Unlock: %v", err)
	}
	select {
	case r := <-liveDone:
		if !r.OK {
			t.Fatalf("the live flufl.lock waiter did not take the released lock: %s: %s", r.Error, r.Message)
		}
		t.Logf("the live flufl.lock waiter took the lock after waiting %.1f s", r.Elapsed)
	case <-time.After(30 * time.Second):
		t.Fatal("the live flufl.lock waiter did not answer within 30 s")
	}
	live.must("unlock")
	wantFiles(t, dir)
}

// waitInBackground sends cmd to p and returns where its reply will come,
// so that the test can go on while p waits.
func waitInBackground(t *testing.T, p *pyLock, cmd string) <-chan reply {
	t.Helper()
	if _, err := fmt.Fprintln(p.in, cmd); err != nil {
		t.Fatalf("python %q: %v", cmd, err)
	}
	done := make(chan reply, 1)
	go func() {
		var r reply
		if !p.out.Scan() {
			r.Error, r.Message = "NoReply", fmt.Sprint(p.out.Err())
		} else if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
			r.Error, r.Message = "BadReply", p.out.Text()
		}
		done <- r
	}()
	return done
}

// awaitClaim waits until dir holds a claim file of process pid that is
// fully laid: it holds its own path and flufl.lock has dated it into the
// future, as it does right after writing it. (flufl.lock creates the file
// empty and writes it when it closes it: a process killed in between leaves
// an empty file, which no sweep takes for a claim.) It returns the file's
// name.
func awaitClaim(t *testing.T, dir string, pid int) string {
	t.Helper()
	mark := fmt.Sprintf("|%d|", pid)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, n := range files(t, dir) {
			if !strings.Contains(n, mark) {
				continue
			}
			full := filepath.Join(dir, n)
			data, err := os.ReadFile(full)
			fi, serr := os.Stat(full)
			if err == nil && serr == nil && string(data) == full && fi.ModTime().After(time.Now()) {
				return n
			}
		}
	}
	t.Fatalf("no fully laid claim file of flufl.lock process %d appeared in %s within 10 s: %s", pid, dir, describeFiles(dir))
	return ""
}

// describeFiles says, for a failure message, what each file in dir holds
// and when it is dated.
func describeFiles(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, e := range entries {
		full := filepath.Join(dir, e.Name())
		data, _ := os.ReadFile(full)
		fi, err := os.Stat(full)
		if err != nil {
			fmt.Fprintf(&b, "\n\t%q: %v", e.Name(), err)
			continue
		}
		fmt.Fprintf(&b, "\n\t%q: %d bytes %q, dated %s from now", e.Name(), fi.Size(), data, time.Until(fi.ModTime()).Round(time.Millisecond))
	}
	return b.String()
}
