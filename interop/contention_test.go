//go:build unix

package interop

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// Mixed contention: Go processes (re-executions of this test binary) and
// flufl.lock processes increment one counter file under one lock.
const (
	contentionGoProcs = 2
	contentionPyProcs = 2
	contentionCycles  = 200
	// contentionLifetime is long enough that no lock expires: the test is
	// about exclusion, not breaking.
	contentionLifetime = 15 * time.Second
	// contentionPySleep replaces flufl.lock's 0.01-2.01 s wait between
	// tries (see flufl_driver.py), so that the test takes seconds.
	contentionPySleep = "0.01"
)

// workerEnv, set in the environment of a re-executed test binary, makes
// TestMixedContention do a Go worker's job: its value is the directory.
const workerEnv = "NFSLOCK_INTEROP_WORKER"

// workerPrefix starts a Go worker's lines on stdout.
const workerPrefix = "interop-worker: "

// result is one process's report, Go's or Python's.
type result struct {
	OK         bool    `json:"ok"`
	PID        int     `json:"pid"`
	Cycles     int     `json:"cycles"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"first_error"`
	Elapsed    float64 `json:"elapsed"`
}

func TestMixedContention(t *testing.T) {
	if dir := os.Getenv(workerEnv); dir != "" {
		goWorker(t, dir)
		return
	}
	requireFlufl(t)
	dir := t.TempDir()
	lockPath := filepath.Join(dir, "counter.lock")
	counter := filepath.Join(dir, "counter")
	driver, err := filepath.Abs(driverPath())
	if err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for i := range contentionGoProcs + contentionPyProcs {
		var cmd *exec.Cmd
		if i < contentionGoProcs {
			cmd = exec.Command(os.Args[0], "-test.run=^TestMixedContention$", "-test.count=1")
			cmd.Env = append(os.Environ(), workerEnv+"="+dir)
		} else {
			cmd = pythonCommand(driver, "count", lockPath, counter,
				strconv.Itoa(contentionCycles), fmt.Sprint(contentionLifetime.Seconds()), contentionPySleep)
			cmd.Dir = dir
		}
		cmd.Stderr = &testWriter{t: t, prefix: fmt.Sprintf("worker %d stderr: ", i)}
		cmds = append(cmds, cmd)
	}
	type proc struct {
		kind  string
		cmd   *exec.Cmd
		in    io.WriteCloser
		lines chan result
	}
	var procs []*proc
	var wg sync.WaitGroup
	for i, cmd := range cmds {
		kind := "go"
		if i >= contentionGoProcs {
			kind = "python"
		}
		in, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting a %s worker: %v", kind, err)
		}
		p := &proc{kind: kind, cmd: cmd, in: in, lines: make(chan result, 2)}
		procs = append(procs, p)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(p.lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				line := strings.TrimPrefix(sc.Text(), workerPrefix)
				var r result
				if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &r) != nil {
					continue // the testing package's own output
				}
				p.lines <- r
			}
		}()
	}
	defer func() {
		for _, p := range procs {
			p.in.Close()
		}
		wg.Wait()
		for _, p := range procs {
			p.cmd.Wait()
		}
	}()
	next := func(p *proc) result {
		t.Helper()
		select {
		case r, ok := <-p.lines:
			if !ok {
				t.Fatalf("%s worker %d ended without a report", p.kind, p.cmd.Process.Pid)
			}
			return r
		case <-time.After(2 * time.Minute):
			t.Fatalf("%s worker %d: no report within 2 minutes", p.kind, p.cmd.Process.Pid)
		}
		return result{}
	}
	for _, p := range procs {
		next(p) // ready
	}
	start := time.Now()
	for _, p := range procs {
		fmt.Fprintln(p.in, "go")
	}
	total := 0
	for _, p := range procs {
		r := next(p)
		t.Logf("%-6s pid %d: %d increments, %d errors, %.2f s", p.kind, r.PID, r.Cycles, r.Errors, r.Elapsed)
		if r.Errors > 0 || r.Cycles != contentionCycles {
			t.Errorf("%s worker %d made %d of %d increments, %d errors (first: %s)", p.kind, r.PID, r.Cycles, contentionCycles, r.Errors, r.FirstError)
		}
		total += r.Cycles
	}
	elapsed := time.Since(start)
	data, err := os.ReadFile(counter)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(string(data))
	if err != nil {
		t.Fatalf("counter file holds %q: %v", data, err)
	}
	lost := total - n
	t.Logf("mixed contention: %d Go + %d Python processes x %d cycles: counter %d, increments %d, lost updates %d, %v",
		contentionGoProcs, contentionPyProcs, contentionCycles, n, total, lost, elapsed.Round(time.Millisecond))
	if want := (contentionGoProcs + contentionPyProcs) * contentionCycles; n != want || lost != 0 {
		t.Errorf("MUTUAL EXCLUSION VIOLATED? counter %d, want %d; %d lost updates", n, want, lost)
	}
	wantFiles(t, dir, "counter")
}

// goWorker is a Go worker process: it waits for "go" on stdin, then makes
// contentionCycles increments under the lock and reports as JSON.
func goWorker(t *testing.T, dir string) {
	report := func(r result) {
		b, _ := json.Marshal(r)
		fmt.Printf("%s%s\n", workerPrefix, b)
	}
	l := newGoLock(t, filepath.Join(dir, "counter.lock"), locker.WithLifetime(contentionLifetime), locker.WithTimeout(30*time.Second))
	counter := filepath.Join(dir, "counter")
	report(result{OK: true, PID: os.Getpid()})
	sc := bufio.NewScanner(os.Stdin)
	if !sc.Scan() || sc.Text() != "go" {
		t.Fatal("interop worker: the parent did not say go")
	}
	start := time.Now()
	r := result{OK: true, PID: os.Getpid()}
	for range contentionCycles {
		if err := increment(t, l, counter); err != nil {
			r.Errors++
			if r.FirstError == "" {
				r.FirstError = err.Error()
			}
			continue
		}
		r.Cycles++
	}
	r.Elapsed = time.Since(start).Seconds()
	report(r)
}

func increment(t *testing.T, l *locker.Lock, counter string) (err error) {
	if err := l.Lock(t.Context()); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, l.Unlock()) }()
	n := 0
	data, err := os.ReadFile(counter)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if n, err = strconv.Atoi(string(data)); err != nil {
			return fmt.Errorf("counter holds %q: another process wrote it while this one held the lock", data)
		}
	}
	return os.WriteFile(counter, []byte(strconv.Itoa(n+1)), 0o666)
}
