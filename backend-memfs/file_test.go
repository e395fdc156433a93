package memfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/spf13/afero"
)

func TestAferoReading(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, h.WriteFile("/d/claim", []byte("claim"), 0o644))
	check(t, h.Link("/d/claim", "/d/app.lock"))

	data, err := afero.ReadFile(fsys, "/d/app.lock")
	if err != nil || string(data) != "claim" {
		t.Errorf("afero.ReadFile(/d/app.lock) = %q, %v; want %q", data, err, "claim")
	}

	infos, err := afero.ReadDir(fsys, "/d")
	check(t, err)
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
		if got := fi.Sys().(*Stat).Nlink; fi.Name() != "f" && got != 2 {
			t.Errorf("afero.ReadDir: %s has %d links, want 2", fi.Name(), got)
		}
	}
	if want := []string{"app.lock", "claim", "f"}; !slices.Equal(names, want) {
		t.Errorf("afero.ReadDir(/d) names = %v, want %v", names, want)
	}

	f, err := fsys.Open("/d/app.lock")
	check(t, err)
	defer f.Close()
	fi, err := f.Stat()
	check(t, err)
	st, ok := fi.Sys().(*Stat)
	if !ok {
		t.Fatalf("File.Stat().Sys() is %T, want *memfs.Stat", fi.Sys())
	}
	if st.Nlink != 2 || fi.Size() != 5 || fi.Name() != "app.lock" {
		t.Errorf("File.Stat: Nlink %d, Size %d, Name %q; want 2, 5, app.lock", st.Nlink, fi.Size(), fi.Name())
	}

	if ok, err := afero.Exists(fsys, "/d/claim"); !ok || err != nil {
		t.Errorf("afero.Exists(/d/claim) = %v, %v; want true, nil", ok, err)
	}
	var walked []string
	check(t, afero.Walk(fsys, "/", func(path string, _ fs.FileInfo, err error) error {
		walked = append(walked, path)
		return err
	}))
	if len(walked) != 5 { // /, /d and its three entries
		t.Errorf("afero.Walk visited %v, want 5 names", walked)
	}
}

// TestIOFS checks files and directories with testing/fstest, through
// afero's io/fs adapter.
func TestIOFS(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, fsys.MkdirAll("/d/e", 0o755))
	check(t, h.WriteFile("/d/e/x", []byte("hello, world"), 0o644))
	check(t, h.Link("/d/e/x", "/y"))
	if err := fstest.TestFS(afero.NewIOFS(fsys), "d/f", "d/e/x", "y"); err != nil {
		t.Error(err)
	}
}

func TestFileReadWrite(t *testing.T) {
	fsys, _ := newTestFS(t)
	f, err := fsys.Create("/d/g")
	check(t, err)
	if _, err := f.WriteString("hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("J"), 0); err != nil {
		t.Fatal(err)
	}
	if pos, err := f.Seek(1, io.SeekStart); pos != 1 || err != nil {
		t.Fatalf("Seek(1, SeekStart) = %d, %v; want 1, nil", pos, err)
	}
	buf := make([]byte, 10)
	n, err := f.Read(buf)
	if string(buf[:n]) != "ello" || err != nil {
		t.Errorf("Read after Seek = %q, %v; want %q, nil", buf[:n], err, "ello")
	}
	if n, err := f.Read(buf); n != 0 || err != io.EOF {
		t.Errorf("Read at end = %d, %v; want 0, io.EOF", n, err)
	}
	n, err = f.ReadAt(buf[:3], 3)
	if string(buf[:n]) != "lo" || err != io.EOF {
		t.Errorf("ReadAt(3) past the end = %q, %v; want %q, io.EOF", buf[:n], err, "lo")
	}
	if pos, err := f.Seek(-2, io.SeekEnd); pos != 3 || err != nil {
		t.Errorf("Seek(-2, SeekEnd) = %d, %v; want 3, nil", pos, err)
	}
	if _, err := f.Seek(-10, io.SeekCurrent); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Seek before the start: err = %v, want EINVAL", err)
	}
	check(t, f.Sync())

	// Truncation must not let old bytes reappear when the file grows.
	check(t, f.Truncate(0))
	if _, err := f.WriteAt([]byte("x"), 3); err != nil {
		t.Fatal(err)
	}
	check(t, f.Truncate(6))
	data, err := fsys.ReadFile("/d/g")
	check(t, err)
	if want := "\x00\x00\x00x\x00\x00"; string(data) != want {
		t.Errorf("after Truncate(0), WriteAt(x, 3), Truncate(6): contents %q, want %q", data, want)
	}

	check(t, f.Close())
	if err := f.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second Close: err = %v, want fs.ErrClosed", err)
	}
	if _, err := f.Read(buf); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("Read after Close: err = %v, want fs.ErrClosed", err)
	}
	if f.Name() != "/d/g" {
		t.Errorf("Name() = %q, want /d/g", f.Name())
	}
}

func TestFileAppend(t *testing.T) {
	fsys, _ := newTestFS(t)
	f, err := fsys.OpenFile("/d/f", os.O_WRONLY|os.O_APPEND, 0)
	check(t, err)
	defer f.Close()
	if _, err := f.Write([]byte("gh")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("x"), 0); err == nil {
		t.Error("WriteAt on an O_APPEND file succeeded, want an error")
	}
	if _, err := f.Read(make([]byte, 1)); errno(err) != syscall.EBADF {
		t.Errorf("Read on a write-only file: err = %v, want EBADF", err)
	}
	if data, _ := fsys.ReadFile("/d/f"); string(data) != "fgh" {
		t.Errorf("after appending, contents %q, want %q", data, "fgh")
	}
}

func TestOpenFileErrors(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		flag      int
		wantErrno syscall.Errno
	}{
		{"missing without O_CREATE", "/d/missing", os.O_RDONLY, syscall.ENOENT},
		{"existing with O_EXCL", "/d/f", os.O_RDWR | os.O_CREATE | os.O_EXCL, syscall.EEXIST},
		{"directory for writing", "/d", os.O_WRONLY, syscall.EISDIR},
		{"through a file", "/d/f/x", os.O_RDONLY, syscall.ENOTDIR},
	}
	for _, tt := range tests {
		fsys, _ := newTestFS(t)
		_, err := fsys.OpenFile(tt.path, tt.flag, 0o644)
		var pe *os.PathError
		if !errors.As(err, &pe) || pe.Op != "open" || pe.Path != tt.path || errno(err) != tt.wantErrno {
			t.Errorf("%s: OpenFile(%s) = %v, want *os.PathError{open, %s, %v}", tt.name, tt.path, err, tt.path, tt.wantErrno)
		}
	}
}

func TestOpenFileSurvivesRemove(t *testing.T) {
	fsys, h := newTestFS(t)
	f, err := fsys.Open("/d/f")
	check(t, err)
	defer f.Close()
	check(t, h.Remove("/d/f"))
	data, err := io.ReadAll(f)
	if string(data) != "f" || err != nil {
		t.Errorf("reading an open file after its removal = %q, %v; want %q, nil", data, err, "f")
	}
	fi, err := f.Stat()
	check(t, err)
	if got := fi.Sys().(*Stat).Nlink; got != 0 {
		t.Errorf("removed open file has %d links, want 0", got)
	}
}

func TestReaddir(t *testing.T) {
	fsys, h := newTestFS(t)
	for _, name := range []string{"/d/c", "/d/a", "/d/b"} {
		check(t, h.WriteFile(name, nil, 0o644))
	}
	d, err := fsys.Open("/d")
	check(t, err)
	defer d.Close()
	names, err := d.Readdirnames(2)
	if !slices.Equal(names, []string{"a", "b"}) || err != nil {
		t.Errorf("Readdirnames(2) = %v, %v; want [a b], nil", names, err)
	}
	check(t, h.Remove("/d/c"))
	infos, err := d.Readdir(2)
	if len(infos) != 1 || infos[0].Name() != "f" || err != nil {
		t.Errorf("Readdir(2) after removing c = %v, %v; want [f], nil", infos, err)
	}
	if infos, err := d.Readdir(1); len(infos) != 0 || err != io.EOF {
		t.Errorf("Readdir(1) at the end = %v, %v; want [], io.EOF", infos, err)
	}
	if infos, err := d.Readdir(-1); len(infos) != 0 || err != nil {
		t.Errorf("Readdir(-1) at the end = %v, %v; want [], nil", infos, err)
	}
	_, err = d.Seek(0, io.SeekStart)
	check(t, err)
	names, err = d.Readdirnames(-1)
	if !slices.Equal(names, []string{"a", "b", "f"}) || err != nil {
		t.Errorf("Readdirnames(-1) after rewinding = %v, %v; want [a b f], nil", names, err)
	}
	if _, err := d.Read(make([]byte, 1)); errno(err) != syscall.EISDIR {
		t.Errorf("Read on a directory: err = %v, want EISDIR", err)
	}

	f, err := fsys.Open("/d/f")
	check(t, err)
	defer f.Close()
	if _, err := f.Readdir(-1); errno(err) != syscall.ENOTDIR {
		t.Errorf("Readdir on a file: err = %v, want ENOTDIR", err)
	}
}

func TestChown(t *testing.T) {
	fsys, _ := newTestFS(t)
	check(t, fsys.Chown("/d/f", 1000, 100))
	check(t, fsys.Chown("/d/f", -1, 200))
	if st := stat(t, fsys, "/d/f"); st.Uid != 1000 || st.Gid != 200 {
		t.Errorf("after Chown(1000, 100) and Chown(-1, 200): uid %d gid %d, want 1000 200", st.Uid, st.Gid)
	}
	if err := fsys.Chown("/d/missing", 0, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Chown of a missing file: err = %v, want fs.ErrNotExist", err)
	}
}
