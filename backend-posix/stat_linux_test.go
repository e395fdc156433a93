//go:build linux

package posix

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestStatFreshAgreesWithStat: statx's fields are mapped as stat's are, for
// a file with two links and a time to the nanosecond, and for a directory.
func TestStatFreshAgreesWithStat(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "f")
	mustWrite(t, f, "twelve bytes")
	if err := os.Link(f, filepath.Join(dir, "g")); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.UTC)
	if err := os.Chtimes(f, at, at); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{f, dir} {
		fresh, err := statFresh(name)
		if err != nil {
			t.Fatalf("statFresh(%s): %v", name, err)
		}
		plain, err := statPlain(name)
		if err != nil {
			t.Fatalf("statPlain(%s): %v", name, err)
		}
		if !fresh.ModTime.Equal(plain.ModTime) || fresh.Links != plain.Links || fresh.Size != plain.Size || fresh.IsDir != plain.IsDir {
			t.Errorf("%s: statx gives %+v, stat %+v", name, fresh, plain)
		}
	}
	if fi, _ := statFresh(f); fi.Links != 2 || fi.Size != 12 || !fi.ModTime.Equal(at) || fi.IsDir {
		t.Errorf("statFresh(%s) = %+v, want 2 links, 12 bytes, modified %v, not a directory", f, fi, at)
	}
}
