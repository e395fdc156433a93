module github.com/nfslock/nfslock/backend-windows

go 1.26.0

require (
	github.com/nfslock/nfslock/locker v0.0.0
	golang.org/x/sys v0.50.0
)

replace github.com/nfslock/nfslock/locker => ../locker

// The conformance suite is used by this module's tests only.
require github.com/nfslock/nfslock/conformance v0.0.0

replace github.com/nfslock/nfslock/conformance => ../conformance

replace github.com/nfslock/nfslock/backend-memfs => ../backend-memfs

replace github.com/nfslock/nfslock/backend-posix => ../backend-posix
