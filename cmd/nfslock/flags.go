package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// duration is a flag value given in seconds, fractions allowed, as
// flock(1)'s -w takes it ("0.5"), or as a Go duration ("1m30s", "500ms").
type duration struct{ d *time.Duration }

func (v duration) Set(s string) error {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > math.MaxInt64/float64(time.Second) {
			return fmt.Errorf("%q is not a number of seconds from 0 up", s)
		}
		*v.d = time.Duration(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is neither a number of seconds nor a duration such as 1m30s", s)
	}
	if d < 0 {
		return fmt.Errorf("%q is negative", s)
	}
	*v.d = d
	return nil
}

func (v duration) String() string {
	if v.d == nil {
		return ""
	}
	return v.d.String()
}

func (v duration) Type() string { return "secs" }

// options holds every option of every form of the command; each form
// registers the ones it takes.
type options struct {
	timeout    time.Duration
	nonblock   bool
	conflict   int
	lifetime   time.Duration
	slop       time.Duration
	separator  string
	verbose    bool
	quiet      bool
	busyQuiet  bool // say nothing of a busy lock or a timed-out wait unless -v (run mode, as flock(1))
	killAfter  time.Duration
	pid        int
	json       bool
	force      bool
	foreground bool
	readyLine  bool
	help       bool
	version    bool
	exclusive  bool
	closeFD    bool
	command    string
	fencing    bool
	fair       bool
	// shared locks and semaphores (see modes.go)
	shared   bool
	slots    int  // N of --slots; 0 if not given (break, touch, keep, unlock: read it from LOCKFILE.slots)
	slotsSet bool // --slots was given
	// check
	procs, cycles int
	worker        string
}

func newFlagSet(name string) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SortFlags = false
	// flock(1)'s other spellings.
	fs.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		switch name {
		case "wait":
			name = "timeout"
		case "nb":
			name = "nonblock"
		}
		return pflag.NormalizedName(name)
	})
	return fs
}

func addHelp(fs *pflag.FlagSet, o *options) {
	fs.BoolVarP(&o.help, "help", "h", false, "show this help and exit")
}

func addWait(fs *pflag.FlagSet, o *options) {
	fs.VarP(duration{&o.timeout}, "timeout", "w", "give up waiting for the lock after `SECS` (0.5, or a duration: 1m30s); 0 means -n (also --wait)")
	fs.BoolVarP(&o.nonblock, "nonblock", "n", false, "fail at once if the lock is held (also --nb)")
	fs.IntVarP(&o.conflict, "conflict-exit-code", "E", exitConflict, "exit status when -n finds the lock held or -w times out, `N` from 0 to 255 (default 1)")
}

func addLifetime(fs *pflag.FlagSet, o *options) {
	o.lifetime = 15 * time.Second
	fs.VarP(duration{&o.lifetime}, "lifetime", "l", "the lock expires `SECS` after it is taken or last refreshed, 1s or more (default 15s)")
}

func addSlop(fs *pflag.FlagSet, o *options) {
	o.slop = 10 * time.Second
	fs.Var(duration{&o.slop}, "slop", "a lock may be broken once it has been expired for `SECS`: the allowance for clocks that disagree (default 10s)")
}

func addFair(fs *pflag.FlagSet, o *options) {
	fs.BoolVar(&o.fair, "fair", true, "serve waiters in the order they came, through tickets LOCKFILE.queue.N (default; --fair=false: whoever looks first after a release takes the lock)")
}

func addSeparator(fs *pflag.FlagSet, o *options, def string) {
	fs.StringVar(&o.separator, "separator", def, "the `CHAR` that joins the parts of claim file names; every process using the lock must use the same one (default "+def+")")
}

func addVerbose(fs *pflag.FlagSet, o *options, what string) {
	fs.BoolVarP(&o.verbose, "verbose", "v", false, what)
	fs.BoolVarP(&o.quiet, "quiet", "q", false, "say nothing when the lock is busy, not ours or not there, or the wait times out: the exit status tells")
}

// addShared adds -s and --slots, which say what LOCKFILE is (see
// modes.go): --slots N in run mode and lock, --slots[=N] elsewhere, where N
// is read from LOCKFILE.slots and only checked if given.
func addShared(fs *pflag.FlagSet, o *options, shared, slots string, needN bool) {
	fs.BoolVarP(&o.shared, "shared", "s", false, shared)
	fs.IntVar(&o.slots, "slots", 0, slots)
	if !needN {
		fs.Lookup("slots").NoOptDefVal = "0"
	}
}

func addPID(fs *pflag.FlagSet, o *options, what string) {
	fs.IntVar(&o.pid, "pid", 0, "`PID` of "+what+" (default: the parent process, usually the calling shell)")
}

// parse parses args into fs and returns the remaining arguments, or an exit
// status and true if the caller must stop: help was asked for, or the
// command line is wrong.
func parse(fs *pflag.FlagSet, o *options, args []string, usage func() string, env *env) ([]string, int, bool) {
	fs.SetOutput(discard{})
	if err := fs.Parse(args); err != nil {
		if err == pflag.ErrHelp {
			fmt.Fprint(env.stdout, usage())
			return nil, exitOK, true
		}
		return nil, env.usageError("%v", err), true
	}
	if o.help {
		fmt.Fprint(env.stdout, usage())
		return nil, exitOK, true
	}
	if o.verbose && o.quiet {
		return nil, env.usageError("-v and -q exclude each other"), true
	}
	if f := fs.Lookup("lifetime"); f != nil && f.Changed && o.lifetime < time.Second {
		return nil, env.usageError("-l %s: the lifetime must be at least 1s (the lock is refreshed every third of it)", f.Value), true
	}
	if f := fs.Lookup("pid"); f != nil && f.Changed && o.pid <= 0 {
		return nil, env.usageError("--pid %d: not a process id (leave --pid out to name the calling shell)", o.pid), true
	}
	if o.conflict < 0 || o.conflict > 255 {
		return nil, env.usageError("-E %d: the exit status must be 0-255", o.conflict), true
	}
	if f := fs.Lookup("timeout"); f != nil && f.Changed && o.timeout == 0 {
		o.nonblock = true // as flock(1): -w 0 is -n
	}
	if f := fs.Lookup("slots"); f != nil && f.Changed {
		o.slotsSet = true
		if o.shared {
			return nil, env.usageError("-s and --slots exclude each other: a lock file is a shared lock or a semaphore"), true
		}
		if o.slots < 0 || (o.slots == 0 && f.NoOptDefVal == "") {
			return nil, env.usageError("--slots %d: a semaphore has 1 or more slots", o.slots), true
		}
	}
	return fs.Args(), 0, false
}

// sayBusy reports whether to say that the lock is busy or the wait timed
// out.
func (o *options) sayBusy() bool { return !o.quiet && !(o.busyQuiet && !o.verbose) }

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// flagUsages lists the options of fs, one paragraph each, wrapped to fit
// 80 columns.
func flagUsages(fs *pflag.FlagSet, margin int) string {
	return listFlags(fs, margin, func(f *pflag.Flag) (string, bool) {
		_, usage := pflag.UnquoteUsage(f)
		return usage, true
	})
}

// briefAnnotation marks an option that nfslock --help lists, with the
// one line it says of it there.
const briefAnnotation = "brief"

// brief marks the option name of fs as one nfslock --help lists, saying
// line of it.
func brief(fs *pflag.FlagSet, name, line string) {
	fs.SetAnnotation(name, briefAnnotation, []string{line})
}

// briefFlagUsages lists the options of fs marked with brief, one line each.
func briefFlagUsages(fs *pflag.FlagSet) string {
	return listFlags(fs, 0, func(f *pflag.Flag) (string, bool) {
		line, ok := f.Annotations[briefAnnotation]
		if !ok {
			return "", false
		}
		return line[0], true
	})
}

// listFlags lists the options of fs that text describes, wrapped to fit
// 80 columns less margin.
func listFlags(fs *pflag.FlagSet, margin int, text func(*pflag.Flag) (string, bool)) string {
	col, width := 28, 79-margin
	var b strings.Builder
	fs.VisitAll(func(f *pflag.Flag) {
		usage, ok := text(f)
		if f.Hidden || !ok {
			return
		}
		left := flagName(f)
		b.WriteString(left)
		pos := len(left)
		if pos >= col-1 {
			b.WriteString("\n")
			pos = 0
		}
		b.WriteString(strings.Repeat(" ", col-pos))
		b.WriteString(wrap(usage, col, width))
	})
	return b.String()
}

// flagName is how an option is shown in a list: "  -w, --timeout SECS".
func flagName(f *pflag.Flag) string {
	left := "      --" + f.Name
	if f.Shorthand != "" {
		left = "  -" + f.Shorthand + ", --" + f.Name
	}
	name, _ := pflag.UnquoteUsage(f)
	switch {
	case f.Value.Type() == "bool":
	case f.NoOptDefVal != "":
		left += "[=" + name + "]"
	default:
		left += " " + name
	}
	return left
}

// wrap fills the words of s into lines of at most width columns, the
// first starting at column col (the caller has written what precedes it)
// and the rest indented to it; it ends with a newline.
func wrap(s string, col, width int) string {
	var b strings.Builder
	pos := col
	for i, word := range strings.Fields(s) {
		if i > 0 && pos+1+len(word) > width {
			b.WriteString("\n" + strings.Repeat(" ", col))
			pos = col
		} else if i > 0 {
			b.WriteString(" ")
			pos++
		}
		b.WriteString(word)
		pos += len(word)
	}
	b.WriteString("\n")
	return b.String()
}

// indent indents every line of s by n spaces.
func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}
