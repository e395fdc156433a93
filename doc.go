// Package nfslock is the one import for file locks that stay correct on NFS
// and other shared filesystems. Do runs a function while holding a lock:
// it takes the lock, keeps it alive while the function runs, cancels the
// function's context if the lock is lost, and releases it however the
// function ends.
//
//	err := nfslock.Do(ctx, "/shared/jobs/nightly.lock", func(ctx context.Context) error {
//		return runJob(ctx) // ctx is cancelled if the lock is lost
//	})
//
// New returns a lock on the backend of the platform the program is built
// for, for everything else a lock does (see the package example), and FS
// returns that backend.
//
// The lock itself, its options, errors and guarantees are those of
// [locker.Lock]; this package only picks the backend. What a lock
// guarantees, and its limits, are written in full in docs/algorithm.md in
// the repository. The workspace's modules are:
//
//   - github.com/nfslock/nfslock/locker: the lock;
//   - github.com/nfslock/nfslock/backend-posix: Linux, macOS and the BSDs;
//   - github.com/nfslock/nfslock/backend-windows: Windows;
//   - github.com/nfslock/nfslock/backend-memfs: in memory, for tests;
//   - github.com/nfslock/nfslock/conformance: the suite every backend runs.
package nfslock
