// Package memfs is an in-memory backend for nfslock, for unit tests: a
// filesystem with real hard links, a virtual clock, and simulated hosts and
// processes, so that tests of locks with 15-second lifetimes, crashed
// holders and skewed clocks (and, with package faultfs, lost NFS replies)
// run in microseconds and always the same way.
//
// The pieces are:
//
//   - FS, the file server: an in-memory filesystem in which names map to
//     inodes, so every name of a file shares its contents, times and link
//     count, and link(2) fails when the new name exists. FS implements
//     afero.Fs, so a test can prepare directories and inspect lock files with
//     afero's helpers; os.FileInfo.Sys returns a *Stat with the link count.
//     It also has symbolic links (afero.Symlinker) and FIFOs, sockets and
//     devices (Mknod), which a test puts at a lock's names to check that
//     the lock refuses them.
//   - The server's clock (FS.Clock), a virtual clock of package
//     github.com/nfslock/nfslock/locker/vclock: in manual mode Sleep blocks
//     until the test calls Advance; in auto-advance mode Sleep moves the
//     clock itself and returns at once.
//   - Host, a machine that mounts the FS: it implements locker.FS,
//     locker.ProcessChecker, locker.Watcher and locker.DirReader, spawns
//     Processes with pids unique on the host, and has a clock that can be
//     set off from the server's. Its watches see every change to a directory's entries,
//     whichever host or afero call makes it, so a lock waiting in virtual
//     time wakes when the lock is released, without the clock moving.
//
// Faults are injected by package github.com/nfslock/nfslock/locker/faultfs,
// which wraps a Host as it wraps any other backend. This package's Clock,
// FaultFS and Op are aliases of vclock's and faultfs's types, NewClock and
// NewFaultFS call their constructors, and the Op constants are faultfs's.
//
// A test of two hosts contending for a lock looks like this:
//
//	fsys := memfs.New()
//	fsys.MkdirAll("/locks", 0o755)
//	alpha, beta := fsys.Host("alpha"), fsys.Host("beta")
//	beta.SetClockOffset(-3 * time.Second) // beta's clock is slow
//	p, q := alpha.Spawn(), beta.Spawn()
//
//	a, err := locker.New("/locks/app.lock", alpha, p.Options()...)
//	...
//	b, err := locker.New("/locks/app.lock", faultfs.New(beta), q.Options()...)
//	...
//	p.Kill()                           // alpha's process crashes
//	fsys.Clock().Advance(time.Minute)  // and its lock expires
//
// Names are cleaned with filepath.Clean and filepath.ToSlash, and relative
// names are resolved from the root, so the same test works with Unix-style
// and Windows-style absolute paths; see FS.
//
// How to test code of your own that takes locks with it is in
// docs/conformance.md in the repository ("Testing your own code").
package memfs
