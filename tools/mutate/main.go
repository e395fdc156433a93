// Command mutate is the mutation test of the locker: it weakens the
// locker's safety checks one at a time (mutations.go lists them) and runs
// the conformance suite on the in-memory backend against each weakened
// locker, exactly as CI runs it, to show that the suite notices.
//
// Run it from anywhere in a checkout of the repository:
//
//	go run ./tools/mutate              # every mutation; prints the table
//	go run ./tools/mutate -run sweep   # the mutations whose id matches
//	go run ./tools/mutate -list        # the list, without running anything
//	go run ./tools/mutate -report      # the planted-bug search report
//
// A mutation replaces a piece of code in a function of the locker package,
// named by the function and a pattern within it (see Mutation), so that it
// follows the function to another file and through re-indentation. The
// source tree is never changed: the mutated files are written to a
// temporary directory and handed to the go command with -overlay. Before
// anything runs, every mutation is applied in memory and every mutant is
// type-checked: a function not found, a pattern not found exactly once in
// it, or a mutant that does not compile is an error naming the mutation,
// so that a mutation never silently stops applying when the code changes.
//
// Each mutation is run as
//
//	go test -count=1 -failfast -overlay=<tmp> github.com/nfslock/nfslock/backend-memfs
//
// and is killed if the suite fails, and survives if it passes. Mutations
// known to be equivalent (no test can tell them from the original, for a
// reason given in the list) are run too: one that the suite kills is
// reported, since the reason given for it is then wrong; unless the
// unmutated suite fails the same test with the same seed, which is reported
// as what it is: a bug of the locker that the suite found by chance. The
// exit status is 0 only if every mutation not listed as equivalent was
// killed and every equivalent one survived.
//
// The report (-report) takes the planted bugs (the mutations marked
// planted), and for each property test of the suite runs it with many
// seeds, counting the checks (random cases) it needs to find the bug: the
// median and the worst over the seeds, against the number of checks the
// suite runs by default (CI's depth), which it measures first.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// suitePkg is the package whose tests judge each mutation: the conformance
// suite on the in-memory backend, with the backend's own tests.
const suitePkg = "github.com/nfslock/nfslock/backend-memfs"

func main() {
	var (
		runFlag    = flag.String("run", "", "run only the mutations whose id matches this `regexp`")
		list       = flag.Bool("list", false, "print the mutations and exit")
		report     = flag.Bool("report", false, "print the planted-bug search report instead of the mutation table")
		seeds      = flag.Int("seeds", 30, "report: `seeds` per planted bug and property")
		limit      = flag.Int("limit", 10000, "report: give up on a seed after this many `checks`")
		verbose    = flag.Bool("v", false, "print the suite's output for each mutation")
		timeout    = flag.Duration("timeout", 10*time.Minute, "give up on the suite for one mutation after this long (counted as killed: the suite did not pass)")
		extraFlags = flag.String("testflags", "", "extra `flags` for go test, such as -race")
		props      = flag.String("props", strings.Join(properties, ","), "report: the property `tests` to run, under TestConformance, comma-separated")
		scenarios  = flag.Bool("scenarios", false, "judge each mutation by the suite's scenarios alone, not its property tests: about half the time (CI's step); a kill must name a scenario anyway, but a mutation listed as equivalent is then not checked against the property tests")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./tools/mutate [flags]\n\nMutation test of the locker module against the conformance suite on memfs.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 0 {
		flag.Usage()
		os.Exit(2)
	}
	root, err := repoRoot()
	if err != nil {
		fatalf("%v", err)
	}
	var sel *regexp.Regexp
	if *runFlag != "" {
		if sel, err = regexp.Compile(*runFlag); err != nil {
			fatalf("-run: %v", err)
		}
	}
	ms, err := prepare(root, mutations, sel)
	if err != nil {
		fatalf("%v", err)
	}
	if *list {
		printList(ms)
		return
	}
	if err := typeCheck(root, ms); err != nil {
		fatalf("%v", err)
	}
	tmp, err := os.MkdirTemp("", "nfslock-mutate-")
	if err != nil {
		fatalf("%v", err)
	}
	defer os.RemoveAll(tmp)
	r := &runner{root: root, tmp: tmp, verbose: *verbose, timeout: *timeout, testFlags: strings.Fields(*extraFlags)}
	if *scenarios {
		r.judgeFlags = deterministic
	}
	if *report {
		properties = strings.Split(*props, ",")
		if err := r.report(ms, *seeds, *limit); err != nil {
			fatalf("%v", err)
		}
		return
	}
	if !r.run(ms) {
		os.Exit(1)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "mutate: "+format+"\n", args...)
	os.Exit(2)
}

// repoRoot finds the checkout: the directory holding go.work, from the
// working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "locker", "go.mod")); err == nil {
				return dir, nil
			}
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("not inside a checkout of nfslock (no go.work with a locker module above the working directory)")
		}
		dir = up
	}
}

// prepared is a mutation with the files it changes, mutated.
type prepared struct {
	Mutation
	files map[string][]byte // by absolute path
}

// prepare applies every mutation in memory, and returns the selected
// ones. It fails, naming every mutation that no longer applies and why, if
// a function an edit names is not found, or its pattern is not found
// exactly once in it; or if two mutations share an id, or one changes
// nothing.
func prepare(root string, all []Mutation, sel *regexp.Regexp) ([]prepared, error) {
	pkg, err := loadPackage(filepath.Join(root, lockerDir))
	if err != nil {
		return nil, err
	}
	var out []prepared
	var problems []string
	seen := map[string]bool{}
	for _, m := range all {
		if seen[m.ID] {
			problems = append(problems, fmt.Sprintf("%s: two mutations have this id", m.ID))
		}
		seen[m.ID] = true
		changed, err := pkg.apply(m)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", m.ID, err))
			continue
		}
		if !slices.ContainsFunc(m.Edits, func(e Edit) bool { return !sameTokens(e.Old, e.New) }) {
			problems = append(problems, fmt.Sprintf("%s: changes nothing: each edit's New is its Old", m.ID))
			continue
		}
		if sel == nil || sel.MatchString(m.ID) {
			files := map[string][]byte{}
			for name, src := range changed {
				files[filepath.Join(pkg.dir, name)] = src
			}
			out = append(out, prepared{Mutation: m, files: files})
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("mutations that no longer apply (update tools/mutate/mutations.go to the code as it is now):\n  %s", strings.Join(problems, "\n  "))
	}
	if len(out) == 0 {
		return nil, errors.New("no mutation selected")
	}
	return out, nil
}

// typeCheck type-checks each prepared mutant of the locker package, and
// fails naming every one that does not compile. It makes the imports a
// mutant leaves unused blank imports, in place (see checker.check).
func typeCheck(root string, ms []prepared) error {
	pkg, err := loadPackage(filepath.Join(root, lockerDir))
	if err != nil {
		return err
	}
	c, err := newChecker(context.Background(), root, pkg)
	if err != nil {
		return err
	}
	if _, err := c.check(nil); err != nil {
		return fmt.Errorf("the locker itself does not compile: %v", err)
	}
	var problems []string
	for _, m := range ms {
		changed := map[string][]byte{}
		for path, src := range m.files {
			changed[filepath.Base(path)] = src
		}
		fixed, err := c.check(changed)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", m.ID, err))
			continue
		}
		for path := range m.files {
			m.files[path] = fixed[filepath.Base(path)]
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("mutants that do not compile (update their New in tools/mutate/mutations.go):\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func printList(ms []prepared) {
	for _, m := range ms {
		var funcs []string
		for _, e := range m.Edits {
			if !slices.Contains(funcs, e.Func) {
				funcs = append(funcs, e.Func)
			}
		}
		fmt.Printf("%-28s %s: %s\n", m.ID, strings.Join(funcs, ", "), m.Desc)
		if m.Equivalent != "" {
			fmt.Printf("%-28s   equivalent: %s\n", "", m.Equivalent)
		}
	}
}

type runner struct {
	root      string
	tmp       string
	verbose   bool
	timeout   time.Duration
	testFlags []string
	// judgeFlags select the tests that judge a mutation: all of the
	// suite, or its scenarios alone (-scenarios).
	judgeFlags []string
}

// overlay writes m's mutated files and the overlay that puts them in place
// of the originals, and returns the overlay's path.
func (r *runner) overlay(m prepared) (string, error) {
	dir := filepath.Join(r.tmp, m.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	replace := map[string]string{}
	for path, src := range m.files {
		file := filepath.Join(dir, filepath.Base(path))
		if err := os.WriteFile(file, src, 0o644); err != nil {
			return "", err
		}
		replace[path] = file
	}
	ov, err := json.Marshal(map[string]map[string]string{"Replace": replace})
	if err != nil {
		return "", err
	}
	ovPath := filepath.Join(dir, "overlay.json")
	return ovPath, os.WriteFile(ovPath, ov, 0o644)
}

// goCmd runs the go command in the checkout, with NFSLOCK_DEEP and rapid's
// environment variables removed so that the suite runs at its default depth.
func (r *runner) goCmd(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = r.root
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "NFSLOCK_DEEP=") || strings.HasPrefix(kv, "RAPID_")
	})
	return cmd
}

// outcome is what the suite did with one mutation.
type outcome struct {
	killed bool
	by     string // the failing test
	msg    string // its first message
	seed   string // the seed of the failing rapid property, if one failed
	// unmutatedFails is set when a mutation listed as equivalent was
	// killed and the unmutated suite fails the same test with the same
	// seed: the suite found a bug in the locker (or is itself flaky),
	// not a difference the mutation makes.
	unmutatedFails bool
	// byChanceOnly is set when only a property test's random cases
	// killed the mutation, no scenario: at CI's depth it then survives
	// now and then, and a CI run fails by chance.
	byChanceOnly bool
	// killedOnce, for a mutation listed as equivalent, is what killed it
	// the first time it was judged, by no violation, when a second
	// judgment passed.
	killedOnce string
	err        error // the mutation could not be judged (it does not compile)
	took       time.Duration
}

// judge runs the suite once, with the overlay ov ("" for the original),
// and with the extra go test flags (such as deterministic).
func (r *runner) judge(ov string, extra ...string) outcome {
	args := []string{"test", "-count=1", "-failfast", "-timeout", r.timeout.String()}
	args = append(args, r.testFlags...)
	args = append(args, extra...)
	if ov != "" {
		args = append(args, "-overlay", ov)
	}
	// rapid must not save failing cases in the source tree: the next
	// mutation's run would replay them first.
	args = append(args, suitePkg, "-args", "-rapid.nofailfile")
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout+2*time.Minute)
	defer cancel()
	start := time.Now()
	out, err := r.goCmd(ctx, args...).CombinedOutput()
	o := outcome{took: time.Since(start)}
	if r.verbose {
		os.Stdout.Write(out)
	}
	if err == nil {
		return o
	}
	text := string(out)
	if strings.Contains(text, "[build failed]") || strings.Contains(text, "[setup failed]") {
		o.err = fmt.Errorf("does not build:\n%s", text)
		return o
	}
	o.killed = true
	o.by, o.msg = firstFailure(text)
	if o.by == "" {
		o.by, o.msg = "go test", lastLine(text)
	}
	if m := seedRE.FindStringSubmatch(text); m != nil {
		o.seed = m[1]
	}
	return o
}

// deterministic selects the tests of the suite that play fixed
// schedules, the same every run: the scenarios (the fencing ones
// included), not the property tests' random cases.
var deterministic = []string{
	"-run", `^TestConformance(LikeSSHFS)?$/^(Scenarios|Fencing|RWLock|Semaphore)$`,
	"-skip", `^TestConformance(LikeSSHFS)?$/^(Fencing|RWLock|Semaphore)$/^(StateMachine|Interleavings|Stress)$`,
}

// failsUnmutated reports whether the unmutated suite fails the test that
// o names with o's seed: whether what killed a mutation is a bug of the
// locker itself. Without a seed (not a property test) it runs the test
// once as it is.
func (r *runner) failsUnmutated(o outcome) bool {
	var pattern []string
	for _, part := range strings.Split(o.by, "/") {
		pattern = append(pattern, "^"+regexp.QuoteMeta(part)+"$")
	}
	args := []string{"test", "-count=1", "-timeout", r.timeout.String()}
	args = append(args, r.testFlags...)
	args = append(args, "-run", strings.Join(pattern, "/"), suitePkg, "-args", "-rapid.nofailfile")
	if o.seed != "" {
		args = append(args, "-rapid.seed="+o.seed)
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout+2*time.Minute)
	defer cancel()
	out, err := r.goCmd(ctx, args...).CombinedOutput()
	if r.verbose {
		os.Stdout.Write(out)
	}
	return err != nil
}

var (
	failLine = regexp.MustCompile(`(?m)^\s*--- FAIL: (\S+)`)
	msgLine  = regexp.MustCompile(`^\s+\S+\.go:\d+: (.*)$`)
	panicRE  = regexp.MustCompile(`(?m)^panic: (.*)$`)
	seedRE   = regexp.MustCompile(`-rapid\.seed=(\d+)`)
)

// firstFailure returns the most specific failing test in go test's output
// and the first message logged by a failing test.
func firstFailure(out string) (test, msg string) {
	for _, m := range failLine.FindAllStringSubmatch(out, -1) {
		if len(m[1]) > len(test) {
			test = m[1]
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if m := msgLine.FindStringSubmatch(line); m != nil {
			msg = m[1]
			if strings.HasPrefix(msg, "[rapid] failed") || strings.Contains(msg, "VIOLATED") || !strings.HasPrefix(msg, "[rapid]") {
				break
			}
		}
	}
	if msg == "" {
		if m := panicRE.FindStringSubmatch(out); m != nil {
			msg = "panic: " + m[1]
		}
	}
	return test, msg
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// run judges every mutation and prints the table. It reports whether the
// result is clean: every mutation killed, except the equivalent ones, which
// all survived.
func (r *runner) run(ms []prepared) bool {
	fmt.Printf("mutation test of the locker: %d mutations, each judged by go test %s %s\n", len(ms), strings.Join(r.judgeFlags, " "), suitePkg)
	fmt.Printf("the unmutated suite first: ")
	base := r.judge("", r.judgeFlags...)
	switch {
	case base.err != nil:
		fmt.Printf("%v\n", base.err)
		return false
	case base.killed:
		fmt.Printf("FAILS (%s%s: %s); fix it before judging mutations\n", base.by, seedNote(base.seed), base.msg)
		return false
	}
	fmt.Printf("passes (%v)\n\n", base.took.Round(time.Second))

	type row struct {
		m prepared
		o outcome
	}
	var rows []row
	for i, m := range ms {
		fmt.Fprintf(os.Stderr, "[%d/%d] %s ... ", i+1, len(ms), m.ID)
		ov, err := r.overlay(m)
		o := outcome{err: err}
		if err == nil {
			o = r.judge(ov, r.judgeFlags...)
		}
		if o.killed && m.Equivalent != "" {
			o.unmutatedFails = r.failsUnmutated(o)
			if !o.unmutatedFails && !strings.Contains(o.msg, "VIOLATED") {
				// A mutation listed as equivalent changes no outcome, only
				// the work done: a kill that names no violation may be a
				// busy machine upsetting a scenario's timing (a CI run
				// once "killed" acquire-lock-breaks-unexpired so, and
				// it passed when judged alone). It is judged again, and
				// stays killed only if killed again.
				if again := r.judge(ov, r.judgeFlags...); !again.killed {
					o = outcome{took: o.took + again.took, killedOnce: fmt.Sprintf("%s: %s", o.by, o.msg)}
				}
			}
		}
		if o.killed && o.seed != "" && m.Equivalent == "" && m.Rare == "" && r.judgeFlags == nil {
			// Killed by a property test: is it killed every run?
			o.byChanceOnly = !r.judge(ov, deterministic...).killed
		}
		fmt.Fprintf(os.Stderr, "%s (%v)\n", verdict(m, o), o.took.Round(time.Second))
		rows = append(rows, row{m, o})
	}

	fmt.Println("| mutation | what it does | result |")
	fmt.Println("|---|---|---|")
	counts := map[string]int{}
	for _, x := range rows {
		v := verdict(x.m, x.o)
		counts[v]++
		var detail string
		switch v {
		case "killed":
			detail = fmt.Sprintf("killed by %s: %s", x.o.by, shorten(x.o.msg, 160))
		case "equivalent":
			detail = "equivalent: " + x.m.Equivalent
			if x.o.killedOnce != "" {
				detail += fmt.Sprintf(" (failed once, naming no violation, and passed when judged again: %s)", shorten(x.o.killedOnce, 160))
			}
		case "SURVIVED":
			detail = "**SURVIVED**"
		case "rare":
			detail = "**survived at CI depth, a known gap**: " + x.m.Rare
		case "KILLED BUT LISTED AS EQUIVALENT":
			detail = fmt.Sprintf("**killed, but listed as equivalent** (%s) by %s: %s", x.m.Equivalent, x.o.by, shorten(x.o.msg, 160))
		case "KILLED ONLY BY RANDOM CASES":
			detail = fmt.Sprintf("**killed only by a property test's random cases**, no scenario (it survives now and then at CI's depth: pin the race down with a scenario): %s%s: %s", x.o.by, seedNote(x.o.seed), shorten(x.o.msg, 160))
		case "THE UNMUTATED LOCKER FAILS":
			detail = fmt.Sprintf("**the unmutated locker fails too**, a bug the suite found by chance while judging this mutation: %s%s: %s", x.o.by, seedNote(x.o.seed), shorten(x.o.msg, 160))
		default:
			detail = fmt.Sprintf("**ERROR**: %v", x.o.err)
		}
		fmt.Printf("| `%s` | %s | %s |\n", x.m.ID, x.m.Desc, strings.ReplaceAll(detail, "|", `\|`))
	}
	fmt.Printf("\n%d mutations: %d killed, %d equivalent, %d survived", len(rows), counts["killed"], counts["equivalent"], counts["SURVIVED"]+counts["rare"])
	if counts["rare"] > 0 {
		fmt.Printf(" (%d of them a known gap, listed with the depth that finds it)", counts["rare"])
	}
	if n := counts["KILLED BUT LISTED AS EQUIVALENT"] + counts["ERROR"]; n > 0 {
		fmt.Printf(", %d wrongly listed as equivalent or not judged", n)
	}
	if n := counts["KILLED ONLY BY RANDOM CASES"]; n > 0 {
		fmt.Printf(", %d killed only by the property tests' random cases, which a CI run may miss", n)
	}
	if n := counts["THE UNMUTATED LOCKER FAILS"]; n > 0 {
		fmt.Printf(", %d judged while the unmutated locker fails the same test with the same seed: a bug to fix first", n)
	}
	fmt.Println()
	if judged := len(rows) - counts["equivalent"]; judged > 0 {
		fmt.Printf("kill score: %d of %d non-equivalent mutations killed (%.0f%%)\n", counts["killed"], judged, 100*float64(counts["killed"])/float64(judged))
	}
	return counts["killed"]+counts["equivalent"]+counts["rare"] == len(rows)
}

func verdict(m prepared, o outcome) string {
	switch {
	case o.err != nil:
		return "ERROR"
	case o.killed && m.Equivalent != "" && o.unmutatedFails:
		return "THE UNMUTATED LOCKER FAILS"
	case o.killed && m.Equivalent != "":
		return "KILLED BUT LISTED AS EQUIVALENT"
	case o.killed && o.byChanceOnly:
		return "KILLED ONLY BY RANDOM CASES"
	case o.killed:
		return "killed"
	case m.Equivalent != "":
		return "equivalent"
	case m.Rare != "":
		return "rare"
	}
	return "SURVIVED"
}

// seedNote says how to run a failing property test again.
func seedNote(seed string) string {
	if seed == "" {
		return ""
	}
	return " (go test " + suitePkg + " -run it -rapid.seed=" + seed + ")"
}

func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// The report.

var (
	passedRE = regexp.MustCompile(`\[rapid\] OK, passed (\d+) tests`)
	failedRE = regexp.MustCompile(`\[rapid\] (?:failed|panic) after (\d+) tests`)
)

// report builds the suite's test binary for each planted bug and, for each
// property test, finds the bug with many seeds.
func (r *runner) report(ms []prepared, seeds, limit int) error {
	var planted []prepared
	for _, m := range ms {
		if m.Planted {
			planted = append(planted, m)
		}
	}
	if len(planted) == 0 {
		return errors.New("no planted bug selected")
	}
	// The depth CI runs: what each property test checks by default.
	base := filepath.Join(r.tmp, "suite.test")
	if err := r.build("", base); err != nil {
		return err
	}
	depth := map[string]int{}
	for _, p := range properties {
		out, _ := r.runTest(base, p)
		m := passedRE.FindStringSubmatch(out)
		if m == nil {
			return fmt.Errorf("the unmutated suite's %s did not pass:\n%s", p, out)
		}
		depth[p], _ = strconv.Atoi(m[1])
	}
	fmt.Printf("planted-bug search report: checks (random cases) until the suite on memfs finds each planted bug, over %d seeds\n", seeds)
	fmt.Printf("(a seed that finds nothing in %d checks counts as >%d; CI's depth is what the property checks by default)\n\n", limit, limit)
	fmt.Printf("| planted bug | property | CI's depth | found by seeds | median | worst |\n")
	fmt.Printf("|---|---|---|---|---|---|\n")
	var missed []string
	for _, m := range planted {
		ov, err := r.overlay(m)
		if err != nil {
			return err
		}
		bin := filepath.Join(r.tmp, m.ID+".test")
		if err := r.build(ov, bin); err != nil {
			return err
		}
		within := false
		for _, p := range properties {
			var counts []int
			found := 0
			for s := 1; s <= seeds; s++ {
				if s > giveUpAfter && found == 0 {
					break // this property does not find this bug
				}
				out, _ := r.runTest(bin, p, "-rapid.seed="+strconv.Itoa(s*7919), "-rapid.checks="+strconv.Itoa(limit))
				n := limit + 1
				if f := failedRE.FindStringSubmatch(out); f != nil {
					k, _ := strconv.Atoi(f[1])
					n = k + 1
					found++
				} else if strings.Contains(out, "[rapid] flaky test") {
					return fmt.Errorf("%s, %s, seed %d: rapid found a failure it could not reproduce: the property is not deterministic\n%s", m.ID, p, s*7919, out)
				}
				counts = append(counts, n)
			}
			if found == 0 {
				fmt.Printf("| `%s` | %s | %d | 0/%d | - | - |\n", m.ID, p, depth[p], len(counts))
				continue
			}
			slices.Sort(counts)
			med, worst := counts[len(counts)/2], counts[len(counts)-1]
			within = within || found == seeds && worst <= depth[p]
			fmt.Printf("| `%s` | %s | %d | %d/%d | %s | %s |\n", m.ID, p, depth[p], found, seeds, show(med, limit), show(worst, limit))
		}
		if !within {
			missed = append(missed, m.ID)
		}
	}
	if len(missed) > 0 {
		return fmt.Errorf("not found by every seed within CI's depth by any property: %s", strings.Join(missed, ", "))
	}
	fmt.Printf("\nevery planted bug is found by every seed within CI's depth\n")
	return nil
}

func show(n, limit int) string {
	if n > limit {
		return fmt.Sprintf(">%d", limit)
	}
	return strconv.Itoa(n)
}

// properties are the property tests of the suite the report runs, as
// -test.run patterns under TestConformance: the interleavings, which look
// for races (the state machine runs one operation at a time).
var properties = []string{
	"Interleavings/MutualExclusion",
	"Interleavings/ExpiredHolder",
}

// giveUpAfter is how many seeds in a row may find nothing before the report
// stops trying a property on a planted bug.
const giveUpAfter = 5

// build builds the suite's test binary, with the overlay ov if not "".
func (r *runner) build(ov, bin string) error {
	args := []string{"test", "-c", "-o", bin}
	if ov != "" {
		args = append(args, "-overlay", ov)
	}
	args = append(args, suitePkg)
	out, err := r.goCmd(context.Background(), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("building the suite: %v\n%s", err, out)
	}
	return nil
}

// runTest runs one property test of the built suite.
func (r *runner) runTest(bin, property string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	pattern := "^TestConformance$/^" + strings.ReplaceAll(property, "/", "$/^") + "$"
	all := append([]string{"-test.run", pattern, "-test.count=1", "-test.v", "-rapid.nofailfile", "-rapid.shrinktime=1ms"}, args...)
	cmd := exec.CommandContext(ctx, bin, all...)
	cmd.Dir = filepath.Join(r.root, "backend-memfs")
	cmd.Env = r.goCmd(ctx).Env
	var b bytes.Buffer
	cmd.Stdout, cmd.Stderr = &b, &b
	err := cmd.Run()
	return b.String(), err
}
