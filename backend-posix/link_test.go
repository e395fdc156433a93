//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

func TestLinkSharesInode(t *testing.T) {
	dir := t.TempDir()
	claim := filepath.Join(dir, "lock|host|1|2")
	lock := filepath.Join(dir, "lock")
	mustWrite(t, claim, claim)
	fsys := New()

	if err := fsys.Link(claim, lock); err != nil {
		t.Fatalf("Link: %v", err)
	}
	ci, err := os.Stat(claim)
	if err != nil {
		t.Fatal(err)
	}
	li, err := os.Stat(lock)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(ci, li) {
		t.Errorf("after Link, %s and %s are different files, want the same inode", claim, lock)
	}
	for _, name := range []string{claim, lock} {
		fi, err := fsys.Stat(name)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if fi.Links != 2 {
			t.Errorf("Stat(%s).Links = %d after Link, want 2", name, fi.Links)
		}
	}
	got, err := fsys.ReadFile(lock)
	if err != nil {
		t.Fatalf("ReadFile: %v", err)
	}
	if string(got) != claim {
		t.Errorf("ReadFile(lock) = %q, want the claim's contents %q", got, claim)
	}

	// Times set through either name show through the other: this is how a
	// refresh of the claim moves the lock's expiry.
	steps := []struct{ set, other string }{{claim, lock}, {lock, claim}}
	for i, s := range steps {
		mtime := time.Unix(1_900_000_000+int64(i), 0)
		if err := fsys.Chtimes(s.set, mtime, mtime); err != nil {
			t.Fatalf("Chtimes: %v", err)
		}
		fi, err := fsys.Stat(s.other)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if !fi.ModTime.Equal(mtime) {
			t.Errorf("after Chtimes(%s), Stat(%s).ModTime = %v, want %v", s.set, s.other, fi.ModTime, mtime)
		}
	}
}

func TestLinkOntoExistingName(t *testing.T) {
	dir := t.TempDir()
	claim := filepath.Join(dir, "claim")
	lock := filepath.Join(dir, "lock")
	mustWrite(t, claim, "mine")
	mustWrite(t, lock, "someone else's")
	fsys := New()

	err := fsys.Link(claim, lock)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Link onto an existing name: got %v, want an error matching fs.ErrExist", err)
	}
	var le *os.LinkError
	if !errors.As(err, &le) || le.Op != "link" || le.Old != claim || le.New != lock {
		t.Errorf("Link onto an existing name: got %#v, want an *os.LinkError{Op: %q, Old: %q, New: %q}", err, "link", claim, lock)
	}
	if got := mustRead(t, lock); got != "someone else's" {
		t.Errorf("target contents after a failed Link: got %q, want %q", got, "someone else's")
	}
	for _, name := range []string{claim, lock} {
		fi, err := fsys.Stat(name)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if fi.Links != 1 {
			t.Errorf("Stat(%s).Links = %d after a failed Link, want 1", name, fi.Links)
		}
	}
}

func TestLinkErrno(t *testing.T) {
	tests := []struct {
		errno         unix.Errno
		newnameExists bool
		wantExist     bool
		wantPerm      bool
		wantText      []string
	}{
		// sshfs: a lost race comes back as EPERM.
		{unix.EPERM, true, true, false, []string{"EPERM", `"file exists"`}},
		// A real refusal: nothing at newname.
		{unix.EPERM, false, false, true, []string{unix.EPERM.Error()}},
		{unix.EEXIST, true, true, false, []string{unix.EEXIST.Error()}},
		{unix.ENOENT, false, false, false, []string{unix.ENOENT.Error()}},
		{unix.EACCES, true, false, true, []string{unix.EACCES.Error()}},
	}
	for _, tt := range tests {
		errno := linkErrno(tt.errno, "/d/claim", tt.newnameExists)
		err := linkError("link", "/d/claim", "/d/lock", errno)
		desc := tt.errno.Error()
		if tt.newnameExists {
			desc += " with newname present"
		} else {
			desc += " with newname absent"
		}
		if got := errors.Is(err, fs.ErrExist); got != tt.wantExist {
			t.Errorf("%s: errors.Is(%v, fs.ErrExist) = %v, want %v", desc, err, got, tt.wantExist)
		}
		if got := errors.Is(err, fs.ErrPermission); got != tt.wantPerm {
			t.Errorf("%s: errors.Is(%v, fs.ErrPermission) = %v, want %v", desc, err, got, tt.wantPerm)
		}
		for _, s := range tt.wantText {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: error %q does not contain %q", desc, err, s)
			}
		}
		var le *os.LinkError
		if !errors.As(err, &le) {
			t.Errorf("%s: got %T, want *os.LinkError", desc, err)
		}
	}
}

func TestLinkDirectoryIsRefused(t *testing.T) {
	// Hard links to directories are refused with EPERM. The new name does
	// not exist, so this EPERM is a real refusal and must not be mistaken
	// for the sshfs "file exists".
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	newname := filepath.Join(dir, "link")
	if err := unix.Link(sub, newname); err != unix.EPERM {
		t.Skipf("this system does not refuse a link to a directory with EPERM: link returned %v", err)
	}
	err := New().Link(sub, newname)
	if errors.Is(err, fs.ErrExist) {
		t.Errorf("Link of a directory onto a free name: %v matches fs.ErrExist, want only fs.ErrPermission", err)
	}
	if !errors.Is(err, fs.ErrPermission) {
		t.Errorf("Link of a directory onto a free name: %v does not match fs.ErrPermission", err)
	}
	// A directory at one of the locker's names is a foreign object.
	var nr *locker.NotRegularError
	if !errors.As(err, &nr) || nr.Type != fs.ModeDir {
		t.Errorf("Link of a directory onto a free name: %v is not a *locker.NotRegularError for a directory", err)
	}
	if _, err := os.Lstat(newname); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after a refused Link, Lstat(newname) = %v, want fs.ErrNotExist", err)
	}
}
