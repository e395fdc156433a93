module github.com/nfslock/nfslock/locker

go 1.26.0

require github.com/hashicorp/go-multierror v1.1.1

require github.com/hashicorp/errwrap v1.0.0 // indirect

// The in-memory backend is used by this module's tests only: package locker
// itself imports nothing but the standard library and go-multierror.
require (
	github.com/nfslock/nfslock/backend-memfs v0.3.0
	github.com/spf13/afero v1.15.0
)

require (
	golang.org/x/text v0.28.0 // indirect
	pgregory.net/rapid v1.3.0 // indirect
)
