//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHuman(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{376 * time.Microsecond, "376µs"},
		{-12 * time.Microsecond, "-12µs"},
		{-400 * time.Nanosecond, "0s"}, // never "-0"
		{0, "0s"},
		{12345 * time.Microsecond, "12ms"},
		{2540 * time.Millisecond, "2.5s"},
		{90 * time.Second, "1m30s"},
		{time.Hour + 400*time.Millisecond, "1h0m0s"},
	} {
		if got := human(tt.d); got != tt.want {
			t.Errorf("human(%v) = %q; want %q", tt.d, got, tt.want)
		}
	}
	if got := signed(time.Millisecond); got != "+1ms" {
		t.Errorf("signed(1ms) = %q; want +1ms", got)
	}
}

// TestNotALockIsOneLineAnd65: a directory, FIFO, symbolic link or foreign
// file at the lock path makes every form that uses the lock exit 65 with
// one line naming the lock file and what is there, in the user's terms.
func TestNotALockIsOneLineAnd65(t *testing.T) {
	for _, obj := range []struct {
		kind, says string
		make       func(path string) error
	}{
		{"directory", "it is a directory", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"FIFO", "it is a FIFO", func(p string) error { return syscall.Mkfifo(p, 0o644) }},
		{"dangling symbolic link", "it is a symbolic link", func(p string) error { return os.Symlink("nowhere", p) }},
		{"symbolic link", "it is a symbolic link", func(p string) error { return os.Symlink("target", p) }},
		{"foreign file", `it is a file that no lock wrote, beginning "precious`, func(p string) error { return os.WriteFile(p, []byte("precious data"), 0o644) }},
	} {
		t.Run(obj.kind, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "target"), []byte("target"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := obj.make(filepath.Join(dir, "x.lock")); err != nil {
				t.Fatal(err)
			}
			before := files(t, dir)
			for _, args := range [][]string{
				{"x.lock", "true"}, {"-n", "x.lock", "true"}, {"lock", "-n", "x.lock"}, {"touch", "x.lock"},
				{"keep", "x.lock"}, {"unlock", "x.lock"}, {"break", "x.lock"}, {"break", "--force", "x.lock"},
			} {
				r := run(t, dir, args...)
				line := strings.TrimSuffix(r.stderr, "\n")
				switch {
				case r.code != exitDataErr:
					t.Errorf("nfslock %q with a %s at the lock path: want exit %d; got %v", args, obj.kind, exitDataErr, r)
				case strings.Contains(line, "\n") || !strings.HasPrefix(line, "nfslock: ") || strings.Count(line, "nfslock:") != 1:
					t.Errorf("nfslock %q: want one line \"nfslock: ...\"; got %q", args, r.stderr)
				case !strings.Contains(line, "x.lock") || !strings.Contains(line, obj.says):
					t.Errorf("nfslock %q: want the lock file named and %q; got %q", args, obj.says, line)
				case strings.Contains(line, `contains ""`):
					t.Errorf("nfslock %q: the %s reported by its (empty) contents: %q", args, obj.kind, line)
				}
				for _, op := range []string{" new ", " adopt ", " details ", " clock ", " state ", " break " + dir} {
					if strings.Contains(line, op) {
						t.Errorf("nfslock %q: the message names the library's operation %q: %q", args, strings.TrimSpace(op), line)
					}
				}
			}
			if r := run(t, dir, "status", "x.lock"); r.code != exitDataErr {
				t.Errorf("status with a %s at the lock path: want exit %d; got %v", obj.kind, exitDataErr, r)
			}
			wantFiles(t, dir, before...)
		})
	}
}

// TestPIDZeroRefused: --pid 0 is not a process, not the default.
func TestPIDZeroRefused(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"lock", "touch", "keep", "unlock", "status"} {
		for _, pid := range []string{"0", "-3"} {
			r := run(t, dir, sub, "--pid", pid, "x.lock")
			if r.code != exitUsage || !strings.Contains(r.stderr, "--pid "+pid) {
				t.Errorf("nfslock %s --pid %s: want exit %d naming --pid %s; got %v", sub, pid, exitUsage, pid, r)
			}
		}
	}
	wantFiles(t, dir)
}

// TestForcedBreakQuiet: break --force -q says nothing.
func TestForcedBreakQuiet(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lock.lock")
	takeLock(t, path, livePID(t), "", time.Time{})
	r := run(t, dir, "break", "--force", "-q", "lock.lock")
	if r.code != 0 || r.stderr != "" || r.stdout != "" {
		t.Errorf("break --force -q of a live lock: want exit 0 and no output; got %v", r)
	}
	wantFiles(t, dir)
}
