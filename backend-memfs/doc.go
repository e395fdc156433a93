// Package memfs is an in-memory backend for nfslock, for unit tests: a
// filesystem with real hard links, a virtual clock, simulated hosts and
// processes, and fault injection, so that tests of locks with 15-second
// lifetimes, crashed holders, skewed clocks and lost NFS replies run in
// microseconds and always the same way.
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
//   - Clock, a virtual clock implementing locker.Clock. In manual mode Sleep
//     blocks until the test calls Advance; in auto-advance mode Sleep moves
//     the clock itself and returns at once. BlockUntilSleepers lets a test
//     wait until its goroutines are all asleep before it advances the clock.
//   - Host, a machine that mounts the FS: it implements locker.FS,
//     locker.ProcessChecker, locker.Watcher and locker.DirReader, spawns
//     Processes with pids unique on the host, and has a clock that can be
//     set off from the server's. Its watches see every change to a directory's entries,
//     whichever host or afero call makes it, so a lock waiting in virtual
//     time wakes when the lock is released, without the clock moving.
//   - FaultFS, a wrapper around any locker.FS that makes chosen calls fail,
//     before they are performed (Fail) or after (LoseReply). It passes on
//     the watches and directory listings of the filesystem it wraps, if
//     that has them.
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
//	b, err := locker.New("/locks/app.lock", memfs.NewFaultFS(beta), q.Options()...)
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
