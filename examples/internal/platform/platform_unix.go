//go:build unix

// Package platform picks the nfslock backend for the system the examples
// run on.
package platform

import (
	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
)

// FS returns the backend for this system: backend-posix.
func FS() locker.FS { return posix.New() }
