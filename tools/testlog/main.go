// Command testlog prints the output of `go test -json` for a CI log, so
// that a failure deep in a long -v run can be read where a reader of the
// log looks: after the failing test's top-level result, and at the end.
//
//	go test -json ./... | go run ./tools/testlog
//
// It prints what `go test -v` prints, less the === RUN, PAUSE, CONT and NAME
// lines, rapid's "[rapid] draw" lines, and the "--- PASS" lines of subtests
// more than one level deep (a suite of a thousand subtests would otherwise
// end in a thousand of them, burying the one that failed). Skips and
// failures are all kept.
//
// When the input ends it prints, for each failed test none of whose
// subtests failed, its name and its own output (the last maxLines lines of
// it), and then a last line naming them all. It exits 1 if a test, a
// package or a build failed, and 0 otherwise, so that
// `set -o pipefail` sees go test's verdict through it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// maxLines is how much of a failed test's output the summary repeats.
const maxLines = 120

var (
	hidden     = regexp.MustCompile(`^=== (RUN|PAUSE|CONT|NAME) |\[rapid\] draw `)
	deepPass   = regexp.MustCompile(`^\s*--- PASS: [^ /]+/[^ /]+/`)
	resultLine = regexp.MustCompile(`^\s*--- (PASS|FAIL|SKIP): `)
)

// key names a test across packages.
type key struct{ pkg, test string }

func main() {
	failed, err := run(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testlog:", err)
		os.Exit(2)
	}
	if failed {
		os.Exit(1)
	}
}

// run copies in to out as described above and reports whether anything
// failed.
func run(in io.Reader, out io.Writer) (failed bool, err error) {
	w := bufio.NewWriter(out)
	defer w.Flush()

	outputs := map[key][]string{} // each test's own lines, result lines left out
	var failures []key            // tests and packages that failed, in order

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event: go's own message (a build failure before
			// Go 1.24, a panic of the go command). Keep it.
			fmt.Fprintf(w, "%s\n", line)
			continue
		}
		k := key{e.Package, e.Test}
		switch e.Action {
		case "output", "build-output":
			text := e.Output
			if hidden.MatchString(text) || deepPass.MatchString(text) {
				continue
			}
			io.WriteString(w, text)
			if e.Test != "" && !resultLine.MatchString(text) {
				outputs[k] = append(outputs[k], text)
			}
		case "fail", "build-fail":
			failed = true
			failures = append(failures, k)
		}
		w.Flush()
	}
	if err := sc.Err(); err != nil {
		return failed, err
	}
	if !failed {
		return false, nil
	}

	// A failed test none of whose subtests failed is where the failure is;
	// its parents failed because it did.
	var leaves []key
	for _, f := range failures {
		if f.test == "" {
			continue
		}
		leaf := true
		for _, g := range failures {
			if g.pkg == f.pkg && strings.HasPrefix(g.test, f.test+"/") {
				leaf = false
				break
			}
		}
		if leaf {
			leaves = append(leaves, f)
		}
	}
	fmt.Fprintf(w, "\n== testlog: %d failed %s, each with its own output:\n", len(leaves), plural(len(leaves), "test", "tests"))
	for _, l := range leaves {
		lines := outputs[l]
		fmt.Fprintf(w, "--- FAILED: %s (%s)\n", l.test, l.pkg)
		if len(lines) > maxLines {
			fmt.Fprintf(w, "    [the first %d lines left out]\n", len(lines)-maxLines)
			lines = lines[len(lines)-maxLines:]
		}
		for _, s := range lines {
			io.WriteString(w, s)
			if !strings.HasSuffix(s, "\n") {
				io.WriteString(w, "\n")
			}
		}
	}
	var names, pkgs []string
	for _, l := range leaves {
		names = append(names, l.test)
	}
	for _, f := range failures {
		if f.test == "" {
			pkgs = append(pkgs, f.pkg)
		}
	}
	if len(names) == 0 {
		// A package failed with no test failing: a build failure, a panic
		// outside a test, a timeout before any test ended.
		fmt.Fprintf(w, "testlog: failed without a failing test: %s\n", strings.Join(pkgs, " "))
	} else {
		fmt.Fprintf(w, "testlog: failed: %s\n", strings.Join(names, " "))
	}
	return true, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
