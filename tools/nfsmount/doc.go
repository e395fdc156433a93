//go:build linux

// Command nfsmount mounts an NFSv3 export with FUSE: a userspace NFS client
// for machines whose kernel has none, made for testing nfslock on a real NFS
// server (NFS-Ganesha, see scripts/nfs-rig.sh).
//
//	nfsmount [-o option,...] server:/export mountpoint
//
// It runs in the foreground until the mount is unmounted (fusermount3 -u,
// umount) or it gets SIGINT or SIGTERM, when it unmounts (or, if the mount
// is busy, detaches it). SIGUSR1 makes it log what it counted so far; it
// logs the same when it exits.
//
// It speaks NFSv3 (RFC 1813) and MOUNT v3 over TCP, finding their ports
// with the portmapper unless port= and mountport= give them, with AUTH_SYS
// credentials carrying the uid and gid of the process making each FUSE
// request. Each nfsmount process is one client with its own TCP
// connection, so two mounts of one export behave like two hosts.
//
// It implements lookup, getattr, setattr (size, mode, owner, atime and
// mtime to the nanosecond, UTIME_NOW as the server's clock), create (O_EXCL
// as a GUARDED create, otherwise UNCHECKED), open, read, write (FILE_SYNC),
// fsync, link, unlink, rename, mkdir, rmdir, readdir (READDIRPLUS),
// symlink, readlink, mknod (FIFOs, sockets and devices, as far as the
// server allows), access and statfs. NFS errors become the errno the Linux
// client gives. Calls are hard: they wait for the server however long it
// takes, across reconnections.
//
// # The Linux client's behaviours, as mount options
//
// Each option is named after the Linux NFS mount option (nfs(5)) it
// mirrors; the defaults are Linux's.
//
//	acregmin=N, acregmax=N, acdirmin=N, acdirmax=N
//	        How long attributes of files (reg) and directories (dir) stay
//	        cached, in seconds. After a change the time starts at the
//	        minimum and doubles, up to the maximum, each time a
//	        revalidation finds the file unchanged. Defaults 3, 60, 30, 60.
//	        The kernel (FUSE) is told the same times for its own caches.
//	actimeo=N
//	        Sets all four to N.
//	noac
//	        actimeo=0: no attribute caching. The kernel's caches go too:
//	        entry and attribute timeouts of 0, and direct I/O (no page
//	        cache), so every stat, read and write goes to the server.
//	ac
//	        The default times again.
//	lookupcache=all|positive|none
//	        Which names are cached: found and absent ones (all, the
//	        default), found ones only (positive), or none (every path
//	        walk is a LOOKUP). A cached name is used while its directory's
//	        attributes are cached and show no change made by another
//	        client since; the kernel keeps it as long.
//	cto, nocto
//	        Close-to-open consistency (default cto): every open asks the
//	        server for the file's attributes (with the ACCESS call that
//	        checks the permission), and the page cache is dropped if the
//	        file changed since it was last opened. Writes reach the server
//	        before write(2) returns, so a close has nothing left to flush.
//	        With nocto an open uses cached attributes while valid.
//	timeo=N
//	        Tenths of a second a call waits for its reply before the
//	        connection is reset and every waiting call sent again (600).
//	rsize=N, wsize=N
//	        Largest READ and WRITE, capped by what the server says.
//	port=N, mountport=N
//	        The NFS and MOUNT ports, instead of asking the portmapper.
//
// A file removed (or replaced by a rename) while open through this mount
// is renamed to .nfsXXXXXXXXXXXXXXXXYYYYYYYY in its directory instead, as
// the Linux client does (the file id and a counter, in hex), and that name
// is removed when the file's last handle here is closed. Other clients see
// the .nfs name meanwhile.
//
// # Lost replies
//
//	lose=PROC:PROC..., loserate=R, losexid=same|new|mixed, loseseed=N
//
// For calls of the named procedures (capitals, as RFC 1813 names them:
// LINK, REMOVE, RENAME, CREATE, SETATTR...; also comma-separated, e.g.
// lose=LINK,REMOVE,loserate=0.1), with chance R each, the reply is lost:
// the client sends the call, the server executes it and answers, and the
// client throws the answer away unread and resets the TCP connection. It
// then connects again from the same local port and sends the call again,
// as a real client does after a lost reply:
//
//   - losexid=same (the default): with the same XID, so the server's
//     duplicate request cache can answer with the first reply. Ganesha
//     4.3's mostly does: of 193 such resends of CREATE, LINK, RENAME and
//     REMOVE it answered 188 from its cache, executed 2 REMOVEs and 1
//     CREATE again (NFS3ERR_NOENT, NFS3ERR_EXIST), and left 3 unanswered
//     until they were sent again after timeo;
//   - losexid=new: with a new XID, so the server executes the call a second
//     time: a LINK that was done now gets EEXIST, a REMOVE ENOENT, a
//     RENAME ENOENT; that is what the program then sees;
//   - losexid=mixed: either, at random.
//
// The silly rename of a file removed while open (above) is a RENAME made
// instead of a REMOVE, and executed twice it removes as a REMOVE would:
// it moves away whatever another client made at the name in between. Its
// reply is lost only where REMOVE's are (lose=REMOVE), not with
// lose=RENAME, which is the renames a program asks for.
//
// loseseed seeds the choice (default: the clock). What was lost, what the
// lost reply said and what the reply to the call sent again said are
// counted and logged on SIGUSR1 and at exit, and written as JSON to the file
// stats=FILE if given.
//
// # Other options
//
//	allow_other   let other users use the mount (the default when root)
//	stats=FILE    write the counts (JSON) there on SIGUSR1 and at exit
//	debug         log every FUSE request and every lost reply
//
// hard, tcp, vers=3, nolock and the like are accepted and ignored: they are
// what this client does anyway. There is no NLM: fcntl locks stay local to
// the mount.
package main
