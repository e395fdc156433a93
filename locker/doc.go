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
//   - A lock is a lease. A holder that neither refreshes nor releases it
//     before its lifetime runs out may have it broken once the lifetime plus
//     the clock slop (10 s by default) has passed, and another claimant may
//     then take it. Hold locks with KeepAlive, or be sure the work ends
//     within the lifetime. A holder that lost its lock learns it from
//     KeepAlive (Lost, Context), Refresh, IsLocked or Unlock, and must stop
//     relying on it.
//   - Expiry is judged in the file server's clock, which each Lock estimates
//     from the times the server gives the files it writes, so hosts' clocks
//     may be wrong. The estimate is as good as the server's timestamps: the
//     lifetime must be well above their granularity (whole seconds on some
//     network filesystems; lifetimes of 2 s or less are then refused).
//   - Breakers take turns through a second lock, <lockfile>.break, and look
//     at the lock again before they remove it; a holder whose lock has
//     expired refreshes or releases it only through that turn too. What
//     remains: a process that stalls in the middle of one lock operation for
//     longer than the break lock's lifetime plus the slop (the lifetime is
//     the slop, at least 2 s) can act on what it saw before the stall; and
//     flufl.lock processes, which know nothing of the break lock, break
//     locks as flufl.lock does, so two of them that see an expired lock at
//     once may both end up holding it.
//
// Everything a Lock does to decide who holds the lock is a query of the
// filesystem: IsLocked, State and Details have no side effects (unlike
// flufl.lock's is_locked, which refreshes the lock).
//
// # Files beside the lock file
//
// Each claimant writes its claim file next to the lock file, and a claimant
// that dies while it waits (killed by a scheduler or the OOM killer, on a
// node that fails) cannot remove it. So a waiting Lock re-dates its claim
// file every third of its lifetime, as a holder's KeepAlive refreshes its
// lock, and at most once per lifetime, if the backend can list the
// directory (DirReader), removes the claim files of dead claimants: those of
// this lock and of its break lock whose time has passed by more than the
// clock slop, that are no lock's, that hold exactly a claim name, and, if
// they name this host, whose process is not running. A claim file is moved
// aside and checked again before it is removed, and put back if its
// claimant came back to life meanwhile. The limits:
//
//   - Litter goes only when some Lock waits for the lock again: about a
//     lifetime after it has expired by the slop, if the lock is contended.
//   - A claimant paused for longer than its lifetime plus the slop may find
//     its claim file removed; it writes it again when it resumes.
//   - flufl.lock dates a waiting claim only once, so a flufl.lock process on
//     another host that waits for longer than the lifetime plus the slop
//     looks dead, and, its claim file removed, cannot take the lock before
//     its timeout. Where that can happen, use WithSweep(false).
//   - A file moved aside (<claim>.moved) by a process killed in the middle
//     of a break or a sweep is not removed.
//
// Files named .nfsXXXX or .fuse_hiddenXXXX are not the lock's but the NFS
// or FUSE client's: it renames a file that is removed while a process of
// that client still has it open, and removes it when the last descriptor is
// closed (a killed process's descriptors are closed by the kernel). They
// stay only if the client (the machine, or the FUSE daemon) goes away
// first; nfslock never removes them.
package locker
