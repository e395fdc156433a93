//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

func TestReadDirNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"a.lock", "a.lock|h|1|2", "b"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := New().ReadDirNames(dir)
	slices.Sort(got)
	if want := []string{"a.lock", "a.lock|h|1|2", "b", "sub"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ReadDirNames(%s) = %q, %v; want %q, nil", dir, got, err, want)
	}
}

func TestReadDirNamesErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	fifo := filepath.Join(dir, "fifo")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir  string
		want error
	}{
		{filepath.Join(dir, "missing"), fs.ErrNotExist},
		{file, syscall.ENOTDIR},
		{fifo, syscall.ENOTDIR}, // and it must not block
	}
	for _, tt := range tests {
		done := make(chan struct{})
		var names []string
		var err error
		go func() {
			defer close(done)
			names, err = New().ReadDirNames(tt.dir)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadDirNames(%s) did not return within 10s: it blocked", tt.dir)
		}
		var pe *fs.PathError
		if !errors.Is(err, tt.want) || !errors.As(err, &pe) || names != nil {
			t.Errorf("ReadDirNames(%s) = %q, %v; want no names and an *fs.PathError wrapping %v", tt.dir, names, err, tt.want)
		}
	}
}
