//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkRawCycle measures the floor of one uncontended lock and unlock:
// the bare sequence of backend calls, with none of the locker's checks. It is
// the baseline against which to judge the full locker.
func BenchmarkRawCycle(b *testing.B) {
	dir := b.TempDir()
	lock := filepath.Join(dir, "lock")
	claim := lock + "|host|1|2"
	data := []byte(claim)
	expiry := time.Now().Add(15 * time.Second)
	fsys := New()
	for b.Loop() {
		if err := fsys.WriteFile(claim, data, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := fsys.Chtimes(claim, expiry, expiry); err != nil {
			b.Fatal(err)
		}
		if err := fsys.Link(claim, lock); err != nil {
			b.Fatal(err)
		}
		if err := fsys.Remove(lock); err != nil {
			b.Fatal(err)
		}
		if err := fsys.Remove(claim); err != nil {
			b.Fatal(err)
		}
	}
}
