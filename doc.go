// Package nfslock is the root of the nfslock workspace and holds no code.
// File locks that stay correct on NFS and other shared filesystems live in
// these modules:
//
//   - github.com/nfslock/nfslock/locker: the lock (start here);
//   - github.com/nfslock/nfslock/backend-posix: Linux, macOS and the BSDs;
//   - github.com/nfslock/nfslock/backend-windows: Windows;
//   - github.com/nfslock/nfslock/backend-memfs: in memory, for tests;
//   - github.com/nfslock/nfslock/conformance: the suite every backend runs.
package nfslock
