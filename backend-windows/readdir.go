//go:build windows

package winfs

import (
	"os"

	"github.com/nfslock/nfslock/locker"
)

var _ locker.DirReader = (*FS)(nil)

// ReadDirNames returns the names of the entries of the directory dir,
// without "." and "..", like os.File.Readdirnames. It implements
// locker.DirReader, so that a waiting lock can find and remove the claim
// files of dead claimants. A lock lists its directory at most once per
// lifetime, so package os, with its own handling of directory handles, is
// good enough here.
func (*FS) ReadDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	return names, nil
}
