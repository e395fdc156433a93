// The repository root is a module too, with no packages, so that go doc and
// go list resolve the workspace's import paths from here.
module github.com/nfslock/nfslock

go 1.26.0
