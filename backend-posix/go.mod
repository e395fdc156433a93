module github.com/nfslock/nfslock/backend-posix

go 1.26.0

require (
	github.com/nfslock/nfslock/locker v0.3.0
	golang.org/x/sys v0.50.0
)

require (
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	pgregory.net/rapid v1.3.0 // indirect
)

// The conformance suite is used by this module's tests only.
require github.com/nfslock/nfslock/conformance v0.3.0
