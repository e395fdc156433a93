//go:build windows

package main

import winfs "github.com/nfslock/nfslock/backend-windows"

// platformFS is the filesystem backend of this system.
func platformFS() backend { return winfs.New() }
