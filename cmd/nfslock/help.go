package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"
)

// The help is made from the definitions of the options and subcommands,
// as the manual page (manpage.go) and the completion scripts
// (completion.go) are: nfslock --help, short, lists the main options and
// a line for each subcommand; nfslock help run gives run mode in full,
// with every option and the exit statuses; nfslock help SUBCOMMAND (or
// nfslock SUBCOMMAND --help) one subcommand.

// runSynopsis is the synopsis of run mode, one form a line.
var runSynopsis = []string{
	"[options] LOCKFILE COMMAND [ARG...]",
	"[options] LOCKFILE -c 'SHELL COMMAND'",
}

// about says in a paragraph what nfslock does, for nfslock --help.
const about = `flock(1) for shared directories: take the lock LOCKFILE, waiting while
someone else holds it, run COMMAND while keeping the lock alive, and
release it once COMMAND and all it started have exited. The lock stays
correct on NFS and other network filesystems, and is compatible with
Python's flufl.lock.
`

// runDescription is run mode in full, paragraphs separated by blank
// lines, for nfslock help run and the manual.
const runDescription = `nfslock takes the lock LOCKFILE, waiting while someone else holds it, runs
COMMAND (or SHELL COMMAND with $SHELL -c, as flock -c does), keeps the lock
alive while it runs, and releases it when it exits. The lock stays correct
on NFS, sshfs, CephFS, Lustre and other shared filesystems, across hosts,
and is compatible with Python's flufl.lock: LOCKFILE is a hard link to a
claim file LOCKFILE|host|pid|random next to it, and its modification time
is its expiry.

A lock is a lease: it expires --lifetime after it was taken or last
refreshed, and once it has been expired for --slop anyone may break it.
The slop is the breaker's own allowance for clocks that disagree, not
recorded in the lock: use one slop everywhere a lock is shared (nfslock
check suggests one). nfslock refreshes the lock every third of the
lifetime while COMMAND runs. If the lock is lost anyway (nfslock was
stopped or the file server unreachable for longer than lifetime + slop,
and someone broke it), the job gets SIGTERM at once and SIGKILL after
--kill-after, and nfslock exits with 76.

COMMAND runs in a process group of its own, the job. SIGINT, SIGTERM,
SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM and SIGWINCH sent to nfslock are
passed to the job. When COMMAND exits, what it left running gets SIGTERM,
and SIGKILL after --kill-after; the lock is released once every process of
the job has exited, never before. If nfslock dies, the job is ended too. In
a terminal's foreground, COMMAND stays in nfslock's process group, so that
Ctrl-C reaches it from the terminal, once: SIGINT, SIGQUIT and SIGWINCH are
not passed on then.

As flock(1), a busy lock under -n, or a -w that timed out, is silent
unless -v: the exit status (1, or -E) says it. A script without #! runs
with /bin/sh.

A subcommand is recognised only as the first argument. A lock file named
like one is used by giving an option first, by "--", or as a path:
nfslock -- status true, nfslock ./status true. A first argument that is
not a subcommand, names nothing, and is one or two letters off one is
refused as a misspelling.
`

// usage is the text of nfslock --help.
func usage(runFlags *pflag.FlagSet) string {
	var b strings.Builder
	for i, s := range runSynopsis {
		if i == 0 {
			b.WriteString("Usage: nfslock " + s + "\n")
		} else {
			b.WriteString("       nfslock " + s + "\n")
		}
	}
	b.WriteString("       nfslock SUBCOMMAND [options] ARG\n\n")
	b.WriteString(about)
	b.WriteString("\nMain options (before LOCKFILE):\n")
	b.WriteString(briefFlagUsages(runFlags))
	b.WriteString("\nSubcommands:\n")
	for _, sc := range subcommands() {
		fmt.Fprintf(&b, "  %-11s %s\n", sc.name, sc.brief)
	}
	b.WriteString(`
Every option and the exit statuses: nfslock help run. One subcommand:
nfslock help SUBCOMMAND. A lock file named like a subcommand: ./status.
The manual: nfslock man | man -l -, and docs/cli.md.
`)
	return b.String()
}

// runUsage is the text of nfslock help run: run mode in full.
func runUsage() string {
	var b strings.Builder
	for i, s := range runSynopsis {
		if i == 0 {
			b.WriteString("Usage: nfslock " + s + "\n")
		} else {
			b.WriteString("       nfslock " + s + "\n")
		}
	}
	b.WriteString("\n" + runDescription)
	b.WriteString("\nOptions (before LOCKFILE; -c right after it, as in flock(1)):\n")
	b.WriteString(flagUsages(runFlags(&options{}), 0))
	b.WriteString("\n" + exitCodes())
	return b.String()
}

// subcommandUsage is the text of nfslock help SUBCOMMAND.
func subcommandUsage(sc subcommand) string {
	var b strings.Builder
	b.WriteString("Usage: nfslock " + sc.synopsis + "\n\n" + sc.summary)
	if fs := sc.flags(&options{}); fs.HasAvailableFlags() {
		b.WriteString("\nOptions:\n" + flagUsages(fs, 0))
	}
	return b.String()
}

func helpCommand() subcommand {
	return subcommand{
		name:     "help",
		synopsis: "help [SUBCOMMAND|run]",
		brief:    "show the help of a subcommand, or of run mode in full",
		summary: `Show the help of SUBCOMMAND, or with "run" run mode's in full, with
every option and the exit statuses; with no argument, nfslock --help.
`,
		flags: func(o *options) *pflag.FlagSet {
			fs := newFlagSet("help")
			addHelp(fs, o)
			return fs
		},
		run: runHelp,
	}
}

func runHelp(e *env, o *options, args []string) int {
	switch {
	case len(args) == 0:
		fmt.Fprint(e.stdout, usage(runFlags(&options{})))
		return exitOK
	case len(args) > 1:
		return e.usageError("help takes one subcommand; got %q", args)
	case args[0] == "run":
		fmt.Fprint(e.stdout, runUsage())
		return exitOK
	}
	if sc, ok := lookup(args[0]); ok {
		fmt.Fprint(e.stdout, subcommandUsage(sc))
		return exitOK
	}
	if near := nearest(args[0]); near != "" {
		return e.usageError("help %s: no such subcommand: did you mean %s?", args[0], near)
	}
	var names []string
	for _, sc := range subcommands() {
		names = append(names, sc.name)
	}
	return e.usageError("help %s: no such subcommand; they are %s (and run, for run mode)", args[0], strings.Join(names, ", "))
}
