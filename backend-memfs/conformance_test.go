package memfs_test

import (
	"testing"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/conformance"
	"github.com/spf13/afero"
)

// memfsBackend describes the in-memory backend to the conformance suite.
// All of an Env's names live on one simulated file server whose virtual
// clock the suite drives.
var memfsBackend = conformance.Backend{
	Name: "memfs",
	New: func(t testing.TB) *conformance.Env {
		fsys := memfs.New()
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
		}
	},
}

func TestConformance(t *testing.T) { conformance.Run(t, memfsBackend) }
