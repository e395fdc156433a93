//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestRenameReplaces(t *testing.T) {
	dir := t.TempDir()
	oldname := filepath.Join(dir, "old")
	newname := filepath.Join(dir, "new")
	mustWrite(t, oldname, "moved")
	mustWrite(t, newname, "replaced")
	if err := New().Rename(oldname, newname); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if _, err := os.Lstat(oldname); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Rename, Lstat(old) = %v, want fs.ErrNotExist", err)
	}
	if got := mustRead(t, newname); got != "moved" {
		t.Errorf("after Rename, new holds %q, want %q", got, "moved")
	}
}

func TestRemove(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "f")
	mustWrite(t, name, "x")
	fsys := New()
	if err := fsys.Remove(name); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := os.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after Remove, Lstat = %v, want fs.ErrNotExist", err)
	}
}

func TestRemoveLeavesDirectory(t *testing.T) {
	sub := filepath.Join(t.TempDir(), "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	err := New().Remove(sub)
	var pe *os.PathError
	if !errors.As(err, &pe) || pe.Op != "remove" || pe.Path != sub {
		t.Errorf("Remove of a directory: got %v, want an *os.PathError with Op %q and Path %q", err, "remove", sub)
	}
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		t.Errorf("after Remove of a directory, os.Stat = %v, %v; want the directory still there", fi, err)
	}
}
