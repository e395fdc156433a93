//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"os"
	"testing"
)

// The tests check this package against package os, which serves as an
// independent account of what is on disk.

// mustWrite creates name with data using package os.
func mustWrite(t *testing.T, name string, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// mustRead returns the contents of name using package os.
func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
