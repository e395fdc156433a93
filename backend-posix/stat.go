//go:build linux || darwin || freebsd || netbsd || openbsd

package posix

import (
	"time"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/sys/unix"
)

// Stat describes name, like os.Lstat: a symbolic link at name is described
// itself, never followed, so that a link someone put at one of the lock's
// names cannot make the lock look at, or wait on, anything outside the
// directory. Links is st_nlink as the filesystem reports it, which is 1 for
// every file on filesystems without link counts, such as sshfs. On Linux it
// asks for the attributes as the file server has them, not as the client's
// cache last saw them (see statFresh).
func (*FS) Stat(name string) (locker.FileInfo, error) {
	return statFresh(name)
}

// statPlain is Stat by lstat(2), which a network filesystem's client may
// answer from its attribute cache.
func statPlain(name string) (locker.FileInfo, error) {
	var st unix.Stat_t
	if err := ignoringEINTR(func() error { return unix.Lstat(name, &st) }); err != nil {
		return locker.FileInfo{}, replacedError("stat", name, err)
	}
	return fileInfo(&st), nil
}

// fileInfo converts st. The types of st's fields vary between systems
// (Nlink is 16, 32 or 64 bits wide, Mode 16 or 32), hence the conversions.
func fileInfo(st *unix.Stat_t) locker.FileInfo {
	return locker.FileInfo{
		ModTime: time.Unix(st.Mtim.Unix()),
		Links:   uint64(st.Nlink),
		Size:    st.Size,
		IsDir:   st.Mode&unix.S_IFMT == unix.S_IFDIR,
	}
}
