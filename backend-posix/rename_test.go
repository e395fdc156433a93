//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
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

// TestRenameWithADirectoryInTheWay: a rename that a directory at one of the
// names refuses fails with a *locker.NotRegularError for a directory, the
// system's error kept, and changes nothing.
func TestRenameWithADirectoryInTheWay(t *testing.T) {
	tests := []struct {
		name     string
		old, new string // "file", "dir", "full" (a directory that is not empty)
	}{
		{"FileOverDirectory", "file", "dir"},
		{"FileOverFullDirectory", "file", "full"},
		{"DirectoryOverFile", "dir", "file"},
		{"DirectoryOverFullDirectory", "dir", "full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			make := func(name, kind string) string {
				p := filepath.Join(dir, name)
				switch kind {
				case "file":
					mustWrite(t, p, "x")
				case "dir", "full":
					if err := os.Mkdir(p, 0o755); err != nil {
						t.Fatal(err)
					}
					if kind == "full" {
						mustWrite(t, filepath.Join(p, "inside"), "y")
					}
				}
				return p
			}
			oldname, newname := make("old", tt.old), make("new", tt.new)
			before := [2]string{describe(t, oldname), describe(t, newname)}
			err := New().Rename(oldname, newname)
			var nr *locker.NotRegularError
			if !errors.As(err, &nr) || nr.Type != fs.ModeDir || nr.Err == nil {
				t.Errorf("Rename of a %s over a %s: got %v, want a *locker.NotRegularError for a directory, with the system's error", tt.old, tt.new, err)
			}
			var le *os.LinkError
			if !errors.As(err, &le) || le.Old != oldname || le.New != newname {
				t.Errorf("Rename: got %#v, want an *os.LinkError naming both names", err)
			}
			if after := [2]string{describe(t, oldname), describe(t, newname)}; after != before {
				t.Errorf("the refused Rename changed the names: before %q, after %q", before, after)
			}
		})
	}
}

// TestRenameErrnoRefusesDirectoriesWhateverIsThereNow: a rename refused
// because of a directory is reported so even when what was in the way has
// gone by the time anyone looks (sshfs under attack: ENOTDIR, and then no
// directory at either name).
func TestRenameErrnoRefusesDirectoriesWhateverIsThereNow(t *testing.T) {
	for _, errno := range []unix.Errno{unix.EISDIR, unix.ENOTDIR, unix.ENOTEMPTY, unix.EEXIST} {
		var nr *locker.NotRegularError
		if err := renameErrno(errno); !errors.As(err, &nr) || nr.Type != fs.ModeDir || !errors.Is(err, errno) {
			t.Errorf("renameErrno(%s) = %v, want a *locker.NotRegularError for a directory wrapping it", unix.ErrnoName(errno), err)
		}
	}
	for _, errno := range []unix.Errno{unix.ENOENT, unix.EACCES, unix.EXDEV} {
		if err := renameErrno(errno); err != errno {
			t.Errorf("renameErrno(%s) = %v, want it unchanged", unix.ErrnoName(errno), err)
		}
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
	// A directory at one of the locker's names is an object no lock makes.
	var nr *locker.NotRegularError
	if !errors.As(err, &nr) || nr.Type != fs.ModeDir {
		t.Errorf("Remove of a directory: got %v, want a *locker.NotRegularError for a directory", err)
	}
	if fi, err := os.Stat(sub); err != nil || !fi.IsDir() {
		t.Errorf("after Remove of a directory, os.Stat = %v, %v; want the directory still there", fi, err)
	}
}
