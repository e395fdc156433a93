module github.com/nfslock/nfslock/conformance

go 1.26.0

require (
	github.com/nfslock/nfslock/backend-posix v0.3.0
	github.com/nfslock/nfslock/locker v0.3.0
	golang.org/x/sys v0.50.0
	pgregory.net/rapid v1.3.0
)

require (
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
)
