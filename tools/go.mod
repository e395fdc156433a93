// Tools for the project's own checks; not imported by anything.
module github.com/nfslock/nfslock/tools

go 1.24.0
