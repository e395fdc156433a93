//go:build unix

package interop

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The environment variables that choose the flufl.lock under test.
const (
	// pythonEnv names the Python interpreter (default defaultPython): an
	// absolute path, or a name looked up in PATH.
	pythonEnv = "NFSLOCK_PYTHON"
	// pythonPathEnv lists absolute directories, separated as in PATH, put
	// ahead of PYTHONPATH for every Python process the tests start: the
	// way to test a flufl.lock that is unpacked somewhere rather than
	// installed (.ci/flufl9.sh does this with Debian unstable's).
	pythonPathEnv = "NFSLOCK_PYTHONPATH"
	// interopEnv set to "required" turns a missing flufl.lock from a skip
	// into a failure (CI sets it). Unset or empty, the tests skip.
	interopEnv = "NFSLOCK_INTEROP"
)

// defaultPython has Debian's python3-flufl.lock. A python3 earlier on PATH
// (pyenv, a virtualenv) does not see Debian's packages.
const defaultPython = "/usr/bin/python3"

// installHint says what to install to run the tests.
const installHint = "To run the interoperability tests, install it: apt-get install python3-flufl.lock (Debian, Ubuntu), " +
	"or name a Python that has it with " + pythonEnv + "=/path/to/python3"

// fluflUnderTest describes the Python and flufl.lock the tests run.
type fluflUnderTest struct {
	python     string   // the interpreter
	pythonPath []string // from NFSLOCK_PYTHONPATH
	version    string   // flufl.lock.__version__
	file       string   // flufl.lock.__file__
	host       string   // socket.getfqdn()
}

func (f fluflUnderTest) String() string {
	s := fmt.Sprintf("flufl.lock %s (%s) with %s", f.version, f.file, f.python)
	if len(f.pythonPath) > 0 {
		s += fmt.Sprintf(", %s=%s", pythonPathEnv, strings.Join(f.pythonPath, string(os.PathListSeparator)))
	}
	return s
}

var (
	fluflOnce sync.Once
	flufl     fluflUnderTest
	fluflErr  error // flufl.lock cannot be imported
)

// python returns the interpreter the tests run.
func python() string {
	if p := os.Getenv(pythonEnv); p != "" {
		return p
	}
	return defaultPython
}

// pythonPath returns the directories of NFSLOCK_PYTHONPATH.
func pythonPath() []string {
	return filepath.SplitList(os.Getenv(pythonPathEnv))
}

// checkEnv reports an error for a setting of the environment variables
// that cannot be right. Such a setting fails the tests rather than skipping
// them: it is a mistake to correct, not something missing.
func checkEnv() (required bool, err error) {
	switch v := os.Getenv(interopEnv); v {
	case "":
	case "required":
		required = true
	default:
		return false, fmt.Errorf("%s=%q: want %q or unset", interopEnv, v, "required")
	}
	// go test runs a test binary in its package's directory, and the Python
	// processes run in temporary directories: a relative path would name
	// something else than the user meant.
	if p := python(); strings.ContainsRune(p, filepath.Separator) && !filepath.IsAbs(p) {
		return required, fmt.Errorf("%s=%q: want an absolute path or a name to look up in PATH", pythonEnv, p)
	}
	for _, dir := range pythonPath() {
		if !filepath.IsAbs(dir) {
			return required, fmt.Errorf("%s: %q is not an absolute path", pythonPathEnv, dir)
		}
	}
	return required, nil
}

// pythonCommand returns a command that runs the Python under test, with the
// directories of NFSLOCK_PYTHONPATH ahead of PYTHONPATH.
func pythonCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(python(), args...)
	if dirs := pythonPath(); len(dirs) > 0 {
		if old := os.Getenv("PYTHONPATH"); old != "" {
			dirs = append(dirs, old)
		}
		cmd.Env = append(os.Environ(), "PYTHONPATH="+strings.Join(dirs, string(os.PathListSeparator)))
	}
	return cmd
}

// requireFlufl skips t, saying what to install, if the Python under test
// cannot import flufl.lock; with NFSLOCK_INTEROP=required it fails t
// instead. If t fails later, the flufl.lock under test is logged.
func requireFlufl(t *testing.T) {
	t.Helper()
	required, err := checkEnv()
	if err != nil {
		t.Fatal(err)
	}
	fluflOnce.Do(func() {
		var r reply
		if r, fluflErr = runDriver("version"); fluflErr == nil {
			flufl = fluflUnderTest{python: python(), pythonPath: pythonPath(),
				version: r.Version, file: r.File, host: r.Hostname}
		}
	})
	if fluflErr != nil {
		where := python()
		if dirs := pythonPath(); len(dirs) > 0 {
			where += fmt.Sprintf(" (%s=%s)", pythonPathEnv, strings.Join(dirs, string(os.PathListSeparator)))
		}
		if required {
			t.Fatalf("%s=required, but flufl.lock cannot be imported by %s: %v\n%s.", interopEnv, where, fluflErr, installHint)
		}
		t.Skipf("skipping: flufl.lock cannot be imported by %s: %v\n%s. With %s=required this is a failure.",
			where, fluflErr, installHint, interopEnv)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("under test: %s", flufl)
		}
	})
}

// lastLine returns the last non-empty line of out: the exception of a
// Python traceback.
func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// major returns the major version of the flufl.lock under test.
func (f fluflUnderTest) major() (int, error) {
	s, _, _ := strings.Cut(f.version, ".")
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("flufl.lock version %q does not start with a number", f.version)
	}
	return n, nil
}

// TestFluflMissing runs TestFluflVersion in a child test binary that cannot
// import flufl.lock, as on a machine without python3-flufl.lock: it must
// skip, saying what to install, and with NFSLOCK_INTEROP=required fail,
// saying what is missing. A setting that cannot be right always fails.
func TestFluflMissing(t *testing.T) {
	dir := t.TempDir()
	// The Python under test without its site directories (-S): none of the
	// installed packages, so no flufl.lock.
	noFlufl := filepath.Join(dir, "python-without-flufl")
	script := fmt.Sprintf("#!/bin/sh\nexec '%s' -S \"$@\"\n", strings.ReplaceAll(python(), "'", `'\''`))
	if err := os.WriteFile(noFlufl, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var noModule []string // the Python exception, when there is a Python
	if _, err := exec.LookPath(python()); err == nil {
		noModule = []string{"No module named 'flufl'"}
	}
	absent := filepath.Join(dir, "absent", "python3")
	const (
		skip = "--- SKIP: TestFluflVersion"
		fail = "--- FAIL: TestFluflVersion"
		hint = "apt-get install python3-flufl.lock"
	)
	for _, tc := range []struct {
		name, python, interop string
		wantFail              bool
		want                  []string
	}{
		{"no flufl.lock", noFlufl, "", false,
			append([]string{skip, noFlufl, hint, interopEnv + "=required"}, noModule...)},
		{"no flufl.lock, required", noFlufl, "required", true,
			append([]string{fail, interopEnv + "=required", noFlufl, hint}, noModule...)},
		{"no python", absent, "", false,
			[]string{skip, absent, "no such file or directory", hint}},
		{"no python, required", absent, "required", true,
			[]string{fail, interopEnv + "=required", absent, "no such file or directory", hint}},
		{"NFSLOCK_INTEROP misspelt", noFlufl, "yes", true,
			[]string{fail, interopEnv + `="yes"`}},
		{"relative NFSLOCK_PYTHON", "bin/python3", "", true,
			[]string{fail, pythonEnv + `="bin/python3"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFluflVersion$", "-test.v", "-test.count=1")
			cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
				name, _, _ := strings.Cut(kv, "=")
				return name == pythonEnv || name == pythonPathEnv || name == interopEnv
			})
			cmd.Env = append(cmd.Env, pythonEnv+"="+tc.python, interopEnv+"="+tc.interop)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case tc.wantFail && !errors.As(err, &exit):
				t.Errorf("with %s=%s %s=%s the test binary ended with %v, want a failure", pythonEnv, tc.python, interopEnv, tc.interop, err)
			case !tc.wantFail && err != nil:
				t.Errorf("with %s=%s %s=%s the test binary ended with %v, want success (a skip)", pythonEnv, tc.python, interopEnv, tc.interop, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("the output does not say %q", w)
				}
			}
			if t.Failed() {
				t.Logf("output of the test binary:\n%s", out)
			}
		})
	}
}
