//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// times returns name's access and modification times, read with unix.Stat.
func times(t *testing.T, name string) (atime, mtime time.Time) {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(name, &st); err != nil {
		t.Fatal(err)
	}
	return time.Unix(st.Atim.Unix()), time.Unix(st.Mtim.Unix())
}

// requireNanoseconds skips the test unless the filesystem under dir keeps
// nanoseconds when package os sets them: then any loss is this package's.
func requireNanoseconds(t *testing.T, dir string) {
	t.Helper()
	probe := filepath.Join(dir, "probe")
	mustWrite(t, probe, "")
	want := time.Unix(1_700_000_000, 123_456_789)
	if err := os.Chtimes(probe, want, want); err != nil {
		t.Fatal(err)
	}
	if _, got := times(t, probe); !got.Equal(want) {
		t.Skipf("filesystem under %s keeps mtime %v for %v: no nanoseconds", dir, got, want)
	}
}

func TestChtimesNanoseconds(t *testing.T) {
	dir := t.TempDir()
	requireNanoseconds(t, dir)
	name := filepath.Join(dir, "f")
	mustWrite(t, name, "")
	tests := []struct {
		name         string
		atime, mtime time.Time
	}{
		{"nanoseconds", time.Unix(1_700_000_000, 123_456_789), time.Unix(1_700_000_001, 987_654_321)},
		{"one nanosecond", time.Unix(1_700_000_000, 1), time.Unix(1_700_000_000, 999_999_999)},
		{"whole seconds", time.Unix(1_800_000_000, 0), time.Unix(1_800_000_000, 0)},
		{"lifetime from now", time.Now().Add(15 * time.Second), time.Now().Add(15 * time.Second)},
	}
	fsys := New()
	for _, tt := range tests {
		if err := fsys.Chtimes(name, tt.atime, tt.mtime); err != nil {
			t.Fatalf("%s: Chtimes: %v", tt.name, err)
		}
		atime, mtime := times(t, name)
		if !atime.Equal(tt.atime) || !mtime.Equal(tt.mtime) {
			t.Errorf("%s: after Chtimes(atime %v, mtime %v) the file has atime %v, mtime %v",
				tt.name, tt.atime, tt.mtime, atime, mtime)
		}
		fi, err := fsys.Stat(name)
		if err != nil {
			t.Fatalf("Stat: %v", err)
		}
		if !fi.ModTime.Equal(tt.mtime) {
			t.Errorf("%s: Stat().ModTime = %v, want %v", tt.name, fi.ModTime, tt.mtime)
		}
	}
}

func TestChtimesZeroLeavesTimeUnchanged(t *testing.T) {
	name := filepath.Join(t.TempDir(), "f")
	mustWrite(t, name, "")
	a0, m0 := time.Unix(1_700_000_000, 0), time.Unix(1_700_000_100, 0)
	a1, m1 := time.Unix(1_800_000_000, 0), time.Unix(1_800_000_100, 0)
	fsys := New()
	if err := fsys.Chtimes(name, a0, m0); err != nil {
		t.Fatalf("Chtimes: %v", err)
	}

	if err := fsys.Chtimes(name, time.Time{}, m1); err != nil {
		t.Fatalf("Chtimes with zero atime: %v", err)
	}
	if atime, mtime := times(t, name); !atime.Equal(a0) || !mtime.Equal(m1) {
		t.Errorf("after Chtimes(zero, %v): atime %v, mtime %v; want %v, %v", m1, atime, mtime, a0, m1)
	}

	if err := fsys.Chtimes(name, a1, time.Time{}); err != nil {
		t.Fatalf("Chtimes with zero mtime: %v", err)
	}
	if atime, mtime := times(t, name); !atime.Equal(a1) || !mtime.Equal(m1) {
		t.Errorf("after Chtimes(%v, zero): atime %v, mtime %v; want %v, %v", a1, atime, mtime, a1, m1)
	}
}
