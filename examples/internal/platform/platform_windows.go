//go:build windows

// Package platform picks the nfslock backend for the system the examples
// run on.
package platform

import (
	winfs "github.com/nfslock/nfslock/backend-windows"
	"github.com/nfslock/nfslock/locker"
)

// FS returns the backend for this system: backend-windows.
func FS() locker.FS { return winfs.New() }
