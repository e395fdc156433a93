//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestStat(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	mustWrite(t, file, "twelve bytes")
	mtime := time.Unix(1_700_000_000, 123_456_789)
	if err := os.Chtimes(file, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	symlink := filepath.Join(dir, "symlink")
	if err := os.Symlink(file, symlink); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	toDir := filepath.Join(dir, "todir")
	if err := os.Symlink(sub, toDir); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		wantSize  int64
		wantDir   bool
		wantLinks uint64 // 0: do not check
	}{
		{file, 12, false, 1},
		// Stat describes a symbolic link itself, never what it leads to
		// (nothing, for a loop).
		{symlink, int64(len(file)), false, 1},
		{loop, int64(len(loop)), false, 1},
		{toDir, int64(len(sub)), false, 1},
		{sub, -1, true, 0}, // a directory's size and links vary by filesystem
	}
	fsys := New()
	for _, tt := range tests {
		got, err := fsys.Stat(tt.name)
		if err != nil {
			t.Fatalf("Stat(%s): %v", tt.name, err)
		}
		want, err := os.Lstat(tt.name)
		if err != nil {
			t.Fatal(err)
		}
		if got.IsDir != tt.wantDir {
			t.Errorf("Stat(%s).IsDir = %v, want %v", tt.name, got.IsDir, tt.wantDir)
		}
		if tt.wantSize >= 0 && got.Size != tt.wantSize {
			t.Errorf("Stat(%s).Size = %d, want %d", tt.name, got.Size, tt.wantSize)
		}
		if got.Size != want.Size() {
			t.Errorf("Stat(%s).Size = %d, os.Lstat says %d", tt.name, got.Size, want.Size())
		}
		if tt.wantLinks != 0 && got.Links != tt.wantLinks {
			t.Errorf("Stat(%s).Links = %d, want %d", tt.name, got.Links, tt.wantLinks)
		}
		if !got.ModTime.Equal(want.ModTime()) {
			t.Errorf("Stat(%s).ModTime = %v, os.Lstat says %v", tt.name, got.ModTime, want.ModTime())
		}
	}
}
