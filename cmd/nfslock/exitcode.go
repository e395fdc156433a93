package main

import (
	"errors"
	"io/fs"
	"strings"
	"syscall"

	"github.com/nfslock/nfslock/locker"
)

// Exit statuses, after flock(1) and sysexits(3). A command run under the
// lock passes its own status through (128 + n when signal n ended it), so
// these are told apart from it only by their documentation.
const (
	exitOK          = 0
	exitConflict    = 1  // the lock is held by someone else (-E changes it in run mode and lock)
	exitUsage       = 64 // EX_USAGE: bad command line or option value
	exitDataErr     = 65 // EX_DATAERR: the lock path holds a file that is not a lock
	exitNoInput     = 66 // EX_NOINPUT: the lock's directory (check's DIR) does not exist
	exitUnavailable = 69 // EX_UNAVAILABLE: the command could not be run (as flock(1))
	exitOSErr       = 71 // EX_OSERR: a process could not be started or signalled
	exitCantCreat   = 73 // EX_CANTCREAT: the claim file cannot be created (permission, read-only)
	exitIOErr       = 74 // EX_IOERR: the filesystem failed while taking, refreshing or releasing
	exitLost        = 76 // EX_PROTOCOL: the lock was lost while the command ran
)

// exitTable is the table of exit statuses that nfslock help run and the
// manual show, and docs/cli.md keeps.
var exitTable = []struct{ status, meaning string }{
	{"0", "success: the command exited 0; status: the lock is free; break: broken, or there was no lock"},
	{"1", "the lock is held by someone else: -n found it busy, -w timed out (change it with -E); status: the lock is held; touch, unlock, keep: the lock is not held in that pid's name; break: the lock is live; check: the filesystem is not safe for these locks"},
	{"N", "otherwise, in run mode, the command's own exit status, or 128+N when signal N ended it (as shells report it)"},
	{"64", "EX_USAGE: bad command line or option value"},
	{"65", "EX_DATAERR: the lock path holds something that is not a lock: a file that no lock wrote, a directory, a FIFO, a symbolic link (it is never touched)"},
	{"66", "EX_NOINPUT: the lock's directory (check: DIR) does not exist"},
	{"69", "EX_UNAVAILABLE: the command could not be run (not found, not executable); the lock was not taken"},
	{"71", "EX_OSERR: a process could not be started or signalled"},
	{"73", "EX_CANTCREAT: no permission to create files in the lock's directory, or it is read-only"},
	{"74", "EX_IOERR: the filesystem failed while taking, refreshing or releasing the lock"},
	{"76", "EX_PROTOCOL: the lock was lost while the command ran (someone broke it after nfslock could not refresh it for lifetime + slop): the job was sent SIGTERM, and SIGKILL after --kill-after"},
	{"129, 130, 143", "nfslock itself got SIGHUP, SIGINT or SIGTERM while waiting for the lock (128 + the signal's number)"},
}

// exitCodes is exitTable as text, for nfslock help run.
func exitCodes() string {
	var b strings.Builder
	b.WriteString("Exit status:\n")
	for _, row := range exitTable {
		left := "  " + row.status
		if len(left) >= 7 {
			b.WriteString(left + "\n" + strings.Repeat(" ", 7))
		} else {
			b.WriteString(left + strings.Repeat(" ", 7-len(left)))
		}
		b.WriteString(wrap(row.meaning, 7, 79))
	}
	return b.String()
}

// codeFor maps an error of the locker to an exit status; conflict is the
// status for a busy lock or a timed-out wait.
func codeFor(err error, conflict int) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, locker.ErrBusy), errors.Is(err, locker.ErrTimeout):
		return conflict
	case errors.Is(err, locker.ErrInvalid):
		return exitUsage
	case errors.Is(err, locker.ErrForeignFile):
		return exitDataErr
	case errors.Is(err, locker.ErrNotLocked), errors.Is(err, locker.ErrAlreadyLocked):
		return exitConflict
	case errors.Is(err, fs.ErrNotExist):
		return exitNoInput
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return exitCantCreat
	}
	return exitIOErr
}
