package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nfslock/nfslock/conformance/probe"
	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/pflag"
)

func checkCommand() subcommand {
	return subcommand{
		name:     "check",
		synopsis: "check [--json] DIR",
		brief:    "check what a filesystem does that the locks rely on",
		summary: `Check what the filesystem under DIR does that the locks rely on: that
link(2) is atomic (racers, one winner) and how a losing link fails, whether
link counts are reported, the granularity of file times, the offset of the
file server's clock, whether rename replaces an existing name atomically,
whether a removed open file is silly-renamed (.nfsXXXX), and how long one
call through the mount takes (a stat, a link and its removal); then a short
contention run of several nfslock processes incrementing a counter in DIR
under a lock (0 lost updates). Print a verdict and the lifetime and slop to use there.
Everything happens in a directory DIR/.nfslock-check-* that is removed at
the end. Exit 0 if the filesystem is fit for these locks, 1 if not, 66 if
DIR does not exist, 73 if it is not writable.
`,
		flags: func(o *options) *pflag.FlagSet {
			fs := newFlagSet("check")
			fs.BoolVar(&o.json, "json", false, "print one JSON object (fields: see docs/cli.md)")
			fs.IntVar(&o.procs, "procs", 3, "`N` processes in the contention run (default 3)")
			fs.IntVar(&o.cycles, "cycles", 30, "`N` lock, increment, unlock cycles per process (default 30)")
			addLifetime(fs, o)
			addSlop(fs, o)
			addSeparator(fs, o, locker.DefaultSeparator)
			addHelp(fs, o)
			// A process of the contention run: check --worker COUNTER LOCKFILE.
			fs.StringVar(&o.worker, "worker", "", "")
			fs.MarkHidden("worker")
			return fs
		},
		run: runCheck,
	}
}

// checkReport is what check prints; with --json, as is.
type checkReport struct {
	Dir        string           `json:"dir"`
	Latency    latencyReport    `json:"latency"`
	Link       linkReport       `json:"link"`
	LinkCounts linkCountsReport `json:"link_counts"`
	Times      timesReport      `json:"timestamps"`
	Clock      clockReport      `json:"clock"`
	Rename     renameReport     `json:"rename"`
	Silly      sillyReport      `json:"silly_rename"`
	Contention contentionReport `json:"contention"`
	Verdict    string           `json:"verdict"` // "ok" or "unsafe"
	Problems   []string         `json:"problems"`
	Notes      []string         `json:"notes"`
	// The lifetime and slop recommended on this filesystem.
	LifetimeSeconds float64 `json:"recommended_lifetime_seconds"`
	SlopSeconds     float64 `json:"recommended_slop_seconds"`
}

type linkReport struct {
	Works       bool   `json:"works"`         // a link to a free name succeeds
	LosingError string `json:"losing_error"`  // the system error of a link onto an existing name
	SeenAsExist bool   `json:"seen_as_exist"` // the backend reports that error as "exists"
	Replaced    bool   `json:"replaced"`      // a losing link replaced the existing file
	Rounds      int    `json:"race_rounds"`
	Racers      int    `json:"race_racers"`
	MaxWinners  int    `json:"race_max_winners"` // 1 when link is atomic
	MinWinners  int    `json:"race_min_winners"`
	Atomic      bool   `json:"atomic"`
}

type linkCountsReport struct {
	Reported  bool   `json:"reported"`
	AfterLink uint64 `json:"after_link"` // the link count of a file with two names
}

type timesReport struct {
	GranularityNS  int64 `json:"granularity_ns"`     // the coarsest of the two below
	SetGranularity int64 `json:"set_granularity_ns"` // kept of a time set with utimes
	FreshFraction  bool  `json:"fresh_fraction"`     // fresh files get sub-second times
}

type clockReport struct {
	OffsetSeconds      float64 `json:"offset_seconds"` // file server minus this host
	UncertaintySeconds float64 `json:"uncertainty_seconds"`
}

type renameReport struct {
	Replaces bool   `json:"replaces"`
	Error    string `json:"error,omitempty"`
	Atomic   bool   `json:"atomic"` // the name never went missing while replaced again and again
	Rounds   int    `json:"rounds"`
}

// latencyReport is how long one call through the mount takes: the median
// and longest of several.
type latencyReport struct {
	StatSeconds    float64 `json:"stat_seconds"`
	StatMaxSeconds float64 `json:"stat_max_seconds"`
	LinkSeconds    float64 `json:"link_remove_seconds"` // a link onto a free name and its removal
	LinkMaxSeconds float64 `json:"link_remove_max_seconds"`
}

type sillyReport struct {
	Seen  bool   `json:"seen"`
	Name  string `json:"name,omitempty"`
	Error string `json:"error,omitempty"`
}

type contentionReport struct {
	Processes   int      `json:"processes"`
	Cycles      int      `json:"cycles"`
	Expected    int      `json:"expected"`
	Counter     int      `json:"counter"`
	LostUpdates int      `json:"lost_updates"`
	Seconds     float64  `json:"seconds"`
	Leftover    []string `json:"leftover"` // files left behind but the counter
	Errors      []string `json:"errors"`
}

func runCheck(e *env, o *options, args []string) int {
	if o.worker != "" {
		return e.checkWorker(o, args)
	}
	dir, code, ok := e.oneArg(args, "DIR")
	if !ok {
		return code
	}
	if o.procs < 1 || o.cycles < 1 {
		return e.usageError("--procs and --cycles must be at least 1")
	}
	fi, err := os.Stat(dir)
	switch {
	case err != nil:
		return e.fail(codeFor(err, exitConflict), "cannot check "+dir, err)
	case !fi.IsDir():
		return e.usageError("cannot check %s: it is not a directory", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return e.fail(exitUsage, "cannot check "+dir, err)
	}
	work := filepath.Join(abs, fmt.Sprintf(".nfslock-check-%d-%d", os.Getpid(), rand.Uint32()))
	if err := os.Mkdir(work, 0o755); err != nil {
		return e.fail(codeFor(err, exitConflict), "cannot check "+dir+": cannot make a work directory in it", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), forwardedSignals...)
	defer stop()
	r := checkReport{Dir: abs, Problems: []string{}, Notes: []string{}}
	c := &checker{e: e, fsys: e.fsys, dir: work, r: &r}
	c.probe()
	c.contention(ctx, o)
	if err := os.RemoveAll(work); err != nil {
		c.problem("could not remove the work directory %s: %v", work, err)
	}
	if ctx.Err() != nil {
		e.say("check interrupted")
		return signalStatus(forwardedSignals[0])
	}
	c.verdict(o)
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(r)
	} else {
		c.print()
	}
	if r.Verdict != "ok" {
		return exitConflict
	}
	return exitOK
}

// checker runs the checks in a work directory.
type checker struct {
	e    *env
	fsys backend
	dir  string
	r    *checkReport
	caps *probe.Capabilities // nil if the probe failed
}

func (c *checker) path(name string) string { return filepath.Join(c.dir, name) }

func (c *checker) problem(format string, args ...any) {
	c.r.Problems = append(c.r.Problems, fmt.Sprintf(format, args...))
}

func (c *checker) note(format string, args ...any) {
	c.r.Notes = append(c.r.Notes, fmt.Sprintf(format, args...))
}

// probe finds out what the filesystem does (see package probe) and judges
// it: what no lock can work with is a problem, what nfslock works around a
// note.
func (c *checker) probe() {
	caps, err := probe.Probe(c.fsys, c.dir, "")
	if err != nil {
		c.problem("%v", err)
		return
	}
	c.caps = caps
	r := c.r
	r.Latency = latencyReport{
		StatSeconds: caps.Latency.Stat.Median.Seconds(), StatMaxSeconds: caps.Latency.Stat.Max.Seconds(),
		LinkSeconds: caps.Latency.Link.Median.Seconds(), LinkMaxSeconds: caps.Latency.Link.Max.Seconds(),
	}
	c.links(caps)
	c.times(caps)
	r.Rename = renameReport{Replaces: caps.RenameReplaces, Error: caps.RenameError, Atomic: caps.RenameAtomic, Rounds: caps.RenameRounds}
	switch {
	case caps.RenameError != "":
		c.problem("rename onto an existing name fails: %s", caps.RenameError)
	case !caps.RenameReplaces:
		c.problem("rename onto an existing name did not replace it")
	case !caps.RenameAtomic:
		c.note("a name replaced with rename went missing for a moment in %d replacements: other programs that replace files here with rename are not atomic", caps.RenameRounds)
	}
	switch {
	case caps.RemoveOpenError != "":
		r.Silly.Error = "removing an open file fails: " + caps.RemoveOpenError
		c.note("a file that is open cannot be removed: %s", caps.RemoveOpenError)
	case len(caps.ClientNames) > 0:
		r.Silly.Seen, r.Silly.Name = true, caps.ClientNames[0]
		c.note("a removed open file is renamed to %s until closed (silly rename): nfslock keeps no file open, but other programs' leftovers can block removing a directory", r.Silly.Name)
	}
}

// links: a link to a free name works; a link onto an existing name fails,
// with an error the backend reports as "exists", and leaves it alone; racers
// onto one name have one winner a round; the link counts show two names.
func (c *checker) links(caps *probe.Capabilities) {
	lr := &c.r.Link
	if caps.LinkError != "" {
		c.problem("link to a free name fails: %s", caps.LinkError)
		return
	}
	lr.Works = true
	c.r.LinkCounts = linkCountsReport{Reported: caps.LinkCounts, AfterLink: caps.LinksAfterLink}
	lr.LosingError, lr.SeenAsExist, lr.Replaced = caps.LosingLink, caps.LosingLinkExists, caps.LosingLinkReplaced
	switch {
	case caps.LosingLink == "ok":
		c.problem("a link onto an existing name succeeded")
	case !caps.LosingLinkExists:
		c.problem("a link onto an existing name fails with %s, which does not mean \"exists\"", caps.LosingLink)
	}
	if caps.LosingLinkReplaced && caps.LosingLink != "ok" {
		c.problem("a losing link changed the existing file")
	}
	race := caps.LinkRace
	lr.Rounds, lr.Racers, lr.MaxWinners, lr.MinWinners, lr.Atomic = race.Rounds, race.Racers, race.MaxWinners, race.MinWinners, race.Exclusive()
	if !lr.Atomic {
		c.problem("link is not atomic: %d racers onto one name had between %d and %d winners a round", race.Racers, race.MinWinners, race.MaxWinners)
	}
	for _, m := range race.Mixups {
		c.problem("link race %s", m)
	}
	if !caps.LinkCounts {
		c.note("link counts are not reported (a file with two names shows %d): nfslock decides who holds a lock by the claim name alone; flufl.lock cannot release its locks here", caps.LinksAfterLink)
	}
}

// times: the granularity of file times, set and fresh, and the file
// server's clock.
func (c *checker) times(caps *probe.Capabilities) {
	tr := &c.r.Times
	tr.SetGranularity = int64(caps.Granularity)
	tr.FreshFraction = caps.StampGranularity < time.Second
	tr.GranularityNS = int64(caps.TimeGranularity())
	if caps.Granularity < 0 {
		c.problem("a file's modification time set to %s reads back as %s", caps.TimeSet.Format(time.RFC3339Nano), caps.TimeRead.Format(time.RFC3339Nano))
	}
	if tr.GranularityNS >= int64(time.Second) {
		c.note("file times are kept in steps of %v: lock lifetimes must be many seconds (nfslock refuses lifetimes of 2 steps or less)", time.Duration(tr.GranularityNS))
	}
	c.r.Clock = clockReport{OffsetSeconds: caps.ClockOffset.Seconds(), UncertaintySeconds: caps.ClockUncertainty.Seconds()}
	if caps.ClockOffset.Abs() > time.Second {
		c.note("the file server's clock is %s from this host's: nfslock judges locks in the server's clock, but flufl.lock processes use their own, so keep the clocks in sync if they share locks", signed(caps.ClockOffset))
	}
}

// contention: nfslock processes increment a counter under a lock.
func (c *checker) contention(ctx context.Context, o *options) {
	cr := &c.r.Contention
	cr.Processes, cr.Cycles, cr.Expected = o.procs, o.cycles, o.procs*o.cycles
	cr.Leftover, cr.Errors = []string{}, []string{}
	dir := c.path("contention")
	if err := os.Mkdir(dir, 0o755); err != nil {
		c.problem("contention run: %v", err)
		return
	}
	counter, lock := filepath.Join(dir, "counter"), filepath.Join(dir, "lock")
	if err := os.WriteFile(counter, []byte("0"), 0o644); err != nil {
		c.problem("contention run: %v", err)
		return
	}
	exe, err := os.Executable()
	if err != nil {
		c.problem("contention run: cannot find this program: %v", err)
		return
	}
	// Bound the run: every cycle is a few file operations.
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute+time.Duration(cr.Expected)*100*time.Millisecond)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range o.procs {
		cmd := exec.CommandContext(ctx, exe, "check", "--worker", counter,
			"--cycles", strconv.Itoa(o.cycles), "--lifetime", o.lifetime.String(), "--slop", o.slop.String(),
			"--separator", o.separator, "--", lock)
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := cmd.CombinedOutput()
			if err != nil {
				mu.Lock()
				cr.Errors = append(cr.Errors, fmt.Sprintf("%v: %s", err, strings.TrimSpace(string(out))))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	cr.Seconds = time.Since(start).Seconds()
	data, err := os.ReadFile(counter)
	if err == nil {
		cr.Counter, err = strconv.Atoi(strings.TrimSpace(string(data)))
	}
	if err != nil {
		cr.Errors = append(cr.Errors, fmt.Sprintf("reading the counter: %v", err))
	}
	cr.LostUpdates = cr.Expected - cr.Counter
	// Files a client renamed because they were removed while open (the
	// FUSE daemon may close a file after close(2) has returned) are the
	// filesystem's, not left by the lock; they go once closed.
	var silly []string
	for wait := 0; wait < 20; wait++ {
		cr.Leftover, silly = cr.Leftover[:0], silly[:0]
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			switch n := e.Name(); {
			case n == "counter":
			case probe.IsClientFile(n):
				silly = append(silly, n)
			default:
				cr.Leftover = append(cr.Leftover, n)
			}
		}
		if len(silly) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(silly) > 0 {
		c.note("contention run: the filesystem still held %d silly-renamed files of removed lock and claim files (%s...) two seconds after the run", len(silly), silly[0])
	}
	switch {
	case len(cr.Errors) > 0:
		c.problem("contention run: %d of %d processes failed: %s", len(cr.Errors), o.procs, cr.Errors[0])
	case cr.LostUpdates != 0:
		c.problem("contention run: %d processes × %d increments under the lock left the counter at %d: %d updates lost, so two processes held the lock at once",
			o.procs, o.cycles, cr.Counter, cr.LostUpdates)
	}
	if len(cr.Leftover) > 0 {
		c.problem("contention run: files left behind: %q", cr.Leftover)
	}
}

// checkWorker is one process of the contention run: --cycles times, take
// the lock, add one to the counter file, release the lock.
func (e *env) checkWorker(o *options, args []string) int {
	path, code, ok := e.oneArg(args, "LOCKFILE")
	if !ok {
		return code
	}
	l, err := locker.New(path, e.fsys, lockOptions(o, os.Getpid())...)
	if err != nil {
		return e.fail(e.code(err, exitConflict), "cannot use the lock "+path, err)
	}
	for range o.cycles {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := l.Lock(ctx)
		cancel()
		if err != nil {
			return e.fail(e.code(err, exitConflict), "cannot take the lock "+path, err)
		}
		data, err := os.ReadFile(o.worker)
		var n int
		if err == nil {
			n, err = strconv.Atoi(strings.TrimSpace(string(data)))
		}
		if err == nil {
			err = os.WriteFile(o.worker, []byte(strconv.Itoa(n+1)), 0o644)
		}
		if err != nil {
			l.Unlock()
			return e.fail(exitIOErr, "cannot count under the lock "+path, err)
		}
		if err := l.Unlock(); err != nil {
			return e.fail(e.code(err, exitConflict), "cannot release the lock "+path, err)
		}
	}
	return exitOK
}

// verdict decides, and recommends a lifetime and slop: the defaults, or
// more where file times are coarse or the clocks far apart.
func (c *checker) verdict(o *options) {
	r := c.r
	r.Verdict = "ok"
	if len(r.Problems) > 0 {
		r.Verdict = "unsafe"
	}
	gran := time.Duration(max(r.Times.GranularityNS, 1))
	lifetime := max(locker.DefaultLifetime, 10*gran)
	slop := locker.DefaultClockSlop
	if need := time.Duration(math.Abs(r.Clock.OffsetSeconds)*float64(time.Second)) + 2*gran + 5*time.Second; need > slop {
		slop = need.Round(time.Second) + time.Second
	}
	r.LifetimeSeconds, r.SlopSeconds = lifetime.Seconds(), slop.Seconds()
	c.note("attribute caching cannot be seen from one client: on NFS mount with actimeo=0 (or lookupcache=none), on sshfs with -o dir_cache=no,attr_timeout=0,entry_timeout=0,negative_timeout=0, or other clients see lock changes late")
}

func (c *checker) print() {
	r, w := c.r, c.e.stdout
	yes := func(b bool, y, n string) string {
		if b {
			return y
		}
		return n
	}
	fmt.Fprintf(w, "nfslock check %s\n", r.Dir)
	if caps := c.caps; caps != nil {
		fmt.Fprintf(w, "  latency:          %v\n", caps.Latency)
		fmt.Fprintf(w, "  link:             %s; %d racers × %d rounds: %s; a losing link fails with %s%s\n",
			yes(r.Link.Works, "works", "FAILS"), r.Link.Racers, r.Link.Rounds,
			yes(r.Link.Atomic, "one winner each (atomic)", fmt.Sprintf("%d to %d winners (NOT ATOMIC)", r.Link.MinWinners, r.Link.MaxWinners)),
			r.Link.LosingError, yes(r.Link.SeenAsExist, "", " (NOT taken as \"exists\")"))
		fmt.Fprintf(w, "  link counts:      %s\n", yes(r.LinkCounts.Reported, "reported (2 after a link)",
			fmt.Sprintf("not reported (%d after a link)", r.LinkCounts.AfterLink)))
		gran := time.Duration(r.Times.GranularityNS)
		fmt.Fprintf(w, "  file times:       %s\n", yes(gran >= time.Second, fmt.Sprintf("whole seconds (steps of %v)", gran), fmt.Sprintf("steps of %v", gran)))
		if math.Abs(r.Clock.OffsetSeconds) < 0.1 {
			fmt.Fprintf(w, "  clock offset:     none that matters (%s ± %s, file server minus this host)\n", signed(secs(r.Clock.OffsetSeconds)), human(secs(r.Clock.UncertaintySeconds)))
		} else {
			fmt.Fprintf(w, "  clock offset:     %s ± %s (file server minus this host)\n", signed(secs(r.Clock.OffsetSeconds)), human(secs(r.Clock.UncertaintySeconds)))
		}
		fmt.Fprintf(w, "  rename onto name: %s\n", yes(r.Rename.Replaces,
			yes(r.Rename.Atomic, fmt.Sprintf("replaces it, atomically (%d replacements watched)", r.Rename.Rounds), "replaces it, NOT atomically"),
			"DOES NOT REPLACE IT "+r.Rename.Error))
		switch {
		case r.Silly.Error != "":
			fmt.Fprintf(w, "  silly renames:    %s\n", r.Silly.Error)
		case r.Silly.Seen:
			fmt.Fprintf(w, "  silly renames:    yes (%s)\n", r.Silly.Name)
		default:
			fmt.Fprintf(w, "  silly renames:    none\n")
		}
	} else {
		fmt.Fprintf(w, "  probe:            FAILED (see the problem below)\n")
	}
	cr := r.Contention
	fmt.Fprintf(w, "  contention:       %d processes × %d increments in %s: counter %d, %d lost updates\n",
		cr.Processes, cr.Cycles, human(secs(cr.Seconds)), cr.Counter, cr.LostUpdates)
	fmt.Fprintf(w, "verdict: %s; use a lifetime of at least %s and a slop of at least %s here\n", r.Verdict, human(secs(r.LifetimeSeconds)), human(secs(r.SlopSeconds)))
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
