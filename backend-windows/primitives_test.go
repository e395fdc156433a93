//go:build windows

package winfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	winfs "github.com/nfslock/nfslock/backend-windows"
	"golang.org/x/sys/windows"
)

func TestWriteReadFile(t *testing.T) {
	dir := tempDir(t)
	f := winfs.New()
	name := filepath.Join(dir, "a")
	if err := f.WriteFile(name, []byte("hello, world"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, name); got != "hello, world" {
		t.Fatalf("os.ReadFile after WriteFile = %q", got)
	}
	// Never writes into an existing file.
	if err := f.WriteFile(name, []byte("hi"), 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteFile onto an existing file: %v, want fs.ErrExist", err)
	}
	got, err := f.ReadFile(name)
	if err != nil || string(got) != "hello, world" {
		t.Fatalf("ReadFile after the refused WriteFile = %q, %v; want %q unchanged", got, err, "hello, world")
	}
	// Larger than the first buffer.
	big := strings.Repeat("0123456789", 1000)
	mustWrite(t, name, big)
	got, err = f.ReadFile(name)
	if err != nil || string(got) != big {
		t.Fatalf("ReadFile of %d bytes = %d bytes, %v", len(big), len(got), err)
	}
	// Empty.
	empty := filepath.Join(dir, "empty")
	if err := f.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := f.ReadFile(empty); err != nil || len(got) != 0 {
		t.Fatalf("ReadFile of empty file = %q, %v", got, err)
	}
}

func TestReadFileMissing(t *testing.T) {
	dir := tempDir(t)
	_, err := winfs.New().ReadFile(filepath.Join(dir, "missing"))
	var pe *os.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) {
		t.Fatalf("ReadFile of missing file: %v (%T), want *os.PathError and fs.ErrNotExist", err, err)
	}
	err = winfs.New().WriteFile(filepath.Join(dir, "nodir", "x"), nil, 0o644)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("WriteFile in missing directory: %v, want fs.ErrNotExist", err)
	}
}

func TestLink(t *testing.T) {
	dir := tempDir(t)
	f := winfs.New()
	claim := filepath.Join(dir, "claim")
	lock := filepath.Join(dir, "lock")
	mustWrite(t, claim, "claim")
	fi, err := f.Stat(claim)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Links != 1 || fi.Size != 5 || fi.IsDir {
		t.Fatalf("Stat before Link = %+v, want Links 1, Size 5", fi)
	}
	if err := f.Link(claim, lock); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{claim, lock} {
		fi, err := f.Stat(n)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Links != 2 {
			t.Fatalf("Stat(%s).Links after Link = %d, want 2", filepath.Base(n), fi.Links)
		}
	}
	if got := mustRead(t, lock); got != "claim" {
		t.Fatalf("lock holds %q", got)
	}

	// Onto an existing name: fs.ErrExist, nothing replaced.
	other := filepath.Join(dir, "other")
	mustWrite(t, other, "other")
	err = f.Link(other, lock)
	var le *os.LinkError
	if !errors.Is(err, fs.ErrExist) || !errors.As(err, &le) {
		t.Fatalf("Link onto existing name: %v (%T), want *os.LinkError and fs.ErrExist", err, err)
	}
	if got := mustRead(t, lock); got != "claim" {
		t.Fatalf("lock replaced: holds %q", got)
	}

	// From a missing name: fs.ErrNotExist.
	err = f.Link(filepath.Join(dir, "missing"), filepath.Join(dir, "new"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Link from missing name: %v, want fs.ErrNotExist", err)
	}

	// Removing one name drops the count back to 1.
	if err := f.Remove(lock); err != nil {
		t.Fatal(err)
	}
	if fi, err := f.Stat(claim); err != nil || fi.Links != 1 {
		t.Fatalf("Stat(claim) after Remove(lock) = %+v, %v; want Links 1", fi, err)
	}
}

func TestStat(t *testing.T) {
	dir := tempDir(t)
	f := winfs.New()
	fi, err := f.Stat(dir)
	if err != nil || !fi.IsDir {
		t.Fatalf("Stat(dir) = %+v, %v; want IsDir", fi, err)
	}
	_, err = f.Stat(filepath.Join(dir, "missing"))
	var pe *os.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) {
		t.Fatalf("Stat of missing name: %v, want *os.PathError and fs.ErrNotExist", err)
	}
	name := filepath.Join(dir, "a")
	mustWrite(t, name, "abc")
	fi, err = f.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	osfi, err := os.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime.Equal(osfi.ModTime()) || fi.Size != 3 || fi.IsDir {
		t.Fatalf("Stat = %+v; os.Stat says mtime %v size %d", fi, osfi.ModTime(), osfi.Size())
	}
}

func TestChtimes(t *testing.T) {
	dir := tempDir(t)
	f := winfs.New()
	claim := filepath.Join(dir, "claim")
	lock := filepath.Join(dir, "lock")
	mustWrite(t, claim, "x")
	if err := f.Link(claim, lock); err != nil {
		t.Fatal(err)
	}
	// A time in the future, as the locker sets it; NTFS keeps 100 ns.
	mtime := time.Now().Add(15 * time.Second).Truncate(100 * time.Nanosecond)
	atime := mtime.Add(-time.Second)
	if err := f.Chtimes(claim, atime, mtime); err != nil {
		t.Fatal(err)
	}
	// Seen through the other link too.
	for _, n := range []string{claim, lock} {
		fi, err := f.Stat(n)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime.Equal(mtime) {
			t.Fatalf("Stat(%s).ModTime = %v, want %v", filepath.Base(n), fi.ModTime, mtime)
		}
		osfi, err := os.Stat(n)
		if err != nil {
			t.Fatal(err)
		}
		if !osfi.ModTime().Equal(mtime) {
			t.Fatalf("os.Stat(%s).ModTime = %v, want %v", filepath.Base(n), osfi.ModTime(), mtime)
		}
	}
	// A zero time leaves that time alone.
	if err := f.Chtimes(claim, time.Now(), time.Time{}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := f.Stat(claim); !fi.ModTime.Equal(mtime) {
		t.Fatalf("Chtimes with zero mtime changed it to %v", fi.ModTime)
	}
	err := f.Chtimes(filepath.Join(dir, "missing"), mtime, mtime)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Chtimes of missing name: %v, want fs.ErrNotExist", err)
	}
}

func TestRename(t *testing.T) {
	dir := tempDir(t)
	f := winfs.New()
	a := filepath.Join(dir, "a")
	b := filepath.Join(dir, "b")
	mustWrite(t, a, "a")
	mustWrite(t, b, "b")
	if err := f.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, b); got != "a" {
		t.Fatalf("after Rename(a, b), b holds %q", got)
	}
	if _, err := os.Stat(a); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a still there after Rename: %v", err)
	}
	err := f.Rename(a, b)
	var le *os.LinkError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &le) {
		t.Fatalf("Rename of missing name: %v, want *os.LinkError and fs.ErrNotExist", err)
	}
}

func TestRemove(t *testing.T) {
	dir := tempDir(t)
	f := winfs.New()
	a := filepath.Join(dir, "a")
	mustWrite(t, a, "a")
	if err := f.Remove(a); err != nil {
		t.Fatal(err)
	}
	err := f.Remove(a)
	var pe *os.PathError
	if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &pe) {
		t.Fatalf("Remove of missing name: %v, want *os.PathError and fs.ErrNotExist", err)
	}
	// A file another handle has open (sharing delete, as this package
	// always does) can still be removed.
	mustWrite(t, a, "a")
	p, _ := windows.UTF16PtrFromString(a)
	h, err := windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	err = f.Remove(a)
	windows.CloseHandle(h)
	if err != nil {
		t.Fatalf("Remove of a file open elsewhere: %v", err)
	}
}

func TestErrnoMapping(t *testing.T) {
	// The mapping this package relies on, from package syscall.
	for _, c := range []struct {
		errno  windows.Errno
		target error
	}{
		{windows.ERROR_FILE_NOT_FOUND, fs.ErrNotExist},
		{windows.ERROR_PATH_NOT_FOUND, fs.ErrNotExist},
		{windows.ERROR_ALREADY_EXISTS, fs.ErrExist},
		{windows.ERROR_FILE_EXISTS, fs.ErrExist},
	} {
		if !errors.Is(&os.PathError{Op: "x", Path: "y", Err: c.errno}, c.target) {
			t.Errorf("errno %d does not match %v", uintptr(c.errno), c.target)
		}
	}
}

func TestProcessAlive(t *testing.T) {
	f := winfs.New()
	if alive, err := f.ProcessAlive("", os.Getpid()); !alive || err != nil {
		t.Fatalf("ProcessAlive(self) = %v, %v", alive, err)
	}
	for _, pid := range []int{0, -1} {
		if alive, err := f.ProcessAlive("", pid); alive || err != nil {
			t.Fatalf("ProcessAlive(%d) = %v, %v; want false", pid, alive, err)
		}
	}

	cmd := startSleeper(t)
	pid := cmd.Process.Pid
	if alive, err := f.ProcessAlive("", pid); !alive || err != nil {
		t.Fatalf("ProcessAlive(live child) = %v, %v", alive, err)
	}
	// Killed, but its process object still held open by cmd: the exit
	// code tells it is dead.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		alive, err := f.ProcessAlive("", pid)
		if err != nil {
			t.Fatal(err)
		}
		if !alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ProcessAlive(killed child, handle held) still true after 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Wait()
	// Reaped: no process object left.
	if alive, err := f.ProcessAlive("", pid); alive || err != nil {
		t.Fatalf("ProcessAlive(exited child) = %v, %v; want false", alive, err)
	}
}
