//go:build unix

package nfslock

import (
	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
)

// FS returns the backend for the platform the program is built for: here
// backend-posix, for Linux, macOS and the BSDs.
func FS() locker.FS { return posix.New() }
