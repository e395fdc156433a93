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
	"io"
	"os"

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
	brief    string // one line for --help, completions and the manual's list
	summary  string
	flags    func(o *options) *pflag.FlagSet
	run      func(e *env, o *options, args []string) int
}

// subcommands is every form but run mode, in the order --help lists them:
// a closed set, so that a misspelt one is refused (see suggest.go) rather
// than taken for a lock file.
func subcommands() []subcommand {
	return []subcommand{
		lockCommand(), touchCommand(), keepCommand(), unlockCommand(),
		statusCommand(), breakCommand(), checkCommand(),
		helpCommand(), completionCommand(), manCommand(),
	}
}

func (e *env) main(args []string) int {
	// A subcommand is recognised only as the very first argument, so
	// that a lock file of any name can be used after an option, "--", or
	// as a path ("./status").
	if len(args) > 0 {
		if sc, ok := lookup(args[0]); ok {
			return e.subcommand(sc, args[1:])
		}
		if near := e.misspelt(args[0]); near != "" {
			return e.usageError("%s is not a subcommand: did you mean %s? (for a lock file of that name: nfslock ./%s ...)", args[0], near, args[0])
		}
	}
	return e.runMode(args)
}

// lookup finds the subcommand called name.
func lookup(name string) (subcommand, bool) {
	for _, sc := range subcommands() {
		if sc.name == name {
			return sc, true
		}
	}
	return subcommand{}, false
}

func (e *env) subcommand(sc subcommand, args []string) int {
	var o options
	fs := sc.flags(&o)
	rest, code, stop := parse(fs, &o, args, func() string { return subcommandUsage(sc) }, e)
	if stop {
		return code
	}
	return sc.run(e, &o, slotsArg(&o, rest))
}
