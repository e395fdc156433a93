//go:build unix

package interop

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
)

// goOptions are added to every Go lock the tests make.
var goOptions []locker.Option

// reply is one line of JSON from flufl_driver.py.
type reply struct {
	OK         bool    `json:"ok"`
	Error      string  `json:"error"`
	Message    string  `json:"message"`
	Version    string  `json:"version"`
	File       string  `json:"file"`
	Hostname   string  `json:"hostname"`
	PID        int     `json:"pid"`
	LockFile   string  `json:"lockfile"`
	Value      any     `json:"value"`
	Elapsed    float64 `json:"elapsed"`
	Cycles     int     `json:"cycles"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error"`
}

func driverPath() string { return filepath.Join("testdata", "flufl_driver.py") }

// runDriver runs one command of the driver and returns its reply. If the
// driver fails, the error ends with the last line it printed: the Python
// exception.
func runDriver(args ...string) (reply, error) {
	out, err := pythonCommand(append([]string{driverPath()}, args...)...).CombinedOutput()
	if err != nil {
		if len(out) > 0 {
			err = fmt.Errorf("%w: %s", err, lastLine(out))
		}
		return reply{}, err
	}
	var r reply
	if err := json.Unmarshal(out, &r); err != nil {
		return reply{}, fmt.Errorf("driver said %q: %v", out, err)
	}
	return r, nil
}

// pyLock is a Python process with one flufl.lock.Lock, obeying commands.
type pyLock struct {
	t    *testing.T
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Scanner
	PID  int
	Host string
}

// startPy starts a Python process with a flufl.lock.Lock on path with the
// given lifetime. Its working directory is dir, so that nothing flufl.lock
// does with a relative name can touch the repository.
func startPy(t *testing.T, dir, path string, lifetime time.Duration) *pyLock {
	t.Helper()
	driver, err := filepath.Abs(driverPath())
	if err != nil {
		t.Fatal(err)
	}
	cmd := pythonCommand(driver, "serve", path, fmt.Sprint(lifetime.Seconds()))
	cmd.Dir = dir
	cmd.Stderr = &testWriter{t: t, prefix: "python: "}
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", python(), err)
	}
	p := &pyLock{t: t, cmd: cmd, in: in, out: bufio.NewScanner(stdout)}
	t.Cleanup(p.stop)
	r := p.read()
	p.PID, p.Host = r.PID, r.Hostname
	if p.PID != cmd.Process.Pid {
		t.Fatalf("driver reports pid %d, started pid %d", p.PID, cmd.Process.Pid)
	}
	return p
}

func (p *pyLock) read() reply {
	p.t.Helper()
	if !p.out.Scan() {
		p.t.Fatalf("python process %d said nothing more (err %v)", p.cmd.Process.Pid, p.out.Err())
	}
	var r reply
	if err := json.Unmarshal(p.out.Bytes(), &r); err != nil {
		p.t.Fatalf("python said %q: %v", p.out.Text(), err)
	}
	return r
}

// do sends one command and returns the reply, whether it succeeded or not.
func (p *pyLock) do(cmd string) reply {
	p.t.Helper()
	if _, err := fmt.Fprintln(p.in, cmd); err != nil {
		p.t.Fatalf("python %q: %v", cmd, err)
	}
	return p.read()
}

// must sends one command and fails the test if it did not succeed.
func (p *pyLock) must(cmd string) reply {
	p.t.Helper()
	r := p.do(cmd)
	if !r.OK {
		p.t.Fatalf("python %s: %s: %s", cmd, r.Error, r.Message)
	}
	return r
}

// exit ends the process without unlocking: a holder that died.
func (p *pyLock) exit() {
	p.t.Helper()
	p.must("exit")
	p.in.Close()
	if err := p.cmd.Wait(); err != nil {
		p.t.Errorf("python process %d: %v", p.PID, err)
	}
	p.cmd = nil
}

func (p *pyLock) stop() {
	if p.cmd == nil {
		return
	}
	p.in.Close()
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
}

type testWriter struct {
	t      *testing.T
	prefix string
}

func (w *testWriter) Write(b []byte) (int, error) {
	w.t.Logf("%s%s", w.prefix, strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// newGoLock returns a Go lock on path with the posix backend.
func newGoLock(t *testing.T, path string, opts ...locker.Option) *locker.Lock {
	t.Helper()
	l, err := locker.New(path, posix.New(), append(slices.Clone(goOptions), opts...)...)
	if err != nil {
		t.Fatalf("locker.New: %v", err)
	}
	return l
}

// files lists the names in dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// wantFiles fails t unless dir holds exactly the names want.
func wantFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := files(t, dir)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("files left in the directory: %q, want %q", got, want)
	}
}

// age sets the lock file's times to d in the past: an expired lock without
// the wait.
func age(t *testing.T, path string, d time.Duration) {
	t.Helper()
	past := time.Now().Add(-d)
	if err := os.Chtimes(path, past, past); err != nil {
		t.Fatal(err)
	}
}
