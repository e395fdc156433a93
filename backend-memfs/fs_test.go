package memfs

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/afero"
)

// check fails the test at once if err is not nil.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// waitCtx returns a context that ends the test's waits if something hangs.
func waitCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newTestFS returns an FS with the directory /d and the file /d/f holding
// "f", and the host "h".
func newTestFS(t *testing.T) (*FS, *Host) {
	t.Helper()
	fsys := New()
	check(t, fsys.MkdirAll("/d", 0o755))
	h := fsys.Host("h")
	check(t, h.WriteFile("/d/f", []byte("f"), 0o644))
	return fsys, h
}

func stat(t *testing.T, fsys *FS, name string) *Stat {
	t.Helper()
	fi, err := fsys.Stat(name)
	check(t, err)
	return fi.Sys().(*Stat)
}

func dirNames(t *testing.T, fsys *FS, name string) []string {
	t.Helper()
	infos, err := afero.ReadDir(fsys, name)
	check(t, err)
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
	}
	return names
}

func readString(t *testing.T, h *Host, name string) string {
	t.Helper()
	data, err := h.ReadFile(name)
	check(t, err)
	return string(data)
}

func TestNewDefaults(t *testing.T) {
	fsys := New()
	want := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	if got := fsys.Clock().Now(); !got.Equal(want) {
		t.Errorf("default clock starts at %v, want %v", got, want)
	}
	fi, err := fsys.Stat("/")
	check(t, err)
	if !fi.IsDir() || fi.Mode().Perm() != 0o755 || fi.Name() != "/" {
		t.Errorf("root: IsDir %v, mode %v, name %q; want directory 0755 named /", fi.IsDir(), fi.Mode(), fi.Name())
	}
	clk := NewClock(want.Add(time.Hour))
	if got := New(WithClock(clk)).Clock(); got != clk {
		t.Errorf("New(WithClock(c)).Clock() = %p, want c = %p", got, clk)
	}
	if fsys.Name() != "memfs" {
		t.Errorf("Name() = %q, want memfs", fsys.Name())
	}
}

func TestHardLinkSemantics(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, h.Link("/d/f", "/d/g"))

	f, g := stat(t, fsys, "/d/f"), stat(t, fsys, "/d/g")
	if f.Ino != g.Ino {
		t.Errorf("inode numbers differ after Link: %d and %d", f.Ino, g.Ino)
	}
	for _, name := range []string{"/d/f", "/d/g"} {
		fi, err := h.Stat(name)
		check(t, err)
		if fi.Links != 2 {
			t.Errorf("Stat(%s).Links = %d after Link, want 2", name, fi.Links)
		}
	}

	// Contents written through one name are read through the other.
	check(t, fsys.WriteFile("/d/f", []byte("new contents"), 0o644))
	if got := readString(t, h, "/d/g"); got != "new contents" {
		t.Errorf("after writing /d/f, /d/g reads %q, want %q", got, "new contents")
	}

	// Times set through one name are seen through the other.
	expiry := fsys.Clock().Now().Add(15 * time.Second)
	check(t, h.Chtimes("/d/g", expiry, expiry))
	fi, err := h.Stat("/d/f")
	check(t, err)
	if !fi.ModTime.Equal(expiry) {
		t.Errorf("after Chtimes(/d/g), /d/f has mtime %v, want %v", fi.ModTime, expiry)
	}
	if got := stat(t, fsys, "/d/f").Atime; !got.Equal(expiry) {
		t.Errorf("after Chtimes(/d/g), /d/f has atime %v, want %v", got, expiry)
	}

	// Removing one name leaves the other with the data and one link.
	check(t, h.Remove("/d/f"))
	if _, err := h.Stat("/d/f"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat of removed /d/f: err = %v, want fs.ErrNotExist", err)
	}
	fi, err = h.Stat("/d/g")
	check(t, err)
	if fi.Links != 1 {
		t.Errorf("after removing /d/f, /d/g has %d links, want 1", fi.Links)
	}
	if got := readString(t, h, "/d/g"); got != "new contents" {
		t.Errorf("after removing /d/f, /d/g reads %q, want %q", got, "new contents")
	}
}

func TestDirectoryLinks(t *testing.T) {
	fsys, _ := newTestFS(t)
	check(t, fsys.MkdirAll("/d/e/x", 0o755))
	check(t, fsys.Mkdir("/d/e2", 0o755))
	// /d: ".", its entry in "/", and ".." of e and e2.
	if got := stat(t, fsys, "/d").Nlink; got != 4 {
		t.Errorf("/d with two subdirectories has %d links, want 4", got)
	}
}

// errno returns the syscall.Errno inside err, or 0.
func errno(err error) syscall.Errno {
	var e syscall.Errno
	errors.As(err, &e)
	return e
}

// wantDirRefusal fails the test unless err, from call, says that a
// directory was in the way, as locker.FS asks: a *locker.NotRegularError for
// a directory, which keeps the errno.
func wantDirRefusal(t *testing.T, call string, err error) {
	t.Helper()
	var nr *locker.NotRegularError
	if !errors.As(err, &nr) || nr.Type != fs.ModeDir || nr.Err == nil {
		t.Errorf("%s = %v, want a *locker.NotRegularError for a directory, with the errno", call, err)
	}
}

func TestLinkErrors(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(*FS) error
		old, new  string
		want      error
		wantErrno syscall.Errno
	}{
		{"new name is a file", nil, "/d/f", "/d/taken", fs.ErrExist, syscall.EEXIST},
		{"new name is a directory", nil, "/d/f", "/d", fs.ErrExist, syscall.EEXIST},
		{"new name is itself", nil, "/d/f", "/d/f", fs.ErrExist, syscall.EEXIST},
		{"old name missing", nil, "/d/missing", "/d/g", fs.ErrNotExist, syscall.ENOENT},
		{"new parent missing", nil, "/d/f", "/nodir/g", fs.ErrNotExist, syscall.ENOENT},
		{"new parent is a file", nil, "/d/f", "/d/f/g", nil, syscall.ENOTDIR},
		{"old name a directory", nil, "/d", "/d2", fs.ErrPermission, syscall.EPERM},
		{"directory unwritable", func(fsys *FS) error { return fsys.Chmod("/d", 0o555) }, "/d/f", "/d/g", fs.ErrPermission, syscall.EACCES},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, h := newTestFS(t)
			check(t, h.WriteFile("/d/taken", []byte("taken"), 0o644))
			if tt.setup != nil {
				check(t, tt.setup(fsys))
			}
			err := h.Link(tt.old, tt.new)
			var le *os.LinkError
			if !errors.As(err, &le) || le.Op != "link" || le.Old != tt.old || le.New != tt.new {
				t.Fatalf("Link(%s, %s) = %#v, want *os.LinkError{Op: link, Old: %s, New: %s}", tt.old, tt.new, err, tt.old, tt.new)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Link(%s, %s) = %v, want an error satisfying %v", tt.old, tt.new, err, tt.want)
			}
			if got := errno(err); got != tt.wantErrno {
				t.Errorf("Link(%s, %s) errno = %v, want %v", tt.old, tt.new, got, tt.wantErrno)
			}
			if tt.wantErrno == syscall.EPERM {
				wantDirRefusal(t, "Link("+tt.old+", "+tt.new+")", err)
			}
			// Nothing changed.
			if got := readString(t, h, "/d/taken"); got != "taken" {
				t.Errorf("after failed link, /d/taken reads %q, want %q", got, "taken")
			}
			for _, name := range []string{"/d/f", "/d/taken"} {
				if got := stat(t, fsys, name).Nlink; got != 1 {
					t.Errorf("after failed link, %s has %d links, want 1", name, got)
				}
			}
			if _, err := h.Stat("/d/g"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("after failed link, Stat(/d/g) err = %v, want fs.ErrNotExist", err)
			}
		})
	}
}

func TestMissingParent(t *testing.T) {
	fsys, h := newTestFS(t)
	tests := []struct {
		name string
		op   func() error
	}{
		{"WriteFile", func() error { return h.WriteFile("/nodir/f", nil, 0o644) }},
		{"Link", func() error { return h.Link("/d/f", "/nodir/f") }},
		{"Rename", func() error { return h.Rename("/d/f", "/nodir/f") }},
		{"Mkdir", func() error { return fsys.Mkdir("/nodir/e", 0o755) }},
		{"Create", func() error { _, err := fsys.Create("/nodir/f"); return err }},
		{"Stat", func() error { _, err := h.Stat("/nodir/f"); return err }},
		{"ReadFile", func() error { _, err := h.ReadFile("/nodir/f"); return err }},
		{"Chtimes", func() error { return h.Chtimes("/nodir/f", time.Time{}, time.Time{}) }},
		{"Remove", func() error { return h.Remove("/nodir/f") }},
		{"empty name", func() error { _, err := h.Stat(""); return err }},
	}
	for _, tt := range tests {
		if err := tt.op(); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s under a missing directory: err = %v, want fs.ErrNotExist", tt.name, err)
		}
	}
}

func TestUnwritableDirectory(t *testing.T) {
	tests := []struct {
		name string
		op   func(*FS, *Host) error
	}{
		{"WriteFile new", func(_ *FS, h *Host) error { return h.WriteFile("/d/new", nil, 0o644) }},
		{"Create new", func(fsys *FS, _ *Host) error { _, err := fsys.Create("/d/new"); return err }},
		{"Mkdir", func(fsys *FS, _ *Host) error { return fsys.Mkdir("/d/new", 0o755) }},
		{"MkdirAll", func(fsys *FS, _ *Host) error { return fsys.MkdirAll("/d/new/sub", 0o755) }},
		{"Link into", func(_ *FS, h *Host) error { return h.Link("/d/f", "/d/new") }},
		{"Rename within", func(_ *FS, h *Host) error { return h.Rename("/d/f", "/d/new") }},
		{"Rename out", func(_ *FS, h *Host) error { return h.Rename("/d/f", "/new") }},
		{"Rename in", func(_ *FS, h *Host) error { return h.Rename("/other", "/d/new") }},
		{"Remove", func(_ *FS, h *Host) error { return h.Remove("/d/f") }},
		{"RemoveAll", func(fsys *FS, _ *Host) error { return fsys.RemoveAll("/d") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, h := newTestFS(t)
			check(t, h.WriteFile("/other", nil, 0o644))
			check(t, fsys.Chmod("/d", 0o555))
			if err := tt.op(fsys, h); !errors.Is(err, fs.ErrPermission) {
				t.Errorf("err = %v, want fs.ErrPermission", err)
			}
			names := dirNames(t, fsys, "/d")
			if fmt.Sprint(names) != "[f]" {
				t.Errorf("unwritable directory now holds %v, want [f]", names)
			}
		})
	}

	// What needs no write permission on the directory still works.
	fsys, h := newTestFS(t)
	check(t, fsys.Chmod("/d", 0o555))
	if err := fsys.WriteFile("/d/f", []byte("rewritten"), 0o644); err != nil {
		t.Errorf("rewriting an existing file in an unwritable directory: %v, want success", err)
	}
	if err := h.Chtimes("/d/f", time.Time{}, fsys.Clock().Now()); err != nil {
		t.Errorf("Chtimes in an unwritable directory: %v, want success", err)
	}
	if got := readString(t, h, "/d/f"); got != "rewritten" {
		t.Errorf("read %q, want %q", got, "rewritten")
	}
}

func TestFilePermissions(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, fsys.Chmod("/d/f", 0o444))
	if err := fsys.WriteFile("/d/f", []byte("x"), 0o644); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("writing a 0444 file: err = %v, want fs.ErrPermission", err)
	}
	check(t, fsys.Chmod("/d/f", 0o200))
	if _, err := h.ReadFile("/d/f"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("reading a 0200 file: err = %v, want fs.ErrPermission", err)
	}
	fi, err := fsys.Stat("/d/f")
	check(t, err)
	if fi.Mode() != 0o200 {
		t.Errorf("mode after Chmod(0200) = %v, want %v", fi.Mode(), fs.FileMode(0o200))
	}
}

func TestRename(t *testing.T) {
	tests := []struct {
		name      string
		old, new  string
		wantErrno syscall.Errno
		// After a successful rename: want maps names to contents ("" means
		// the name must not exist) and links to link counts.
		want  map[string]string
		links map[string]uint64
	}{
		{
			name: "to a new name",
			old:  "/d/f", new: "/d/g",
			want:  map[string]string{"/d/f": "", "/d/g": "f"},
			links: map[string]uint64{"/d/g": 1},
		},
		{
			name: "replacing a file, which loses a link",
			old:  "/d/f", new: "/d/target",
			want:  map[string]string{"/d/f": "", "/d/target": "f", "/d/target2": "target"},
			links: map[string]uint64{"/d/target": 1, "/d/target2": 1},
		},
		{
			name: "across directories",
			old:  "/d/f", new: "/e/f",
			want: map[string]string{"/d/f": "", "/e/f": "f"},
		},
		{
			name: "onto another link of the same file does nothing",
			old:  "/d/target", new: "/d/target2",
			want:  map[string]string{"/d/target": "target", "/d/target2": "target"},
			links: map[string]uint64{"/d/target": 2},
		},
		{name: "missing old name", old: "/d/missing", new: "/d/g", wantErrno: syscall.ENOENT},
		{name: "missing new parent", old: "/d/f", new: "/nodir/g", wantErrno: syscall.ENOENT},
		{name: "file over directory", old: "/d/f", new: "/e", wantErrno: syscall.EISDIR},
		{name: "directory over file", old: "/e", new: "/d/f", wantErrno: syscall.ENOTDIR},
		{name: "directory over non-empty directory", old: "/e", new: "/d", wantErrno: syscall.ENOTEMPTY},
		{name: "directory into itself", old: "/d", new: "/d/sub", wantErrno: syscall.EINVAL},
		{name: "root", old: "/", new: "/x", wantErrno: syscall.EBUSY},
		{
			name: "directory over empty directory",
			old:  "/d", new: "/e",
			want: map[string]string{"/d/f": "", "/e/f": "f"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys, h := newTestFS(t)
			check(t, fsys.Mkdir("/e", 0o755))
			check(t, h.WriteFile("/d/target", []byte("target"), 0o644))
			check(t, h.Link("/d/target", "/d/target2"))

			err := h.Rename(tt.old, tt.new)
			if got := errno(err); got != tt.wantErrno {
				t.Fatalf("Rename(%s, %s) = %v, want errno %v", tt.old, tt.new, err, tt.wantErrno)
			}
			switch tt.wantErrno {
			case syscall.EISDIR, syscall.ENOTDIR, syscall.ENOTEMPTY:
				wantDirRefusal(t, "Rename("+tt.old+", "+tt.new+")", err)
			}
			if err != nil {
				var le *os.LinkError
				if !errors.As(err, &le) || le.Op != "rename" {
					t.Errorf("Rename error %#v is not an *os.LinkError with Op rename", err)
				}
				return
			}
			for name, want := range tt.want {
				data, err := h.ReadFile(name)
				switch {
				case want == "" && !errors.Is(err, fs.ErrNotExist):
					t.Errorf("after rename, ReadFile(%s) = %q, %v; want fs.ErrNotExist", name, data, err)
				case want != "" && (err != nil || string(data) != want):
					t.Errorf("after rename, ReadFile(%s) = %q, %v; want %q", name, data, err, want)
				}
			}
			for name, want := range tt.links {
				if got := stat(t, fsys, name).Nlink; got != want {
					t.Errorf("after rename, %s has %d links, want %d", name, got, want)
				}
			}
		})
	}
}

func TestRemove(t *testing.T) {
	// FS.Remove is os.Remove; Host.Remove, for the locker, is unlink(2),
	// which never removes a directory.
	tests := []struct {
		name      string
		path      string
		wantErrno syscall.Errno // of FS.Remove
		hostErrno syscall.Errno // of Host.Remove
	}{
		{"file", "/d/f", 0, 0},
		{"empty directory", "/e", 0, syscall.EISDIR},
		{"non-empty directory", "/d", syscall.ENOTEMPTY, syscall.EISDIR},
		{"missing", "/d/missing", syscall.ENOENT, syscall.ENOENT},
		{"root", "/", syscall.EBUSY, syscall.EISDIR},
	}
	for _, tt := range tests {
		for _, by := range []string{"FS", "Host"} {
			t.Run(tt.name+"/"+by, func(t *testing.T) {
				fsys, h := newTestFS(t)
				check(t, fsys.Mkdir("/e", 0o755))
				remove, want := fsys.Remove, tt.wantErrno
				if by == "Host" {
					remove, want = h.Remove, tt.hostErrno
				}
				err := remove(tt.path)
				if got := errno(err); got != want {
					t.Fatalf("%s.Remove(%s) = %v, want errno %v", by, tt.path, err, want)
				}
				if by == "Host" && want == syscall.EISDIR {
					wantDirRefusal(t, "Host.Remove("+tt.path+")", err)
				}
				_, statErr := fsys.Stat(tt.path)
				if removed := errors.Is(statErr, fs.ErrNotExist); removed != (err == nil || want == syscall.ENOENT) {
					t.Errorf("after %s.Remove(%s) = %v, Stat err = %v", by, tt.path, err, statErr)
				}
			})
		}
	}
}

func TestRemoveAll(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, fsys.MkdirAll("/d/e/f", 0o755))
	check(t, h.WriteFile("/d/e/f/x", nil, 0o644))
	check(t, h.Link("/d/f", "/keep"))

	check(t, fsys.Chmod("/d/e/f", 0o555))
	if err := fsys.RemoveAll("/d"); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("RemoveAll of a tree with an unwritable directory: err = %v, want fs.ErrPermission", err)
	}
	if _, err := fsys.Stat("/d/e/f/x"); err != nil {
		t.Errorf("failed RemoveAll removed something: Stat(/d/e/f/x) = %v", err)
	}

	check(t, fsys.Chmod("/d/e/f", 0o755))
	check(t, fsys.RemoveAll("/d"))
	if _, err := fsys.Stat("/d"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after RemoveAll(/d), Stat(/d) err = %v, want fs.ErrNotExist", err)
	}
	if got := stat(t, fsys, "/keep").Nlink; got != 1 {
		t.Errorf("after RemoveAll removed its other name, /keep has %d links, want 1", got)
	}
	if err := fsys.RemoveAll("/d"); err != nil {
		t.Errorf("RemoveAll of a missing name = %v, want nil", err)
	}
}

func TestMkdir(t *testing.T) {
	fsys, _ := newTestFS(t)
	if err := fsys.Mkdir("/d", 0o755); !errors.Is(err, fs.ErrExist) {
		t.Errorf("Mkdir of an existing directory: err = %v, want fs.ErrExist", err)
	}
	if err := fsys.MkdirAll("/d", 0o755); err != nil {
		t.Errorf("MkdirAll of an existing directory = %v, want nil", err)
	}
	if err := fsys.MkdirAll("/d/f/sub", 0o755); errno(err) != syscall.ENOTDIR {
		t.Errorf("MkdirAll through a file = %v, want ENOTDIR", err)
	}
	check(t, fsys.MkdirAll("/a/b/c", 0o700))
	fi, err := fsys.Stat("/a/b")
	check(t, err)
	if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		t.Errorf("MkdirAll made /a/b with mode %v, want a 0700 directory", fi.Mode())
	}
}

func TestWritesUseServerTime(t *testing.T) {
	fsys, _ := newTestFS(t)
	h := fsys.Host("skewed")
	h.SetClockOffset(time.Hour)
	fsys.Clock().Advance(5 * time.Second)
	want := fsys.Clock().Now()
	check(t, h.WriteFile("/d/g", []byte("x"), 0o644))
	fi, err := h.Stat("/d/g")
	check(t, err)
	if !fi.ModTime.Equal(want) {
		t.Errorf("new file's mtime = %v, want server time %v", fi.ModTime, want)
	}

	fsys.Clock().Advance(5 * time.Second)
	want = fsys.Clock().Now()
	f, err := fsys.OpenFile("/d/g", os.O_WRONLY|os.O_APPEND, 0)
	check(t, err)
	_, err = f.WriteString("y")
	check(t, err)
	check(t, f.Close())
	if got := stat(t, fsys, "/d/g").Mtime; !got.Equal(want) {
		t.Errorf("mtime after a write = %v, want %v", got, want)
	}
	if got := stat(t, fsys, "/d").Mtime; got.Before(want.Add(-5 * time.Second)) {
		t.Errorf("directory mtime after creating an entry = %v, want at least %v", got, want.Add(-5*time.Second))
	}
}

func TestPaths(t *testing.T) {
	fsys, h := newTestFS(t)
	names := []string{"/d/f", "d/f", "./d/f", "/d/../d/./f", "//d//f", "../d/f"}
	if runtime.GOOS == "windows" {
		names = append(names, `\d\f`, `d\f`)
	}
	for _, name := range names {
		if got, err := h.ReadFile(name); err != nil || string(got) != "f" {
			t.Errorf("ReadFile(%q) = %q, %v; want %q", name, got, err, "f")
		}
	}
	fi, err := fsys.Stat("d/f/")
	check(t, err)
	if fi.Name() != "f" {
		t.Errorf("Stat(d/f/).Name() = %q, want f", fi.Name())
	}
}

func TestWindowsVolumePaths(t *testing.T) {
	if runtime.GOOS != "windows" {
		t.Skip("volume names exist only on Windows")
	}
	fsys := New()
	h := fsys.Host("h")
	check(t, fsys.MkdirAll(`C:\locks`, 0o755))
	check(t, h.WriteFile(`C:\locks\claim`, []byte("x"), 0o644))
	check(t, h.Link(`C:\locks\claim`, `C:/locks/app.lock`))
	fi, err := h.Stat(`C:\locks\app.lock`)
	check(t, err)
	if fi.Links != 2 {
		t.Errorf("Links = %d, want 2", fi.Links)
	}
	if _, err := h.Stat(`D:\locks\app.lock`); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stat on another volume: err = %v, want fs.ErrNotExist", err)
	}
}

// TestLinkRace has goroutines race to link their claims to one lock file,
// round after round: exactly one must win each round, and the others must
// see fs.ErrExist.
func TestLinkRace(t *testing.T) {
	const (
		workers = 8
		rounds  = 200
	)
	fsys := New()
	check(t, fsys.MkdirAll("/locks", 0o755))
	hosts := make([]*Host, workers)
	for i := range hosts {
		hosts[i] = fsys.Host(fmt.Sprintf("host%d", i))
	}
	for round := range rounds {
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			errs    = make([]error, workers)
			claimed = make([]string, workers)
		)
		for i, h := range hosts {
			claim := fmt.Sprintf("/locks/app.lock|%s|%d", h.Name(), round)
			claimed[i] = claim
			if err := h.WriteFile(claim, []byte(claim), 0o644); err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				errs[i] = h.Link(claim, "/locks/app.lock")
			}()
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: workers %d and %d both linked the lock", round, winner, i)
			case err == nil:
				winner = i
			case !errors.Is(err, fs.ErrExist):
				t.Fatalf("round %d: worker %d: err = %v, want fs.ErrExist", round, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no worker linked the lock", round)
		}
		data, err := hosts[0].ReadFile("/locks/app.lock")
		check(t, err)
		if string(data) != claimed[winner] {
			t.Fatalf("round %d: lock holds %q, want the winner's claim %q", round, data, claimed[winner])
		}
		check(t, hosts[0].Remove("/locks/app.lock"))
		for _, claim := range claimed {
			check(t, hosts[0].Remove(claim))
		}
	}
}
