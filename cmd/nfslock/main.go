// Command nfslock is flock(1) for shared directories: it takes a lock that
// stays correct on NFS and other network filesystems, runs a command while
// keeping the lock alive, and releases it when the command exits. Its
// subcommands take and release locks from shell scripts, show who holds a
// lock, break a dead holder's lock, and check what a filesystem does that
// the locks rely on. Run nfslock --help for the whole story.
//
// The locks are those of package github.com/nfslock/nfslock/locker,
// compatible with Python's flufl.lock.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/pflag"
)

func main() {
	if spec, ok := os.LookupEnv(guardEnv); ok {
		os.Exit(guard(spec))
	}
	e := &env{stdout: os.Stdout, stderr: os.Stderr, stderrFile: os.Stderr, fsys: platformFS()}
	os.Exit(e.main(os.Args[1:]))
}

// backend is what nfslock needs of the platform's filesystem backend.
type backend interface {
	locker.FS
	locker.ProcessChecker
}

// env is what every form of the command works with.
type env struct {
	stdout, stderr io.Writer
	stderrFile     *os.File // stderr, if it is a file (to tell a terminal)
	fsys           backend
}

// A subcommand is a form of the command named by its first argument.
type subcommand struct {
	name     string
	synopsis string
	summary  string
	flags    func(o *options) *pflag.FlagSet
	run      func(e *env, o *options, args []string) int
}

// subcommands is every form but run mode, in the order --help lists them.
func subcommands() []subcommand {
	return []subcommand{
		lockCommand(), touchCommand(), keepCommand(), unlockCommand(),
		statusCommand(), breakCommand(), checkCommand(),
	}
}

func (e *env) main(args []string) int {
	// A subcommand is recognised only as the very first argument, so
	// that a lock file of any name can be used after an option, "--", or
	// as a path ("./status").
	if len(args) > 0 {
		for _, sc := range subcommands() {
			if args[0] == sc.name {
				return e.subcommand(sc, args[1:])
			}
		}
	}
	return e.runMode(args)
}

func (e *env) subcommand(sc subcommand, args []string) int {
	var o options
	fs := sc.flags(&o)
	usage := func() string {
		return "Usage: nfslock " + sc.synopsis + "\n\n" + sc.summary + "\nOptions:\n" + flagUsages(fs, 0) + "\n" + exitCodes
	}
	rest, code, stop := parse(fs, &o, args, usage, e)
	if stop {
		return code
	}
	return sc.run(e, &o, slotsArg(&o, rest))
}

// usage is the text of nfslock --help.
func usage(runFlags *pflag.FlagSet) string {
	var b strings.Builder
	b.WriteString(`Usage:
  nfslock [options] LOCKFILE COMMAND [ARG...]
  nfslock [options] LOCKFILE -c 'SHELL COMMAND'
  nfslock lock|touch|keep|unlock [options] LOCKFILE
  nfslock status [--json] LOCKFILE
  nfslock break [--force] [-s|--slots] LOCKFILE
  nfslock check [--json] DIR

flock(1) for shared directories. nfslock takes the lock LOCKFILE, waiting
while someone else holds it, runs COMMAND (or SHELL COMMAND with $SHELL -c,
as flock -c does), keeps the lock alive while it runs, and releases it when
it exits. The lock stays correct on NFS, sshfs, CephFS, Lustre and other
shared filesystems, across hosts, and is compatible with Python's
flufl.lock: LOCKFILE is a hard link to a claim file
LOCKFILE|host|pid|random next to it, and its modification time is its
expiry.

A lock is a lease: it expires --lifetime after it was taken or last
refreshed, and once it has been expired for --slop anyone may break it.
nfslock refreshes it every third of the lifetime while COMMAND runs. If the
lock is lost anyway (nfslock was stopped or the file server unreachable for
longer than lifetime + slop, and someone broke it), the job gets SIGTERM at
once and SIGKILL after --kill-after, and nfslock exits with 76.

COMMAND runs in a process group of its own, the job. SIGINT, SIGTERM,
SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM and SIGWINCH sent to nfslock are
passed to the job. When COMMAND exits, what it left running gets SIGTERM,
and SIGKILL after --kill-after; the lock is released once every process of
the job has exited, never before. If nfslock dies, the job is ended too. In
a terminal's foreground, COMMAND stays in nfslock's process group, so that
Ctrl-C reaches it from the terminal, once: SIGINT, SIGQUIT and SIGWINCH are
not passed on then.

Options (before LOCKFILE; -c right after it, as in flock(1)):
`)
	b.WriteString(flagUsages(runFlags, 0))
	b.WriteString(`
A subcommand is recognised only as the first argument. A lock file named
like one is used by giving an option first, by "--", or as a path:
nfslock -- status true, nfslock ./status true.

Subcommands, for shell scripts (like dotlockfile and lockfile-progs), and
to look at and repair locks:
`)
	for _, sc := range subcommands() {
		var o options
		fmt.Fprintf(&b, "\n  nfslock %s\n%s", sc.synopsis, indent(sc.summary, 4))
		b.WriteString(indent(flagUsages(sc.flags(&o), 2), 2))
	}
	b.WriteString("\n" + exitCodes)
	return b.String()
}

// usageError reports a mistake on the command line.
func (e *env) usageError(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "nfslock: %s\nTry 'nfslock --help' for more information.\n", fmt.Sprintf(format, args...))
	return exitUsage
}

// fail reports err and returns code.
func (e *env) fail(code int, err error) int {
	msg := err.Error()
	if !strings.HasPrefix(msg, "nfslock: ") {
		msg = "nfslock: " + msg
	}
	fmt.Fprintln(e.stderr, msg)
	return code
}

// say writes a message to stderr.
func (e *env) say(format string, args ...any) {
	fmt.Fprintf(e.stderr, "nfslock: "+format+"\n", args...)
}
