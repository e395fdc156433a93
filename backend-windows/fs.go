//go:build windows

package winfs

import "github.com/nfslock/nfslock/locker"

// FS is the locker.FS of Windows. It has no state; the zero value is ready
// to use and may be shared by any number of goroutines and locks.
type FS struct{}

// New returns an FS, so that a backend reads the same way at every call
// site: locker.New(path, winfs.New()).
func New() *FS { return &FS{} }

var (
	_ locker.FS             = (*FS)(nil)
	_ locker.ProcessChecker = (*FS)(nil)
)
