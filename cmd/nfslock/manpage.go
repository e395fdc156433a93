package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"
)

func manCommand() subcommand {
	return subcommand{
		name:     "man",
		synopsis: "man",
		brief:    "print the manual page nfslock(1), in roff",
		summary: `Print the manual page nfslock(1), made from the same definitions as the
help. Read it with: nfslock man | man -l -
Install it with: nfslock man > /usr/local/share/man/man1/nfslock.1
`,
		flags: func(o *options) *pflag.FlagSet {
			fs := newFlagSet("man")
			addHelp(fs, o)
			return fs
		},
		run: func(e *env, o *options, args []string) int {
			if len(args) != 0 {
				return e.usageError("man takes no arguments; got %q", args)
			}
			writeMan(e.stdout, version())
			return exitOK
		},
	}
}

// writeMan writes the manual page nfslock(1) in roff, with the man
// macros, for the version named.
func writeMan(w io.Writer, version string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p(`.TH NFSLOCK 1 "" %s "User Commands"`, roffArg(version))
	p(".nh") // no hyphenation: names and options are copied from the page
	p(".SH NAME")
	p(`nfslock \- flock(1) for shared directories: locks that stay correct on NFS`)
	p(".SH SYNOPSIS")
	for _, s := range runSynopsis {
		p(".B nfslock\n%s\n.br", roff(s))
	}
	for _, sc := range subcommands() {
		p(".B nfslock\n%s\n.br", roff(sc.synopsis))
	}
	p(".SH DESCRIPTION")
	writeProse(w, runDescription)
	p(".SH OPTIONS")
	p("Options go before LOCKFILE; only \\fB\\-c\\fR may follow it, as in flock(1).")
	writeFlags(w, runFlags(&options{}))
	p(".SH SUBCOMMANDS")
	for _, sc := range subcommands() {
		p(".SS %s", roffArg("nfslock "+sc.synopsis))
		writeProse(w, sc.summary)
		if fs := sc.flags(&options{}); fs.HasAvailableFlags() {
			p(".PP\nOptions:")
			writeFlags(w, fs)
		}
	}
	p(".SH EXIT STATUS")
	for _, row := range exitTable {
		p(".TP\n.B %s\n%s", roff(row.status), roff(row.meaning))
	}
	p(".SH ENVIRONMENT")
	p(".TP\n.B SHELL\nthe shell that runs \\fB\\-c\\fR's command (/bin/sh if unset).")
	p(".TP\n.B %s\n%s", tokenEnv, roff("the fencing token, given to COMMAND with --fencing."))
	p(".TP\n.B %s\n%s", slotEnv, roff("the index of the semaphore slot held, from 0, given to COMMAND with --slots."))
	p(".SH SEE ALSO")
	p("flock(1), dotlockfile(1), lockfile\\-create(1); docs/cli.md and docs/algorithm.md in nfslock's source.")
}

// writeFlags writes the options of fs as a list.
func writeFlags(w io.Writer, fs *pflag.FlagSet) {
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		_, usage := pflag.UnquoteUsage(f)
		fmt.Fprintf(w, ".TP\n\\fB%s\\fR\n%s\n", roff(strings.TrimSpace(flagName(f))), roff(usage))
	})
}

// writeProse writes text, paragraphs separated by blank lines, as roff
// paragraphs; lines indented in text are shown as they are.
func writeProse(w io.Writer, text string) {
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		fmt.Fprintln(w, ".PP")
		verbatim := false
		for _, line := range strings.Split(para, "\n") {
			indented := strings.HasPrefix(line, "  ")
			switch {
			case indented && !verbatim:
				fmt.Fprintln(w, ".RS\n.nf")
			case !indented && verbatim:
				fmt.Fprintln(w, ".fi\n.RE")
			}
			verbatim = indented
			fmt.Fprintln(w, roff(strings.TrimSpace(line)))
		}
		if verbatim {
			fmt.Fprintln(w, ".fi\n.RE")
		}
	}
}

// roff escapes a line of text for roff: backslashes and hyphens (which
// roff would print as typographic hyphens, breaking options pasted from
// the page), and a leading '.' or '\” that would make it a request.
func roff(s string) string {
	s = strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// roffArg is s escaped and quoted as one argument of a macro.
func roffArg(s string) string {
	return `"` + strings.ReplaceAll(roff(s), `"`, `\(dq`) + `"`
}
