//go:build linux

package main

import (
	"syscall"
	"testing"

	"github.com/hanwen/go-fuse/v2/fuse"
)

func TestNotRegular(t *testing.T) {
	tests := []struct {
		typ  uint32
		excl bool
		want syscall.Errno
	}{
		{syscall.S_IFLNK, true, syscall.EEXIST},
		{syscall.S_IFIFO, true, syscall.EEXIST},
		{syscall.S_IFDIR, false, syscall.EISDIR},
		{syscall.S_IFLNK, false, syscall.ELOOP},
		{syscall.S_IFIFO, false, syscall.ENXIO},
	}
	for _, tt := range tests {
		if got := notRegular(tt.typ, tt.excl); got != fuse.Status(tt.want) {
			t.Errorf("a create (O_EXCL %v) answered with an object of type %#o: %v, want %v", tt.excl, tt.typ, syscall.Errno(got), tt.want)
		}
	}
}
