//go:build windows

package winfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	winfs "github.com/nfslock/nfslock/backend-windows"
	"github.com/nfslock/nfslock/locker"
)

// TestReadFileRefusesWhatIsNotARegularFile: what ReadFile finds is judged
// on the open handle, before a byte is read.
func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := tempDir(t)
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want fs.FileMode
	}{
		{sub, fs.ModeDir},
		// A name of a device in any directory opens the device.
		{filepath.Join(dir, "NUL"), fs.ModeDevice | fs.ModeCharDevice},
	}
	for _, tt := range tests {
		_, err := winfs.New().ReadFile(tt.name)
		var nr *locker.NotRegularError
		if !errors.As(err, &nr) || nr.Type != tt.want {
			t.Errorf("ReadFile(%s): %v, want a *locker.NotRegularError of type %v", tt.name, err, tt.want)
		}
	}
}

func TestReadFileTooLong(t *testing.T) {
	dir := tempDir(t)
	f := winfs.New()
	longest, long := filepath.Join(dir, "longest"), filepath.Join(dir, "long")
	if err := f.WriteFile(longest, make([]byte, locker.MaxClaimLen), 0o644); err != nil {
		t.Fatal(err)
	}
	if data, err := f.ReadFile(longest); err != nil || len(data) != locker.MaxClaimLen {
		t.Errorf("ReadFile of %d bytes: %d bytes, %v", locker.MaxClaimLen, len(data), err)
	}
	if err := f.WriteFile(long, make([]byte, locker.MaxClaimLen+1), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.ReadFile(long); !errors.Is(err, locker.ErrTooLong) {
		t.Errorf("ReadFile of %d bytes: %v, want ErrTooLong", locker.MaxClaimLen+1, err)
	}
}

func TestWriteFileOntoDirectory(t *testing.T) {
	dir := tempDir(t)
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := winfs.New().WriteFile(sub, []byte("x"), 0o644); err == nil {
		t.Errorf("WriteFile onto a directory succeeded")
	}
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		t.Errorf("after WriteFile onto it, the directory is %v, %v", fi, err)
	}
}

// TestDirectoryInTheWay: Remove, Link and Rename refused because a
// directory is at one of the names fail with a *locker.NotRegularError for a
// directory, as locker.FS asks, and leave the directory alone.
func TestDirectoryInTheWay(t *testing.T) {
	dir := tempDir(t)
	sub, file := filepath.Join(dir, "sub"), filepath.Join(dir, "file")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, file, "x")
	f := winfs.New()
	calls := []struct {
		name string
		call func() error
	}{
		{"Remove of a directory", func() error { return f.Remove(sub) }},
		{"Link of a directory", func() error { return f.Link(sub, filepath.Join(dir, "link")) }},
		{"Rename of a file over a directory", func() error { return f.Rename(file, sub) }},
	}
	for _, c := range calls {
		err := c.call()
		var nr *locker.NotRegularError
		if !errors.As(err, &nr) || nr.Type != fs.ModeDir {
			t.Errorf("%s: got %v, want a *locker.NotRegularError for a directory", c.name, err)
		}
		if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
			t.Fatalf("after %s, the directory is %v, %v", c.name, fi, err)
		}
	}
}
