//go:build linux || darwin || freebsd || netbsd || openbsd

package main

import posix "github.com/nfslock/nfslock/backend-posix"

// platformFS is the filesystem backend of this system.
func platformFS() backend { return posix.New() }
