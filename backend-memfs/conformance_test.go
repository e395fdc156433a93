package memfs_test

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/conformance"
	"github.com/spf13/afero"
)

// memfsBackend describes the in-memory backend to the conformance suite.
// All of an Env's names live on one simulated file server whose virtual
// clock the suite drives.
var memfsBackend = newMemfsBackend("memfs")

// newMemfsBackend describes memfs made with opts.
func newMemfsBackend(name string, opts ...memfs.Option) conformance.Backend {
	return conformance.Backend{
		Name: name,
		// A check costs well under a millisecond here: look hard for races.
		Checks: 2000,
		New: func(t testing.TB) *conformance.Env {
			fsys := memfs.New(opts...)
			const dir = "/locks"
			if err := fsys.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			local := fsys.Host(conformance.LocalHost)
			return &conformance.Env{
				Dir: dir,
				FS:  local,
				List: func() ([]string, error) {
					infos, err := afero.ReadDir(fsys, dir)
					names := make([]string, len(infos))
					for i, fi := range infos {
						names[i] = fi.Name()
					}
					return names, err
				},
				Clock: fsys.Clock(),
				Spawn: func(testing.TB) (int, func()) {
					p := local.Spawn()
					return p.PID(), p.Kill
				},
				MakeObject:     func(path string, o conformance.Object) error { return makeObject(fsys, path, o) },
				DescribeObject: func(path string) (string, error) { return describeObject(fsys, path) },
			}
		},
	}
}

// makeObject makes o for the conformance suite. memfs keeps every byte of
// a file in memory, so it has no sparse files.
func makeObject(fsys *memfs.FS, path string, o conformance.Object) error {
	switch o.Kind {
	case conformance.Directory:
		return fsys.Mkdir(path, 0o755)
	case conformance.FIFO:
		return fsys.Mknod(path, fs.ModeNamedPipe|0o644)
	case conformance.Socket:
		return fsys.Mknod(path, fs.ModeSocket|0o755)
	case conformance.CharDevice:
		return fsys.Mknod(path, fs.ModeDevice|fs.ModeCharDevice|0o666)
	case conformance.Symlink:
		return fsys.SymlinkIfPossible(o.Target, path)
	}
	return fmt.Errorf("%w: memfs has no %v", errors.ErrUnsupported, o.Kind)
}

// describeObject describes what is at path for the conformance suite,
// without following a symbolic link.
func describeObject(fsys *memfs.FS, path string) (string, error) {
	fi, _, err := fsys.LstatIfPossible(path)
	if err != nil {
		return "", err
	}
	st := fi.Sys().(*memfs.Stat)
	d := fmt.Sprintf("inode %d, mode %v, size %d, mtime %s, %d link(s)", st.Ino, fi.Mode(), fi.Size(), fi.ModTime().Format(time.RFC3339Nano), st.Nlink)
	if fi.Mode()&fs.ModeSymlink != 0 {
		target, err := fsys.ReadlinkIfPossible(path)
		if err != nil {
			return "", err
		}
		d += fmt.Sprintf(", link to %q", target)
	}
	return d, nil
}

func TestConformance(t *testing.T) { conformance.Run(t, memfsBackend) }

// TestConformanceLikeSSHFS runs the suite on memfs as a client of sshfs
// (or of some NFS servers) sees a filesystem: one link for every file, and
// modification times in whole seconds. The lock then decides ownership by
// the claim name alone, and the suite looks for the races of that case as
// deeply as on memfs, which CI's sshfs step cannot afford.
func TestConformanceLikeSSHFS(t *testing.T) {
	b := newMemfsBackend("memfs like sshfs", memfs.WithoutLinkCounts(), memfs.WithTimeGranularity(time.Second))
	b.NoLinkCounts = true
	b.TimeGranularity = time.Second
	conformance.Run(t, b)
}
