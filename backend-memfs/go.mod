module github.com/nfslock/nfslock/backend-memfs

go 1.24.0

require (
	github.com/nfslock/nfslock/locker v0.0.0
	github.com/spf13/afero v1.15.0
)

require (
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	golang.org/x/text v0.28.0 // indirect
)

replace github.com/nfslock/nfslock/locker => ../locker

// The conformance suite is used by this module's tests only.
require github.com/nfslock/nfslock/conformance v0.0.0

replace github.com/nfslock/nfslock/conformance => ../conformance

replace github.com/nfslock/nfslock/backend-posix => ../backend-posix
