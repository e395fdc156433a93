//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// The primitives' care with names that anyone who can write the directory
// may have filled: no read blocks, follows a link or reads more than a claim
// name's length; no write goes through anything already at a name.

// guard is how long a call may take before the test calls it blocked.
const guard = 10 * time.Second

// returns calls f and fails the test if f has not returned within guard;
// f is then left blocked.
func returns(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(guard):
		t.Fatalf("%s did not return within %v: it blocks", what, guard)
	}
}

// makeObject makes o at path, skipping the test if this machine cannot.
func makeObject(t *testing.T, path string, o conformance.Object) {
	t.Helper()
	err := conformance.MakeObjectOnDisk(path, o)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("cannot make a %v here: %v", o.Kind, err)
	}
	if err != nil {
		t.Fatalf("making a %v at %s: %v", o.Kind, path, err)
	}
}

func describe(t *testing.T, path string) string {
	t.Helper()
	d, err := conformance.DescribeOnDisk(path)
	if err != nil {
		t.Fatalf("describing %s: %v", path, err)
	}
	return d
}

func TestReadFileRefusesWhatIsNotARegularFile(t *testing.T) {
	tests := []struct {
		name string
		obj  func(dir string) conformance.Object
		want fs.FileMode
	}{
		{"FIFO", func(string) conformance.Object { return conformance.Object{Kind: conformance.FIFO} }, fs.ModeNamedPipe},
		{"Socket", func(string) conformance.Object { return conformance.Object{Kind: conformance.Socket} }, fs.ModeSocket},
		{"Directory", func(string) conformance.Object { return conformance.Object{Kind: conformance.Directory} }, fs.ModeDir},
		{"CharDevice", func(string) conformance.Object { return conformance.Object{Kind: conformance.CharDevice} }, fs.ModeDevice | fs.ModeCharDevice},
		{"DanglingSymlink", func(dir string) conformance.Object {
			return conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "missing")}
		}, fs.ModeSymlink},
		{"SymlinkToFile", func(dir string) conformance.Object {
			return conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "target")}
		}, fs.ModeSymlink},
		{"SymlinkLoop", func(dir string) conformance.Object {
			return conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "x")}
		}, fs.ModeSymlink},
	}
	for _, read := range reads {
		for _, tt := range tests {
			t.Run(read.name+"/"+tt.name, func(t *testing.T) {
				dir := t.TempDir()
				mustWrite(t, filepath.Join(dir, "target"), "a claim, perhaps")
				name := filepath.Join(dir, "x")
				makeObject(t, name, tt.obj(dir))
				before := describe(t, name)
				var err error
				returns(t, read.name+" of a "+tt.name, func() { _, err = read.f(name) })
				var nr *locker.NotRegularError
				if !errors.As(err, &nr) || !errors.Is(err, locker.ErrNotRegular) {
					t.Fatalf("%s of a %s: got %v, want a *locker.NotRegularError", read.name, tt.name, err)
				}
				if nr.Type != tt.want {
					t.Errorf("%s of a %s: NotRegularError.Type = %v, want %v", read.name, tt.name, nr.Type, tt.want)
				}
				var pe *os.PathError
				if !errors.As(err, &pe) || pe.Path != name {
					t.Errorf("%s of a %s: got %#v, want an *os.PathError with Path %q", read.name, tt.name, err, name)
				}
				if after := describe(t, name); after != before {
					t.Errorf("the %s was changed by %s: before %s, after %s", tt.name, read.name, before, after)
				}
			})
		}
	}
}

// reads are the backend's two ways to read a file, which must refuse and
// bound alike.
var reads = []struct {
	name string
	f    func(name string) ([]byte, error)
}{
	{"ReadFile", New().ReadFile},
	{"ReadFileInfo", func(name string) ([]byte, error) {
		data, _, err := New().ReadFileInfo(name)
		return data, err
	}},
}

// TestReadFileInfo: ReadFileInfo returns what ReadFile and Stat return, for
// files of every size around the read's first buffer, whose size the first
// read may match exactly, and for a missing file ENOENT.
func TestReadFileInfo(t *testing.T) {
	dir := t.TempDir()
	fsys := New()
	for _, n := range []int{0, 1, 55, 255, 256, 257, 300, locker.MaxClaimLen} {
		name := filepath.Join(dir, fmt.Sprint("f", n))
		want := strings.Repeat("c", n)
		mustWrite(t, name, want)
		date := time.Date(2030, 1, 2, 3, 4, 5, 6789, time.UTC)
		if err := os.Chtimes(name, date, date); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(name, name+".2"); err != nil {
			t.Fatal(err)
		}
		data, fi, err := fsys.ReadFileInfo(name)
		if err != nil || string(data) != want {
			t.Fatalf("ReadFileInfo of a file of %d bytes: %d bytes, %v; want %d bytes", n, len(data), err, n)
		}
		st, err := fsys.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi != st || fi.Size != int64(n) || fi.Links != 2 || !fi.ModTime.Equal(date) {
			t.Errorf("ReadFileInfo of a file of %d bytes, two links, dated %v: described %+v; Stat says %+v", n, date, fi, st)
		}
	}
	if _, _, err := fsys.ReadFileInfo(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadFileInfo of a missing file: %v, want fs.ErrNotExist", err)
	}
}

// TestOpenRefusalOfALinkReplacedSince: an open with O_NOFOLLOW refused a
// symbolic link, and by the lstat that tells what was there, someone had
// replaced the link with a regular file, or removed it. ReadFile must still
// say that it found a symbolic link (an object no lock makes), not report
// the open's ELOOP as a failure of the filesystem.
func TestOpenRefusalOfALinkReplacedSince(t *testing.T) {
	tests := []struct {
		name  string
		errno error
		t     fs.FileMode
		ok    bool
		want  fs.FileMode // 0: the errno itself
	}{
		{"LinkStillThere", unix.ELOOP, fs.ModeSymlink, true, fs.ModeSymlink},
		{"ReplacedByAFile", unix.ELOOP, 0, true, fs.ModeSymlink},
		{"Removed", unix.ELOOP, 0, false, fs.ModeSymlink},
		{"ReplacedByAFIFO", unix.ELOOP, fs.ModeNamedPipe, true, fs.ModeNamedPipe},
		{"FreeBSDLinkReplacedByAFile", unix.EMLINK, 0, true, fs.ModeSymlink},
		{"NetBSDLinkReplacedByAFile", unix.EFTYPE, 0, true, fs.ModeSymlink},
		{"SocketReplacedByAFile", unix.ENXIO, 0, true, 0},
		{"PermissionDenied", unix.EACCES, 0, true, 0},
	}
	for _, tt := range tests {
		err := openRefusal(tt.errno, tt.t, tt.ok)
		var nr *locker.NotRegularError
		switch {
		case tt.want == 0 && err != tt.errno:
			t.Errorf("%s: got %v, want %v itself", tt.name, err, tt.errno)
		case tt.want != 0 && (!errors.As(err, &nr) || nr.Type != tt.want || !errors.Is(err, tt.errno)):
			t.Errorf("%s: got %v, want a *locker.NotRegularError of type %v wrapping %v", tt.name, err, tt.want, tt.errno)
		}
	}
}

func TestReadFileOfFIFOWithAWriter(t *testing.T) {
	// With a writer holding the FIFO open, even a blocking open would
	// succeed; the read must still be refused, not wait for data.
	name := filepath.Join(t.TempDir(), "fifo")
	makeObject(t, name, conformance.Object{Kind: conformance.FIFO})
	rfd, err := unix.Open(name, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rfd)
	wfd, err := unix.Open(name, unix.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(wfd)
	var rerr error
	returns(t, "ReadFile of a FIFO with a writer", func() { _, rerr = New().ReadFile(name) })
	if !errors.Is(rerr, locker.ErrNotRegular) {
		t.Errorf("ReadFile of a FIFO with a writer: got %v, want ErrNotRegular", rerr)
	}
}

func TestReadFileTooLong(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int64{locker.MaxClaimLen + 1, 3 << 30} {
		name := filepath.Join(dir, "f")
		os.Remove(name)
		makeObject(t, name, conformance.Object{Kind: conformance.SparseFile, Size: size})
		for _, read := range reads {
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			var err error
			returns(t, read.name+" of a long file", func() { _, err = read.f(name) })
			runtime.ReadMemStats(&ms1)
			if !errors.Is(err, locker.ErrTooLong) {
				t.Errorf("%s of a file of %d bytes: got %v, want ErrTooLong", read.name, size, err)
			}
			// A bounded read allocates about a claim name's length. (The
			// figure counts every allocation of the process meanwhile,
			// hence the margin.)
			if got := ms1.TotalAlloc - ms0.TotalAlloc; got > 4*locker.MaxClaimLen {
				t.Errorf("%s of a file of %d bytes allocated %d bytes, want at most about %d", read.name, size, got, locker.MaxClaimLen)
			}
		}
	}
}

func TestReadAtMost(t *testing.T) {
	// A pipe stands for a file that grows while it is read: fstat's size
	// says nothing of how much will come.
	tests := []struct {
		n       int
		wantErr error
	}{
		{0, nil},
		{300, nil},
		{locker.MaxClaimLen, nil},
		{locker.MaxClaimLen + 1, locker.ErrTooLong},
		{locker.MaxClaimLen + 5000, locker.ErrTooLong},
	}
	for _, tt := range tests {
		var p [2]int
		if err := unix.Pipe(p[:]); err != nil {
			t.Fatal(err)
		}
		go func() {
			writeAll(p[1], []byte(strings.Repeat("x", tt.n)))
			unix.Close(p[1])
		}()
		got, err := readAtMost(p[0], make([]byte, 0, 256), locker.MaxClaimLen, -1)
		unix.Close(p[0])
		if !errors.Is(err, tt.wantErr) || (err == nil && len(got) != tt.n) {
			t.Errorf("readAtMost of %d bytes: got %d bytes, %v; want %d bytes, %v", tt.n, len(got), err, tt.n, tt.wantErr)
		}
	}
}

func TestWriteFileDoesNotWriteThroughWhatIsThere(t *testing.T) {
	tests := []struct {
		name string
		make func(t *testing.T, dir, name string)
	}{
		{"DanglingSymlink", func(t *testing.T, dir, name string) {
			makeObject(t, name, conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "victim")})
		}},
		{"SymlinkToFile", func(t *testing.T, dir, name string) {
			mustWrite(t, filepath.Join(dir, "victim"), "precious")
			makeObject(t, name, conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "victim")})
		}},
		{"HardLinkToFile", func(t *testing.T, dir, name string) {
			mustWrite(t, filepath.Join(dir, "victim"), "precious")
			if err := os.Link(filepath.Join(dir, "victim"), name); err != nil {
				t.Fatal(err)
			}
		}},
		{"FIFO", func(t *testing.T, dir, name string) {
			makeObject(t, name, conformance.Object{Kind: conformance.FIFO})
		}},
		{"Directory", func(t *testing.T, dir, name string) {
			makeObject(t, name, conformance.Object{Kind: conformance.Directory})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			name := filepath.Join(dir, "claim")
			tt.make(t, dir, name)
			victim := filepath.Join(dir, "victim")
			before, victimBefore := describe(t, name), ""
			if _, err := os.Lstat(victim); err == nil {
				victimBefore = mustRead(t, victim)
			}
			var err error
			returns(t, "WriteFile onto a "+tt.name, func() { err = New().WriteFile(name, []byte("claim"), 0o644) })
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("WriteFile onto a %s: got %v, want an error matching fs.ErrExist", tt.name, err)
			}
			if after := describe(t, name); after != before {
				t.Errorf("the %s was changed: before %s, after %s", tt.name, before, after)
			}
			switch _, err := os.Lstat(victim); {
			case victimBefore == "" && err == nil:
				t.Errorf("WriteFile onto a %s created %s", tt.name, victim)
			case victimBefore != "":
				if got := mustRead(t, victim); got != victimBefore {
					t.Errorf("WriteFile onto a %s changed %s: %q, was %q", tt.name, victim, got, victimBefore)
				}
			}
		})
	}
}

func TestChtimesDoesNotFollow(t *testing.T) {
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
	mustWrite(t, target, "x")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	before := describe(t, target)
	when := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := New().Chtimes(link, when, when); err != nil {
		t.Fatalf("Chtimes of a symbolic link: %v", err)
	}
	if after := describe(t, target); after != before {
		t.Errorf("Chtimes of a link changed its target: before %s, after %s", before, after)
	}
	fi, err := os.Lstat(link)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(when) {
		t.Errorf("Chtimes of a symbolic link: the link's mtime is %v, want %v", fi.ModTime(), when)
	}
}

func TestLinkDoesNotFollow(t *testing.T) {
	dir := t.TempDir()
	target, link, hard := filepath.Join(dir, "target"), filepath.Join(dir, "link"), filepath.Join(dir, "hard")
	mustWrite(t, target, "x")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := New().Link(link, hard); err != nil {
		t.Fatalf("Link of a symbolic link: %v", err)
	}
	fi, err := os.Lstat(hard)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Link of a symbolic link made %v, want a second name of the link itself", fi.Mode())
	}
	st, err := os.Stat(target)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Sys().(*syscall.Stat_t).Nlink; n != 1 {
		t.Errorf("Link of a symbolic link gave its target %d links, want 1", n)
	}
}
