// Package posix is the nfslock backend for Linux, macOS and the BSDs
// (FreeBSD, NetBSD, OpenBSD): an implementation of locker.FS,
// locker.ProcessChecker and locker.DirReader (and, on Linux,
// locker.Watcher) on the local operating system's system calls, and so on
// whatever filesystem is mounted there, NFS, CephFS, Lustre, SMB and sshfs
// included. On other systems the package is empty.
//
// A lock on a real directory needs nothing more than locker.New(path,
// posix.New()) (see the example). What the network filesystems measured so
// far do that the locks rely on, and how to mount them, is
// docs/network-filesystems.md in the repository.
//
// # System calls
//
// The methods call golang.org/x/sys/unix directly rather than package os,
// whose files register with the runtime's poller, adding system calls (fcntl
// and epoll_ctl on Linux) to every open. An uncontended lock and unlock is then the bare
// minimum of seven: open, write and close of the claim file, utimensat,
// link, and two unlinks. An interrupted call (EINTR) is made again, except
// close, which may have released the descriptor already.
//
// # Errors
//
// Every error from a file operation is an *os.PathError, or an
// *os.LinkError for Link and Rename, with the operation, the names and the
// unix.Errno filled in, so errors.Is(err, fs.ErrExist), fs.ErrNotExist and
// fs.ErrPermission work as they do with package os, as does errors.Is with a
// particular unix.Errno. ESTALE, NFS's "stale file handle", is further
// wrapped with locker.Transient (errors.As still finds the *os.PathError),
// so that errors.Is(err, locker.ErrTransient) is true and the locker tries
// again.
//
// # Link and EPERM
//
// A link onto a name that exists fails with EEXIST. Over sshfs it fails
// with EPERM instead: SFTP version 3, which OpenSSH speaks, has no status
// for "file exists", and sshfs turns the server's generic failure into
// EPERM. A locker that took this for a permission error would give up a lock
// it had merely lost the race for. So when Link fails with EPERM and the new
// name exists, the error matches fs.ErrExist (and not fs.ErrPermission), and
// its text says that EPERM was treated as "file exists". EPERM onto a name
// that does not exist is a real refusal and is reported as it is.
//
// # Watching the lock's directory
//
// On Linux, FS has a Watch method that watches a directory with inotify, and
// so implements locker.Watcher: a Lock waiting for a busy lock wakes as soon
// as the holder removes the lock file, instead of at its next poll. inotify
// reports only what this machine's kernel does, so on a network filesystem a
// release by another client is still found by polling. A Lock that uses the
// watch creates an inotify instance for each call to Lock and closes it
// before Lock returns; closing one makes the kernel wait for a grace period,
// which costs about a tenth of a millisecond on an uncontended Lock. Turn
// the watch off with locker.WithWatcher(false). On the other systems FS has
// no Watch method, and a Lock polls.
//
// # Processes
//
// ProcessAlive sends signal 0 to the pid, which checks that the process
// exists without disturbing it. It ignores the host: the locker asks only
// about processes on its own host.
package posix
