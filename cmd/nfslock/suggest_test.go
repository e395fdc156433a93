//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"lock", "lock", 0},
		{"lok", "lock", 1},
		{"lcok", "lock", 1}, // a transposition
		{"stauts", "status", 1},
		{"stats", "status", 1},
		{"brake", "break", 2},
		{"unlcok", "unlock", 1},
		{"frobnicate", "check", 9},
		{"", "man", 3},
	} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

// TestMisspeltSubcommand: a first argument one or two letters off a
// subcommand, naming nothing, is refused with a suggestion; anything else
// is a lock file as before.
func TestMisspeltSubcommand(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ arg, want string }{
		{"lokc", "lock"},
		{"stauts", "status"},
		{"brake", "break"},
		{"unlok", "unlock"},
		{"chekc", "check"},
		{"hepl", "help"},
		{"completoin", "completion"},
	} {
		r := run(t, dir, tt.arg, "true")
		if r.code != exitUsage || !strings.Contains(r.stderr, "did you mean "+tt.want+"?") || !strings.Contains(r.stderr, "./"+tt.arg) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("nfslock %s true: want exit %d and one line suggesting %s and ./%s; got %v", tt.arg, exitUsage, tt.want, tt.arg, r)
		}
	}
	wantFiles(t, dir)

	// The same names as paths, after "--", or existing, are lock files;
	// so are names far from any subcommand.
	if err := os.WriteFile(filepath.Join(dir, "brake"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"./lokc", "true"},
		{"--", "stauts", "true"},
		{"-w", "1", "hepl", "true"},
		{"tuoch.lock", "true"},
		{"frobnicate", "true"},
	} {
		if r := run(t, dir, args...); r.code != 0 {
			t.Errorf("nfslock %q: want the command run under that lock file; got %v", args, r)
		}
	}
	// An existing file is no misspelling; here it is not a lock either.
	if r := run(t, dir, "brake", "true"); r.code != exitDataErr {
		t.Errorf("nfslock brake true, with a file brake: want it taken as the lock path (exit %d, not a lock); got %v", exitDataErr, r)
	}
	wantFiles(t, dir, "brake")
}

// TestUnknownWordAsLockFile: nfslock frobnicate x, where x is no command,
// runs nothing, leaves nothing, and says that frobnicate was taken for the
// lock file.
func TestUnknownWordAsLockFile(t *testing.T) {
	dir := t.TempDir()
	r := run(t, dir, "frobnicate", "no-such-command-of-nfslock-tests")
	if r.code != exitUnavailable || !strings.Contains(r.stderr, "frobnicate was taken for the lock file") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("nfslock frobnicate NOCOMMAND: want exit %d and one line saying frobnicate was taken for the lock file; got %v", exitUnavailable, r)
	}
	wantFiles(t, dir)
}
