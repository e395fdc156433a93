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
// other on any host that shares the directory, holds it. The holder's writes
// made before Unlock returns are visible to the next holder to the extent the
// filesystem makes writes visible to a process that opens a file after
// another closed it (close-to-open consistency on NFS).
//
// The limits are those of any lease:
//
//   - A lock is a lease. A holder that does not Refresh before its lifetime
//     runs out may have its lock broken once the lifetime plus the clock slop
//     (10 s by default) has passed, and another claimant may then take it. A
//     holder must refresh in time, or be sure its work ends within the
//     lifetime; Refresh and IsLocked tell it when it has lost the lock.
//   - Expiry is written with the holder's clock and judged with the
//     breaker's. Clocks of the hosts must agree to within the clock slop.
//   - The lifetime must be well above the filesystem's timestamp granularity
//     (whole seconds on some network filesystems).
//   - Breaking is done carefully (the lock file is moved aside and checked
//     before it is removed), but flufl.lock processes sharing the lock break
//     as flufl.lock does.
//
// Everything a Lock does to decide who holds the lock is a query of the
// filesystem: IsLocked, State and Details have no side effects (unlike
// flufl.lock's is_locked, which refreshes the lock).
package locker
