//go:build linux || darwin || freebsd || netbsd || openbsd

package posix_test

import (
	"testing"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/locker"
)

// posixBackend describes this backend to the conformance suite: a fresh
// t.TempDir() per Env, real processes for pid liveness.
var posixBackend = conformance.OnDisk("posix", func() locker.FS { return posix.New() },
	func(t testing.TB) string { return t.TempDir() })

func TestConformance(t *testing.T) { conformance.Run(t, posixBackend) }
