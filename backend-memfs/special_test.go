package memfs

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/afero"
)

func TestSymlinkResolution(t *testing.T) {
	fsys, _ := newTestFS(t) // /d/f holds "f"
	check(t, fsys.MkdirAll("/d/sub", 0o755))
	check(t, fsys.WriteFile("/d/sub/g", []byte("g"), 0o644))
	links := map[string]string{
		"/d/abs":      "/d/f",
		"/d/rel":      "f",
		"/d/sub/up":   "../f",
		"/d/dirlink":  "sub",
		"/d/chain":    "abs",
		"/d/dangling": "missing",
		"/d/loop":     "loop",
		"/d/root":     "/",
	}
	for name, target := range links {
		check(t, fsys.SymlinkIfPossible(target, name))
	}
	tests := []struct {
		name, want string
		wantErr    syscall.Errno
	}{
		{"/d/abs", "f", 0},
		{"/d/rel", "f", 0},
		{"/d/sub/up", "f", 0},
		{"/d/dirlink/g", "g", 0},    // a link in the middle of a name
		{"/d/dirlink/../f", "f", 0}, // cleaned lexically first, as filepath.Clean does
		{"/d/chain", "f", 0},
		{"/d/root/d/f", "f", 0},
		{"/d/dangling", "", syscall.ENOENT},
		{"/d/loop", "", syscall.ELOOP},
	}
	for _, tt := range tests {
		data, err := afero.ReadFile(fsys, tt.name)
		if got := errno(err); got != tt.wantErr || string(data) != tt.want {
			t.Errorf("ReadFile(%s) through links = %q, %v; want %q, errno %v", tt.name, data, err, tt.want, tt.wantErr)
		}
	}
	// Lstat and Readlink describe the link itself.
	fi, _, err := fsys.LstatIfPossible("/d/rel")
	check(t, err)
	if fi.Mode()&fs.ModeSymlink == 0 || fi.Size() != int64(len("f")) {
		t.Errorf("Lstat of a link: mode %v size %d, want a symbolic link of size 1", fi.Mode(), fi.Size())
	}
	if target, err := fsys.ReadlinkIfPossible("/d/sub/up"); err != nil || target != "../f" {
		t.Errorf("Readlink = %q, %v; want %q", target, err, "../f")
	}
	if _, err := fsys.ReadlinkIfPossible("/d/f"); errno(err) != syscall.EINVAL {
		t.Errorf("Readlink of a file: %v, want EINVAL", err)
	}
	if err := fsys.SymlinkIfPossible("x", "/d/f"); errno(err) != syscall.EEXIST {
		t.Errorf("Symlink onto an existing name: %v, want EEXIST", err)
	}
	if err := fsys.SymlinkIfPossible("", "/d/empty"); errno(err) != syscall.ENOENT {
		t.Errorf("Symlink to an empty target: %v, want ENOENT", err)
	}
}

func TestSymlinkOperations(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, fsys.SymlinkIfPossible("/d/target", "/d/dangling"))
	check(t, fsys.SymlinkIfPossible("/d/f", "/d/tofile"))

	// O_CREATE|O_EXCL never follows a link; O_CREATE alone creates the
	// dangling link's target.
	if _, err := fsys.OpenFile("/d/dangling", os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); errno(err) != syscall.EEXIST {
		t.Errorf("O_EXCL create on a dangling link: %v, want EEXIST", err)
	}
	if _, err := fsys.Stat("/d/target"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("O_EXCL create on a dangling link made its target: %v", err)
	}
	f, err := fsys.OpenFile("/d/dangling", os.O_WRONLY|os.O_CREATE, 0o644)
	check(t, err)
	check(t, f.Close())
	if _, err := fsys.Stat("/d/target"); err != nil {
		t.Errorf("create through a dangling link did not make its target: %v", err)
	}

	// Host.Stat describes the link itself, as locker.FS asks; a link to
	// a directory is no directory, and a loop is a link like any other.
	check(t, fsys.SymlinkIfPossible("/d", "/d/todir"))
	check(t, fsys.SymlinkIfPossible("/d/loop", "/d/loop"))
	for _, name := range []string{"/d/tofile", "/d/todir", "/d/loop", "/d/dangling"} {
		target, err := fsys.ReadlinkIfPossible(name)
		check(t, err)
		fi, err := h.Stat(name)
		if err != nil || fi.IsDir || fi.Size != int64(len(target)) || fi.Links != 1 {
			t.Errorf("Host.Stat(%s), a link to %s: %+v, %v; want the link itself: size %d, 1 link, not a directory", name, target, fi, err, len(target))
		}
	}

	// Link links the link itself.
	check(t, h.Link("/d/tofile", "/d/hard"))
	fi, _, err := fsys.LstatIfPossible("/d/hard")
	check(t, err)
	if fi.Mode()&fs.ModeSymlink == 0 || stat(t, fsys, "/d/f").Nlink != 1 {
		t.Errorf("Link of a symbolic link: made %v, and the target has %d links; want a link, 1", fi.Mode(), stat(t, fsys, "/d/f").Nlink)
	}

	// Host.Chtimes changes the link; FS.Chtimes, like os.Chtimes, the
	// target.
	when := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	before := stat(t, fsys, "/d/f").Mtime
	check(t, h.Chtimes("/d/tofile", when, when))
	if got := stat(t, fsys, "/d/f").Mtime; !got.Equal(before) {
		t.Errorf("Host.Chtimes of a link changed its target's mtime to %v", got)
	}
	if fi, _, _ := fsys.LstatIfPossible("/d/tofile"); !fi.ModTime().Equal(when) {
		t.Errorf("Host.Chtimes of a link: the link's mtime is %v, want %v", fi.ModTime(), when)
	}
	check(t, fsys.Chtimes("/d/tofile", when, when))
	if got := stat(t, fsys, "/d/f").Mtime; !got.Equal(when) {
		t.Errorf("FS.Chtimes of a link: target's mtime %v, want %v", got, when)
	}

	// Remove and Rename act on the link.
	check(t, h.Remove("/d/tofile"))
	if _, err := fsys.Stat("/d/f"); err != nil {
		t.Errorf("removing a link removed its target: %v", err)
	}

	// MkdirAll follows a link to a directory.
	check(t, fsys.MkdirAll("/e", 0o755))
	check(t, fsys.SymlinkIfPossible("/e", "/d/e"))
	check(t, fsys.MkdirAll("/d/e/x/y", 0o755))
	if fi, err := fsys.Stat("/e/x/y"); err != nil || !fi.IsDir() {
		t.Errorf("MkdirAll through a link to a directory: %v, %v", fi, err)
	}
	// A directory cannot be moved below itself through a link.
	if err := fsys.Rename("/e", "/d/e/x/e"); errno(err) != syscall.EINVAL {
		t.Errorf("Rename of a directory below itself through a link: %v, want EINVAL", err)
	}
}

func TestMknod(t *testing.T) {
	fsys, h := newTestFS(t)
	for _, mode := range []fs.FileMode{fs.ModeNamedPipe, fs.ModeSocket, fs.ModeDevice, fs.ModeDevice | fs.ModeCharDevice} {
		name := "/d/" + strings.ReplaceAll(mode.String(), "-", "")
		check(t, fsys.Mknod(name, mode|0o644))
		fi, _, err := fsys.LstatIfPossible(name)
		check(t, err)
		if fi.Mode() != mode|0o644 {
			t.Errorf("Mknod(%v): made %v", mode, fi.Mode())
		}
		if _, err := fsys.Open(name); errno(err) != syscall.ENXIO {
			t.Errorf("Open of a %v: %v, want ENXIO", mode, err)
		}
		check(t, h.Link(name, name+"-2"))
		check(t, h.Rename(name+"-2", name+"-3"))
		check(t, h.Remove(name+"-3"))
	}
	for _, mode := range []fs.FileMode{0, fs.ModeDir, fs.ModeSymlink} {
		if err := fsys.Mknod("/d/bad", mode|0o644); errno(err) != syscall.EINVAL {
			t.Errorf("Mknod(%v): %v, want EINVAL", mode, err)
		}
	}
	if err := fsys.Mknod("/d/f", fs.ModeNamedPipe); errno(err) != syscall.EEXIST {
		t.Errorf("Mknod onto an existing name: %v, want EEXIST", err)
	}
}

// TestHostReadFile checks Host.ReadFile against locker.FS's contract.
func TestHostReadFile(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, fsys.SymlinkIfPossible("/d/f", "/d/link"))
	check(t, fsys.SymlinkIfPossible("/d/missing", "/d/dangling"))
	check(t, fsys.Mknod("/d/fifo", fs.ModeNamedPipe|0o644))
	check(t, fsys.Mknod("/d/null", fs.ModeDevice|fs.ModeCharDevice|0o666))
	check(t, fsys.Mkdir("/d/dir", 0o755))
	check(t, fsys.WriteFile("/d/longest", make([]byte, locker.MaxClaimLen), 0o644))
	check(t, fsys.WriteFile("/d/long", make([]byte, locker.MaxClaimLen+1), 0o644))
	tests := []struct {
		name     string
		wantType fs.FileMode // of a *locker.NotRegularError
		wantErr  error
		wantLen  int
	}{
		{"/d/f", 0, nil, 1},
		{"/d/longest", 0, nil, locker.MaxClaimLen},
		{"/d/long", 0, locker.ErrTooLong, 0},
		{"/d/link", fs.ModeSymlink, locker.ErrNotRegular, 0},
		{"/d/dangling", fs.ModeSymlink, locker.ErrNotRegular, 0},
		{"/d/fifo", fs.ModeNamedPipe, locker.ErrNotRegular, 0},
		{"/d/null", fs.ModeDevice | fs.ModeCharDevice, locker.ErrNotRegular, 0},
		{"/d/dir", fs.ModeDir, locker.ErrNotRegular, 0},
		{"/d/missing", 0, fs.ErrNotExist, 0},
	}
	for _, tt := range tests {
		data, err := h.ReadFile(tt.name)
		var nr *locker.NotRegularError
		switch {
		case tt.wantErr == nil && (err != nil || len(data) != tt.wantLen):
			t.Errorf("ReadFile(%s) = %d bytes, %v; want %d bytes", tt.name, len(data), err, tt.wantLen)
		case tt.wantErr != nil && !errors.Is(err, tt.wantErr):
			t.Errorf("ReadFile(%s): %v, want %v", tt.name, err, tt.wantErr)
		case tt.wantType != 0 && (!errors.As(err, &nr) || nr.Type != tt.wantType):
			t.Errorf("ReadFile(%s): %v, want a *locker.NotRegularError of type %v", tt.name, err, tt.wantType)
		}
	}
}

// TestHostWriteFile checks Host.WriteFile against locker.FS's contract:
// exclusive, never through what is there.
func TestHostWriteFile(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, fsys.SymlinkIfPossible("/d/target", "/d/dangling"))
	check(t, fsys.SymlinkIfPossible("/d/f", "/d/tofile"))
	check(t, fsys.Mknod("/d/fifo", fs.ModeNamedPipe|0o644))
	for _, name := range []string{"/d/f", "/d/dangling", "/d/tofile", "/d/fifo"} {
		if err := h.WriteFile(name, []byte("new"), 0o644); !errors.Is(err, fs.ErrExist) {
			t.Errorf("Host.WriteFile(%s): %v, want fs.ErrExist", name, err)
		}
	}
	if got := readString(t, h, "/d/f"); got != "f" {
		t.Errorf("/d/f holds %q after the refused writes, want %q", got, "f")
	}
	if _, err := fsys.Stat("/d/target"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a write through a dangling link made its target: %v", err)
	}
	check(t, h.WriteFile("/d/new", []byte("new"), 0o644))
	if got := readString(t, h, "/d/new"); got != "new" {
		t.Errorf("/d/new holds %q, want %q", got, "new")
	}
}
