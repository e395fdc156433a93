package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// Every message is one line on stderr, "nfslock: <what failed>: <why>",
// in the user's terms: the lock file and, where known, its holder, never
// the name of the library's operation that failed.

// usageError reports a mistake on the command line.
func (e *env) usageError(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "nfslock: %s\n", fmt.Sprintf(format, args...))
	return exitUsage
}

// fail reports that what failed because of err, and returns code.
func (e *env) fail(code int, what string, err error) int {
	e.say("%s: %s", what, e.reason(err))
	return code
}

// say writes a message to stderr.
func (e *env) say(format string, args ...any) {
	fmt.Fprintf(e.stderr, "nfslock: "+format+"\n", args...)
}

// reason says why err happened, for a message that has already said what
// failed: the lock's error without the library's operation name, and a
// file that is not a lock described by what it is.
func (e *env) reason(err error) string {
	var le *locker.Error
	if !errors.As(err, &le) {
		return strings.TrimPrefix(err.Error(), "nfslock: ")
	}
	if errors.Is(err, locker.ErrForeignFile) || e.code(err, exitConflict) == exitDataErr {
		return e.foreign(le.Path, err)
	}
	var why string
	switch {
	case errors.Is(le.Err, locker.ErrBusy):
		why = "it is held by someone else"
	case errors.Is(le.Err, locker.ErrNotLocked):
		why = "this process no longer holds it"
	case errors.Is(le.Err, locker.ErrInvalid):
		why = strings.TrimPrefix(le.Err.Error(), locker.ErrInvalid.Error()+": ")
	default:
		why = le.Err.Error()
	}
	if h := le.Holder; h != nil {
		why += fmt.Sprintf(" (held by host %s pid %d)", h.Hostname, h.PID)
	}
	return why
}

// foreign says what the object that is not a lock, which err met at the
// lock path or another of the lock's names, is.
func (e *env) foreign(path string, err error) string {
	var pe *fs.PathError
	var nre *locker.NotRegularError
	if errors.As(err, &pe) && errors.As(err, &nre) && !sameName(pe.Path, path) {
		return fmt.Sprintf("%s is %s, not a file a lock makes (left alone)", pe.Path, kindOf(nre.Type))
	}
	if info, serr := e.fsys.Stat(path); serr == nil && info.IsDir {
		return "it is a directory, not a lock (left alone)"
	}
	data, rerr := e.fsys.ReadFile(path)
	if errors.As(rerr, &nre) {
		return fmt.Sprintf("it is %s, not a lock (left alone)", kindOf(nre.Type))
	}
	if rerr != nil && !errors.Is(rerr, locker.ErrTooLong) {
		return "it is not a lock (left alone)"
	}
	const max = 40
	s := string(data)
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Sprintf("it is a file that no lock wrote, beginning %q (left alone)", s)
}

// sameName reports whether a and b name the same file, one of them
// perhaps relative.
func sameName(a, b string) bool {
	a, errA := filepath.Abs(a)
	b, errB := filepath.Abs(b)
	return errA == nil && errB == nil && a == b
}

// kindOf names a type of file that no lock makes.
func kindOf(t fs.FileMode) string {
	switch t &= fs.ModeType; {
	case t&fs.ModeSymlink != 0:
		return "a symbolic link"
	case t&fs.ModeDir != 0:
		return "a directory"
	case t&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case t&fs.ModeSocket != 0:
		return "a socket"
	case t&fs.ModeDevice != 0:
		return "a device"
	}
	return "an irregular file"
}

// code is the exit status for err, a failure on the lock at path:
// codeFor's, but a directory at the lock path, which the library refuses
// as bad input, is a file that is not a lock (65), as a FIFO or a symbolic
// link there is.
func (e *env) code(err error, conflict int) int {
	var le *locker.Error
	if errors.Is(err, locker.ErrInvalid) && errors.As(err, &le) {
		if info, serr := e.fsys.Stat(le.Path); serr == nil && info.IsDir {
			return exitDataErr
		}
	}
	return codeFor(err, conflict)
}

// signed is human(d) with a '+' before a positive d.
func signed(d time.Duration) string {
	if s := human(d); d > 0 && s != "0s" {
		return "+" + s
	}
	return human(d)
}

// secs is a number of seconds as a duration.
func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// human formats d for a person: "376µs", "12ms", "2.5s", "1m30s", with
// the sign of a negative d kept and no "-0".
func human(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	var s string
	switch {
	case d < time.Millisecond:
		s = d.Round(time.Microsecond).String()
	case d < time.Second:
		s = d.Round(time.Millisecond).String()
	case d < time.Minute:
		s = d.Round(100 * time.Millisecond).String()
	default:
		s = d.Round(time.Second).String()
	}
	if s == "0s" {
		return s
	}
	return sign + s
}
