//go:build linux || darwin || freebsd || netbsd || openbsd

package posix_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
)

// These tests run the locker on a real directory through this backend.

var ctx = context.Background()

// countingFS counts Link calls.
type countingFS struct {
	locker.FS
	links atomic.Int32
}

func (c *countingFS) Link(oldname, newname string) error {
	c.links.Add(1)
	return c.FS.Link(oldname, newname)
}

func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestLockCycleOnDisk(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	l, err := locker.New(path, posix.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.ModTime(); time.Until(got) < 14*time.Second || time.Until(got) > 15*time.Second {
		t.Errorf("lock file mtime %v, want about now + 15s", got)
	}
	if b, _ := os.ReadFile(path); string(b) != l.ClaimFile() {
		t.Errorf("lock file contains %q, want %q", b, l.ClaimFile())
	}
	if !l.IsLocked() {
		t.Error("IsLocked = false")
	}
	other, _ := locker.New(path, posix.New())
	if err := other.TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Errorf("second TryLock: got %v, want ErrBusy", err)
	}
	if st, err := other.State(); err != nil || st != locker.Ours {
		// flufl.lock's rule: same host and pid is "ours".
		t.Errorf("State of another Lock in this process = %v, %v; want ours", st, err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("files left after Unlock: %q", names)
	}
}

// TestPreCreatedFileIsNotALock: a lock path pre-created as an empty file (as
// flufl.lock's own quickstart does with NamedTemporaryFile) makes Lock fail
// within one attempt, leaves the file untouched and no claim file behind.
func TestPreCreatedFileIsNotALock(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tmpabc123")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	fsys := &countingFS{FS: posix.New()}
	l, err := locker.New(path, fsys, locker.WithClockSlop(0), locker.WithLifetime(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	err = l.Lock(ctx)
	if !errors.Is(err, locker.ErrForeignFile) {
		t.Fatalf("Lock on a pre-created empty file: got %v, want ErrForeignFile", err)
	}
	if n := fsys.links.Load(); n != 1 {
		t.Errorf("Lock made %d attempts, want 1", n)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the file is gone: %v", err)
	}
	if after.Size() != 0 || !after.ModTime().Equal(before.ModTime()) || after.Mode() != before.Mode() {
		t.Errorf("file changed: size %d mtime %v mode %v, was size 0 mtime %v mode %v",
			after.Size(), after.ModTime(), after.Mode(), before.ModTime(), before.Mode())
	}
	if names := dirEntries(t, dir); len(names) != 1 || names[0] != "tmpabc123" {
		t.Errorf("directory holds %q, want only the pre-created file", names)
	}
}

func TestUnwritableDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// Root ignores permission bits; an immutable directory refuses
		// even root.
		if out, err := exec.Command("chattr", "+i", dir).CombinedOutput(); err != nil {
			t.Skipf("running as root and cannot make %s immutable (chattr: %v: %s), so no directory is unwritable here", dir, err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", dir).Run() })
	} else if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	l, err := locker.New(filepath.Join(dir, "x.lock"), posix.New())
	if err != nil {
		t.Fatal(err)
	}
	err = l.Lock(ctx)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "directory "+dir+" is not writable") {
		t.Errorf("Lock in an unwritable directory: got %v, want a permission error naming %s", err, dir)
	}
	if names := dirEntries(t, dir); len(names) != 0 {
		t.Errorf("files left: %q", names)
	}
}

func TestMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "missing")
	l, err := locker.New(filepath.Join(dir, "x.lock"), posix.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.TryLock(); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "directory "+dir+" does not exist") {
		t.Errorf("TryLock in a missing directory: got %v, want ErrNotExist naming %s", err, dir)
	}
}

func TestLockPathIsDirectory(t *testing.T) {
	if _, err := locker.New(t.TempDir(), posix.New()); !errors.Is(err, locker.ErrInvalid) {
		t.Errorf("New on a directory: got %v, want ErrInvalid", err)
	}
}

// TestMain lets the test binary act as a separate lock-holding process.
func TestMain(m *testing.M) {
	if path := os.Getenv("NFSLOCK_TEST_HOLD"); path != "" {
		os.Exit(hold(path))
	}
	os.Exit(m.Run())
}

// hold takes the lock, says "acquired", holds it until its standard input
// closes, releases it and says "released".
func hold(path string) int {
	l, err := locker.New(path, posix.New())
	if err == nil {
		err = l.Lock(ctx)
	}
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("acquired")
	io.Copy(io.Discard, os.Stdin)
	if err := l.Unlock(); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	fmt.Println("released")
	return 0
}

// TestSecondProcessWaits: another process holds the lock; this one waits
// in Lock until that one releases, and not a moment longer than needed.
func TestSecondProcessWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "NFSLOCK_TEST_HOLD="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "acquired" {
		t.Fatalf("holder process said %q, want \"acquired\"", lines.Text())
	}
	l, err := locker.New(path, posix.New())
	if err != nil {
		t.Fatal(err)
	}
	d, err := l.Details()
	if err != nil || d.PID != cmd.Process.Pid {
		t.Fatalf("Details() = %+v, %v; want the holder's pid %d", d, err, cmd.Process.Pid)
	}
	got := make(chan error, 1)
	go func() { got <- l.Lock(ctx) }()
	select {
	case err := <-got:
		t.Fatalf("Lock returned (%v) while another process held the lock", err)
	case <-time.After(300 * time.Millisecond):
	}
	stdin.Close()
	if !lines.Scan() || lines.Text() != "released" {
		t.Fatalf("holder process said %q, want \"released\"", lines.Text())
	}
	select {
	case err := <-got:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Lock still waiting 10s after the other process released")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("holder process: %v", err)
	}
	if err := l.Unlock(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkLockUnlock measures one uncontended TryLock + Unlock cycle of
// the full locker on a real directory. Compare with BenchmarkRawCycle.
func BenchmarkLockUnlock(b *testing.B) {
	l, err := locker.New(filepath.Join(b.TempDir(), "x.lock"), posix.New())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := l.TryLock(); err != nil {
			b.Fatal(err)
		}
		if err := l.Unlock(); err != nil {
			b.Fatal(err)
		}
	}
}
