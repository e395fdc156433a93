//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nfslock/nfslock/locker"
)

func TestWriteFileReadFile(t *testing.T) {
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"claim-sized", 100},
		{"exactly-initial-buffer", 256},
		{"one-past-initial-buffer", 257},
		{"longest-claim", locker.MaxClaimLen},
	}
	dir := t.TempDir()
	fsys := New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := make([]byte, tt.size)
			for i := range data {
				data[i] = byte('a' + i%26)
			}
			name := filepath.Join(dir, tt.name)
			if err := fsys.WriteFile(name, data, 0o644); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			if got := mustRead(t, name); got != string(data) {
				t.Errorf("os.ReadFile after WriteFile: got %d bytes, want %d (%q...)", len(got), len(data), trim(got))
			}
			got, err := fsys.ReadFile(name)
			if err != nil {
				t.Fatalf("ReadFile: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Errorf("ReadFile: got %d bytes, want %d (%q...)", len(got), len(data), trim(string(got)))
			}
		})
	}
}

// trim shortens s for a failure message.
func trim(s string) string {
	if len(s) > 40 {
		return s[:40]
	}
	return s
}

func TestWriteFilePerm(t *testing.T) {
	// Compare with os.WriteFile in the same directory, so that the test
	// does not depend on the umask.
	dir := t.TempDir()
	for _, perm := range []fs.FileMode{0o600, 0o644, 0o640} {
		ours := filepath.Join(dir, "ours-"+perm.String())
		theirs := filepath.Join(dir, "theirs-"+perm.String())
		if err := New().WriteFile(ours, []byte("x"), perm); err != nil {
			t.Fatalf("WriteFile: %v", err)
		}
		if err := os.WriteFile(theirs, []byte("x"), perm); err != nil {
			t.Fatal(err)
		}
		got, err := os.Stat(ours)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.Stat(theirs)
		if err != nil {
			t.Fatal(err)
		}
		if got.Mode() != want.Mode() {
			t.Errorf("WriteFile with perm %v made mode %v, os.WriteFile made %v", perm, got.Mode(), want.Mode())
		}
	}
}

func TestWriteFileRefusesExisting(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	const old = "old contents"
	mustWrite(t, name, old)
	err := New().WriteFile(name, []byte("new"), 0o644)
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteFile onto an existing file: got %v, want an error matching fs.ErrExist", err)
	}
	if got := mustRead(t, name); got != old {
		t.Errorf("contents after the refused WriteFile: got %q, want %q unchanged", got, old)
	}
}

func TestWriteFileMissingDirectory(t *testing.T) {
	name := filepath.Join(t.TempDir(), "missing", "f")
	err := New().WriteFile(name, []byte("x"), 0o644)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WriteFile in a missing directory: got %v, want an error matching fs.ErrNotExist", err)
	}
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Op != "open" || pe.Path != name {
		t.Errorf("WriteFile in a missing directory: got %#v, want an *os.PathError with Op %q and Path %q", err, "open", name)
	}
	if !strings.Contains(err.Error(), name) {
		t.Errorf("error %q does not mention the path %q", err, name)
	}
}
