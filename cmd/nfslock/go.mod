module github.com/nfslock/nfslock/cmd/nfslock

go 1.26.0

require (
	github.com/nfslock/nfslock/backend-posix v0.3.0
	github.com/nfslock/nfslock/backend-windows v0.3.0
	github.com/nfslock/nfslock/conformance v0.3.0
	github.com/nfslock/nfslock/locker v0.3.0
	github.com/spf13/pflag v1.1.0
	golang.org/x/sys v0.50.0
	golang.org/x/term v0.48.0
)

require (
	github.com/hashicorp/errwrap v1.0.0 // indirect
	github.com/hashicorp/go-multierror v1.1.1 // indirect
	pgregory.net/rapid v1.3.0 // indirect
)
