// Tools for the project's own checks; not imported by anything.
module github.com/nfslock/nfslock/tools

go 1.26.0

require golang.org/x/mod v0.43.0

require (
	github.com/hanwen/go-fuse/v2 v2.12.1
	golang.org/x/sys v0.28.0 // indirect
)
