//go:build windows

package nfslock

import (
	winfs "github.com/nfslock/nfslock/backend-windows"
	"github.com/nfslock/nfslock/locker"
)

// FS returns the backend for the platform the program is built for: here
// backend-windows.
func FS() locker.FS { return winfs.New() }
