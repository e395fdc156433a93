package memfs

import (
	"errors"
	"io/fs"
	"slices"
	"syscall"
	"testing"
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
