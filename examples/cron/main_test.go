package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
	"github.com/nfslock/nfslock/locker/vclock"
)

// The job's lock lives on the in-memory backend, with a virtual clock; its
// report goes to a real temporary file.

type world struct {
	server *memfs.FS
	clk    *vclock.Clock
}

func newWorld(t *testing.T) *world {
	t.Helper()
	server := memfs.New()
	if err := server.MkdirAll("/shared", 0o755); err != nil {
		t.Fatal(err)
	}
	return &world{server: server, clk: server.Clock()}
}

// lock returns a lock on the job's lock file for a new process of host,
// through backend fsys (the host itself if nil).
func (w *world) lock(t *testing.T, host string, fsys locker.FS) *locker.Lock {
	t.Helper()
	h := w.server.Host(host)
	if fsys == nil {
		fsys = h
	}
	opts := append(h.Spawn().Options(), locker.WithLifetime(30*time.Second), locker.WithTimeout(time.Second))
	l, err := locker.New("/shared/job.lock", fsys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// newJob returns a job of 3 steps writing to a temporary file, each step
// doing step.
func newJob(t *testing.T, step func(ctx context.Context, i int) error) (*job, *bytes.Buffer) {
	var log bytes.Buffer
	return &job{out: filepath.Join(t.TempDir(), "report.txt"), steps: 3, step: step, log: &log}, &log
}

func reportLines(t *testing.T, j *job) []string {
	t.Helper()
	data, err := os.ReadFile(j.out)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

func TestJobRunsUnderTheLock(t *testing.T) {
	w := newWorld(t)
	l := w.lock(t, "alpha", nil)
	other := w.lock(t, "beta", nil)
	j, log := newJob(t, func(ctx context.Context, i int) error {
		if err := other.TryLock(); !errors.Is(err, locker.ErrBusy) {
			t.Errorf("step %d: another host's TryLock got %v, want ErrBusy", i, err)
		}
		return nil
	})
	if code := run(context.Background(), j, l.Do); code != exitOK {
		t.Fatalf("exit status %d, want %d; the job said:\n%s", code, exitOK, log)
	}
	if lines := reportLines(t, j); len(lines) != 3 {
		t.Errorf("the report has %d lines, want 3: %q", len(lines), lines)
	}
	if err := other.TryLock(); err != nil {
		t.Errorf("after the job, another host's TryLock got %v, want nil (the lock released)", err)
	}
}

func TestJobSkipsItsTurnWhenAnotherRunHoldsTheLock(t *testing.T) {
	w := newWorld(t)
	w.clk.AutoAdvance(true) // only the skipped run waits: its second of waiting takes no real time
	holder := w.lock(t, "beta", nil)
	if err := holder.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
	j, log := newJob(t, func(context.Context, int) error {
		t.Error("a step ran while another run held the lock")
		return nil
	})
	if code := run(context.Background(), j, w.lock(t, "alpha", nil).Do); code != exitOK {
		t.Fatalf("exit status %d, want %d (skipping a turn is not a failure); the job said:\n%s", code, exitOK, log)
	}
	if !strings.Contains(log.String(), `skipping this turn`) || !strings.Contains(log.String(), `host "beta"`) {
		t.Errorf("the job said %q, want that it skips its turn and who holds the lock", log)
	}
	if lines := reportLines(t, j); lines != nil {
		t.Errorf("the skipped run wrote %q", lines)
	}
}

// TestJobStopsWhenItLosesTheLock: during step 2 the host is cut off from
// the file server, so that refreshing the lock fails until the lock has
// expired; the KeepAlive declares it lost. The job writes nothing more, and
// exits with exitLockLost.
func TestJobStopsWhenItLosesTheLock(t *testing.T) {
	w := newWorld(t)
	// The KeepAlive's sleeps move virtual time: the lock expires while
	// the job waits in step 2, without real time passing.
	w.clk.AutoAdvance(true)
	fsys := faultfs.New(w.server.Host("alpha"))
	var cutOff atomic.Bool
	fsys.SetHook(func(op faultfs.Op, args ...string) {
		if op == faultfs.OpChtimes && cutOff.Load() {
			fsys.Fail(op, 1, syscall.EIO) // the refresh does not reach the server
		}
	})
	j, log := newJob(t, func(ctx context.Context, i int) error {
		if i < 2 {
			return nil
		}
		cutOff.Store(true)
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Error("step 2: the job's context was not cancelled though refreshes failed until the lock expired")
		}
		cutOff.Store(false) // back in touch: the release can go through
		return nil          // a careless step; the job checks ctx before it writes
	})
	if code := run(context.Background(), j, w.lock(t, "alpha", fsys).Do); code != exitLockLost {
		t.Fatalf("exit status %d, want %d; the job said:\n%s", code, exitLockLost, log)
	}
	if !strings.Contains(log.String(), "lock lost") {
		t.Errorf("the job said %q, want that it lost the lock", log)
	}
	if lines := reportLines(t, j); len(lines) != 1 {
		t.Errorf("the report has %q, want only step 1's line: nothing may be written once the lock is lost", lines)
	}
}
