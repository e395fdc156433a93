module github.com/nfslock/nfslock/conformance

go 1.26.0

require (
	github.com/nfslock/nfslock/backend-memfs v0.0.0
	github.com/nfslock/nfslock/backend-posix v0.0.0
	github.com/nfslock/nfslock/locker v0.0.0
	pgregory.net/rapid v1.3.0
)

replace (
	github.com/nfslock/nfslock/backend-memfs => ../backend-memfs
	github.com/nfslock/nfslock/backend-posix => ../backend-posix
	github.com/nfslock/nfslock/locker => ../locker
)
