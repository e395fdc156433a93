//go:build windows

package winfs_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"

	winfs "github.com/nfslock/nfslock/backend-windows"
)

func TestReadDirNames(t *testing.T) {
	dir := tempDir(t)
	for _, name := range []string{"a.lock", "a.lock^h^1^2", "b"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := winfs.New().ReadDirNames(dir)
	slices.Sort(got)
	if want := []string{"a.lock", "a.lock^h^1^2", "b"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("ReadDirNames(%s) = %q, %v; want %q, nil", dir, got, err, want)
	}
	if names, err := winfs.New().ReadDirNames(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) || names != nil {
		t.Errorf("ReadDirNames of a missing directory = %q, %v; want no names and an error wrapping fs.ErrNotExist", names, err)
	}
	if names, err := winfs.New().ReadDirNames(filepath.Join(dir, "b")); err == nil || names != nil {
		t.Errorf("ReadDirNames of a file = %q, %v; want no names and an error", names, err)
	}
}
