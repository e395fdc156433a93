//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

func TestMissingFile(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	present := filepath.Join(dir, "present")
	mustWrite(t, present, "x")
	fsys := New()
	now := time.Now()

	tests := []struct {
		op   string
		call func() error
	}{
		{"open", func() error { _, err := fsys.ReadFile(missing); return err }},
		{"stat", func() error { _, err := fsys.Stat(missing); return err }},
		{"chtimes", func() error { return fsys.Chtimes(missing, now, now) }},
		{"remove", func() error { return fsys.Remove(missing) }},
		{"link", func() error { return fsys.Link(missing, filepath.Join(dir, "new")) }},
		{"rename", func() error { return fsys.Rename(missing, filepath.Join(dir, "new")) }},
	}
	for _, tt := range tests {
		err := tt.call()
		if !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s of a missing file: got %v, want an error matching fs.ErrNotExist", tt.op, err)
			continue
		}
		var pe *os.PathError
		var le *os.LinkError
		switch {
		case errors.As(err, &pe):
			if pe.Op != tt.op || pe.Path != missing {
				t.Errorf("%s of a missing file: got *os.PathError{Op: %q, Path: %q}, want Op %q, Path %q", tt.op, pe.Op, pe.Path, tt.op, missing)
			}
		case errors.As(err, &le):
			if le.Op != tt.op || le.Old != missing {
				t.Errorf("%s of a missing file: got *os.LinkError{Op: %q, Old: %q}, want Op %q, Old %q", tt.op, le.Op, le.Old, tt.op, missing)
			}
		default:
			t.Errorf("%s of a missing file: got %T, want *os.PathError or *os.LinkError", tt.op, err)
		}
		if errors.Is(err, locker.ErrTransient) {
			t.Errorf("%s of a missing file: %v is marked transient, want not", tt.op, err)
		}
	}
	if got := mustRead(t, present); got != "x" {
		t.Errorf("an unrelated file changed: got %q, want %q", got, "x")
	}
}

func TestStaleIsTransient(t *testing.T) {
	tests := []struct {
		errno         unix.Errno
		wantTransient bool
	}{
		{unix.ESTALE, true},
		{unix.ENOENT, false},
		{unix.EEXIST, false},
		{unix.EIO, false},
	}
	for _, tt := range tests {
		errs := []error{
			pathError("open", "/d/lock", tt.errno),
			linkError("link", "/d/claim", "/d/lock", tt.errno),
		}
		for _, err := range errs {
			if got := errors.Is(err, locker.ErrTransient); got != tt.wantTransient {
				t.Errorf("errors.Is(%v, locker.ErrTransient) = %v, want %v", err, got, tt.wantTransient)
			}
			if !errors.Is(err, tt.errno) {
				t.Errorf("errors.Is(%v, %s) = false, want true", err, unix.ErrnoName(tt.errno))
			}
			var pe *os.PathError
			var le *os.LinkError
			if !errors.As(err, &pe) && !errors.As(err, &le) {
				t.Errorf("%v (%T) wraps neither *os.PathError nor *os.LinkError", err, err)
			}
		}
	}
}

// TestReplacedEIOIsTransient: a stat, chtimes or read failing with EIO is
// tried again: FUSE's answer to a call on a name whose file was just
// replaced by one of another type.
func TestReplacedEIOIsTransient(t *testing.T) {
	for _, tt := range []struct {
		errno         unix.Errno
		wantTransient bool
	}{
		{unix.EIO, true},
		{unix.ESTALE, true},
		{unix.ENOENT, false},
		{unix.EACCES, false},
	} {
		for _, op := range []string{"stat", "chtimes", "open", "read"} {
			err := replacedError(op, "/d/lock", tt.errno)
			if got := errors.Is(err, locker.ErrTransient); got != tt.wantTransient {
				t.Errorf("errors.Is(%v, locker.ErrTransient) = %v, want %v", err, got, tt.wantTransient)
			}
			var pe *os.PathError
			if !errors.Is(err, tt.errno) || !errors.As(err, &pe) || pe.Op != op {
				t.Errorf("replacedError(%q, %s) = %#v, want an *os.PathError for %s wrapping it", op, unix.ErrnoName(tt.errno), err, op)
			}
		}
	}
}

// TestCreateEPERMOntoExistingName: sshfs answers an O_EXCL create onto an
// existing name with EPERM; that is "file exists", so that the locker
// removes what is there (a name of its own) and writes again.
func TestCreateEPERMOntoExistingName(t *testing.T) {
	for _, tt := range []struct {
		errno      unix.Errno
		exists     bool
		wantExist  bool
		wantPermOK bool // errors.Is(err, fs.ErrPermission)
	}{
		{unix.EPERM, true, true, false},
		{unix.EPERM, false, false, true},
		{unix.EEXIST, true, true, false},
		{unix.EACCES, true, false, true},
	} {
		err := pathError("open", "/d/claim", createErrno(tt.errno, tt.exists))
		if got := errors.Is(err, fs.ErrExist); got != tt.wantExist {
			t.Errorf("create failing with %s, name exists %v: errors.Is(%v, fs.ErrExist) = %v, want %v", unix.ErrnoName(tt.errno), tt.exists, err, got, tt.wantExist)
		}
		if got := errors.Is(err, fs.ErrPermission); got != tt.wantPermOK {
			t.Errorf("create failing with %s, name exists %v: errors.Is(%v, fs.ErrPermission) = %v, want %v", unix.ErrnoName(tt.errno), tt.exists, err, got, tt.wantPermOK)
		}
	}
}
