//go:build unix

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests build the nfslock binary once and drive it as a shell user
// would: with os/exec, and with bash scripts where the point is shell use.

// nfslockBin is the binary under test, built by TestMain.
var nfslockBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nfslock-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	nfslockBin = filepath.Join(dir, "nfslock")
	build := exec.Command(goTool(), "build", "-o", nfslockBin, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as released: one static binary
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building nfslock: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

// commandTimeout bounds every run of nfslock or bash in these tests, so
// that a hang fails the test instead of stalling it.
const commandTimeout = 40 * time.Second

// result is how a process ended.
type result struct {
	stdout, stderr string
	code           int // the exit status as a shell reports it: 128+n for signal n
}

func (r result) String() string {
	return fmt.Sprintf("exit status %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// proc is a process started in the background.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr syncBuffer
	done   chan struct{}
	res    result
}

// start starts nfslock with args in dir (env: extra variables).
func start(t *testing.T, dir string, env []string, args ...string) *proc {
	t.Helper()
	return startCmd(t, dir, env, nfslockBin, args...)
}

func startCmd(t *testing.T, dir string, env []string, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, done: make(chan struct{})}
	p.cmd = exec.Command(name, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), append([]string{"NFSLOCK=" + nfslockBin}, env...)...)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	// In a session of its own, without a controlling terminal: nfslock
	// run from a terminal's foreground leaves the terminal's signals to it
	// (TestCtrlCOnce), whatever terminal the tests are run from.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// A process left holding stdout (a job that outlived nfslock) fails
	// the test instead of hanging it.
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s %q: %v", name, args, err)
	}
	go func() {
		err := p.cmd.Wait()
		p.res = result{stdout: p.stdout.String(), stderr: p.stderr.String(), code: shellStatus(p.cmd.ProcessState, err)}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to end, failing the test if it does not
// within timeout.
func (p *proc) wait(timeout time.Duration) result {
	p.t.Helper()
	select {
	case <-p.done:
		return p.res
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		p.t.Fatalf("%q still running after %v; killed it\n%v", p.cmd.Args, timeout, p.res)
		return result{}
	}
}

func (p *proc) signal(s syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(s); err != nil {
		p.t.Fatalf("sending %v to %q: %v", s, p.cmd.Args, err)
	}
}

// run runs nfslock with args in dir and waits for it.
func run(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return start(t, dir, nil, args...).wait(commandTimeout)
}

// bash runs a bash script in dir, with $NFSLOCK naming the binary.
func bash(t *testing.T, dir, script string, env ...string) result {
	t.Helper()
	bashPath, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash is not installed; these tests drive nfslock from bash scripts")
	}
	return startCmd(t, dir, env, bashPath, "-c", script).wait(commandTimeout)
}

func shellStatus(ps *os.ProcessState, err error) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return -1
	}
	return ps.ExitCode()
}

// waitUntil polls cond until it holds, failing the test if it does not
// within timeout.
func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waited %v for %s", timeout, what)
		case <-time.After(20 * time.Millisecond):
		}
	}
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

// wantFiles fails the test unless dir holds exactly want.
func wantFiles(t *testing.T, dir string, want ...string) {
	t.Helper()
	got := files(t, dir)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("files in the lock directory:\n got  %q\n want %q", got, want)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// syncBuffer is a bytes.Buffer that may be read while a process writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
