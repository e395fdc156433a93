package conformance

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"time"
)

// MakeObjectOnDisk makes o at path in a real directory, for Env.MakeObject.
// A FIFO needs a Unix system, a character device (like /dev/null) Linux and
// root, a socket a system with Unix-domain sockets, a symbolic link on
// Windows the privilege to make one; without them it returns an error
// wrapping errors.ErrUnsupported.
func MakeObjectOnDisk(path string, o Object) error {
	if err := makeOnDisk(path, o); err != nil {
		return err
	}
	// Trust, but verify: Wine's CreateSymbolicLinkW, for one, reports
	// success and makes nothing.
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("%w: the system reported a %v made at %s, but: %w", errors.ErrUnsupported, o.Kind, path, err)
	}
	if got, want := fi.Mode().Type(), o.Kind.fileType(); got != want {
		return fmt.Errorf("%w: the system reported a %v made at %s, but made a %v", errors.ErrUnsupported, o.Kind, path, got)
	}
	return nil
}

// fileType returns the type bits of fs.FileMode for k.
func (k ObjectKind) fileType() fs.FileMode {
	switch k {
	case Directory:
		return fs.ModeDir
	case FIFO:
		return fs.ModeNamedPipe
	case Socket:
		return fs.ModeSocket
	case CharDevice:
		return fs.ModeDevice | fs.ModeCharDevice
	case Symlink:
		return fs.ModeSymlink
	}
	return 0
}

func makeOnDisk(path string, o Object) error {
	switch o.Kind {
	case Directory:
		return os.Mkdir(path, 0o755)
	case FIFO:
		return mkfifo(path)
	case Socket:
		return mksocket(path)
	case CharDevice:
		return mkcharDevice(path)
	case Symlink:
		err := os.Symlink(o.Target, path)
		var le *os.LinkError
		if err != nil && errors.As(err, &le) && symlinkUnsupported(le.Err) {
			return fmt.Errorf("%w: %w", errors.ErrUnsupported, err)
		}
		return err
	case SparseFile:
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return err
		}
		err = f.Truncate(o.Size)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return fmt.Errorf("%w: object kind %v", errors.ErrUnsupported, o.Kind)
}

// mksocket makes a Unix-domain socket at path that nothing listens on. A
// socket's address is limited to about a hundred bytes, so for a longer
// path it is made in a short temporary directory and renamed into place.
func mksocket(path string) error {
	at := path
	if len(path) > 100 {
		tmp, err := os.MkdirTemp("", "sock")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		at = filepath.Join(tmp, "s")
	}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: at, Net: "unix"})
	if err != nil {
		return fmt.Errorf("%w: listening on a Unix-domain socket: %w", errors.ErrUnsupported, err)
	}
	l.SetUnlinkOnClose(false)
	if err := l.Close(); err != nil {
		return err
	}
	if at != path {
		return os.Rename(at, path)
	}
	return nil
}

// DescribeOnDisk describes what is at path in a real directory, without
// following a symbolic link, for Env.DescribeObject.
func DescribeOnDisk(path string) (string, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return "", err
	}
	d := fmt.Sprintf("mode %v, size %d, mtime %s", fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano))
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := os.Readlink(path)
		if err != nil {
			return "", err
		}
		d += fmt.Sprintf(", link to %q", target)
	}
	return d, nil
}
