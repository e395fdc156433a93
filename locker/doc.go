// Package locker implements file locks that stay correct on NFS and other
// shared network filesystems, where flock(2), fcntl(2) and O_EXCL cannot be
// trusted. It is a Go implementation of the algorithm of Python's flufl.lock,
// wire-compatible with it: Go and Python processes can share one lock file.
//
// The algorithm uses only operations that are atomic on network filesystems.
// Each Lock writes its own claim file next to the lock file, named and filled
// with "<lockfile>|<host>|<pid>|<random>", dates it now plus the lock's
// lifetime, and hard-links it to the lock file. The link succeeds for exactly
// one claimant. The lock file's modification time is the lock's expiry; a
// lock that has been expired for longer than the clock slop may be broken by
// anyone who wants it, so a crashed holder cannot wedge the others forever.
//
// The file operations go through an FS, so the same algorithm runs on a real
// directory (package github.com/nfslock/nfslock/backend-posix) or in memory
// with a virtual clock for tests (github.com/nfslock/nfslock/backend-memfs).
//
// # Guarantees
//
// While a Lock holds an unexpired lock, no other Lock, in this process or any
// other on any host that shares the directory, holds it. A lock is a lease:
// a holder that neither refreshes nor releases it within its lifetime may
// have it broken once the lifetime plus the clock slop has passed, and
// learns it from KeepAlive, Refresh, IsLocked or Unlock. Expiry is judged in
// the file server's clock. Breakers of an expired lock, and waiters that
// remove the claim files of dead claimants, take turns and check what they
// remove; flufl.lock processes sharing the lock break it as flufl.lock does.
// IsLocked, State and Details have no side effects.
//
// The full statement of these guarantees and of their limits (clocks,
// lifetimes, timestamp granularity, breaking, sweeping, fencing) is
// docs/algorithm.md in the repository, the one place they are written in
// full.
package locker
