package conformance

import (
	"flag"
	"os"
	"strconv"
	"testing"

	"pgregory.net/rapid"
)

// How many random cases (checks) each property test tries.
//
// rapid's own default, 100, finds the breaking races of a weakened lock
// only now and then; a backend says how many it can afford (Backend.Checks:
// memfs, where a check costs well under a millisecond, thousands), and
// NFSLOCK_DEEP=1 multiplies that for a deep pass before a release. The race
// detector divides it by ten (but not below 100). An explicit
// -rapid.checks (or RAPID_CHECKS) wins over all of these.

// DefaultChecks is the number of checks of each property test for a backend
// that does not set Backend.Checks.
const DefaultChecks = 200

// deepFactor multiplies the checks when NFSLOCK_DEEP is set.
const deepFactor = 10

// raceFactor divides them under the race detector, which makes a check
// ten to a hundred times slower: a run with -race looks for data races in
// the lock, a run without it for breaking races.
const raceFactor = 10

// checksFor returns how many checks the property tests run against b.
func checksFor(b Backend) int {
	n := b.Checks
	if n <= 0 {
		n = DefaultChecks
	}
	if deep() {
		n *= deepFactor
	}
	if raceDetector {
		n = max(n/raceFactor, min(n, 100))
	}
	return n
}

// deep reports whether NFSLOCK_DEEP asks for the deep pass.
func deep() bool {
	v := os.Getenv("NFSLOCK_DEEP")
	return v != "" && v != "0"
}

// checksSetExplicitly reports whether the user chose rapid's number of
// checks, on the command line or in the environment.
func checksSetExplicitly() bool {
	if _, ok := os.LookupEnv("RAPID_CHECKS"); ok {
		return true
	}
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "rapid.checks" })
	return set
}

// check runs rapid.Check with prop at the depth chosen for b (times scale,
// for a property that needs more cases than the others), unless the user
// chose the number of checks.
func check(t *testing.T, b Backend, scale int, prop func(*rapid.T)) {
	t.Helper()
	if !checksSetExplicitly() {
		defer setFlag("rapid.checks", func(string) string { return strconv.Itoa(checksFor(b) * max(scale, 1)) })()
	}
	rapid.Check(t, prop)
}
