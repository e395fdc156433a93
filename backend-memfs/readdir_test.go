package memfs

import (
	"errors"
	"io/fs"
	"slices"
	"syscall"
	"testing"

	"github.com/nfslock/nfslock/locker"
)

func TestReadDirNames(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, h.WriteFile("/d/b", nil, 0o644))
	check(t, h.Link("/d/f", "/d/a"))
	check(t, fsys.Mkdir("/d/sub", 0o755))
	got, err := h.ReadDirNames("/d")
	if want := []string{"a", "b", "f", "sub"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ReadDirNames(/d) = %q, %v; want %q, nil", got, err, want)
	}
	check(t, h.Remove("/d/b"))
	if got, err := h.ReadDirNames("/d"); err != nil || slices.Contains(got, "b") {
		t.Errorf("ReadDirNames(/d) after removing b = %q, %v; want no b", got, err)
	}
	if got, err := h.ReadDirNames("/d/sub"); err != nil || len(got) != 0 {
		t.Errorf("ReadDirNames of an empty directory = %q, %v; want none", got, err)
	}
}

func TestReadDirNamesErrors(t *testing.T) {
	fsys, h := newTestFS(t)
	check(t, fsys.Mkdir("/d/closed", 0o300))
	tests := []struct {
		dir  string
		want error
	}{
		{"/d/missing", fs.ErrNotExist},
		{"/d/f", syscall.ENOTDIR},
		{"/d/closed", syscall.EACCES},
	}
	for _, tt := range tests {
		names, err := h.ReadDirNames(tt.dir)
		if !errors.Is(err, tt.want) || names != nil {
			t.Errorf("ReadDirNames(%s) = %q, %v; want no names and an error wrapping %v", tt.dir, names, err, tt.want)
		}
	}
}

func TestFaultFSReadDirNames(t *testing.T) {
	_, h := newTestFS(t)
	ffs := NewFaultFS(h)
	boom := errors.New("boom")
	ffs.Fail(OpReadDirNames, 2, boom)
	var hooked []string
	ffs.SetHook(func(op Op, args ...string) { hooked = append(hooked, op.String()+" "+args[0]) })
	for i := 1; i <= 3; i++ {
		names, err := ffs.ReadDirNames("/d")
		if i == 2 {
			if !errors.Is(err, boom) || names != nil {
				t.Errorf("call %d: %q, %v; want no names and boom", i, names, err)
			}
		} else if err != nil || !slices.Equal(names, []string{"f"}) {
			t.Errorf("call %d: %q, %v; want [f], nil", i, names, err)
		}
	}
	if got := ffs.Calls(OpReadDirNames); got != 3 {
		t.Errorf("Calls(OpReadDirNames) = %d, want 3", got)
	}
	if want := []string{"ReadDirNames /d", "ReadDirNames /d", "ReadDirNames /d"}; !slices.Equal(hooked, want) {
		t.Errorf("hook saw %q, want %q", hooked, want)
	}
	if got := OpReadDirNames.String(); got != "ReadDirNames" {
		t.Errorf("OpReadDirNames.String() = %q, want ReadDirNames", got)
	}

	// A FaultFS over a backend that cannot list says so.
	plain := NewFaultFS(struct{ locker.FS }{h})
	if _, err := plain.ReadDirNames("/d"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ReadDirNames over a backend without DirReader: %v, want ErrUnsupported", err)
	}
}
