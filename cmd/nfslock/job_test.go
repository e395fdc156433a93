//go:build linux

package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The job is the command with every process it starts (docs/cli.md, "The
// job"): these tests start jobs whose processes are found by a marker
// argument unique to the test, sleep 1000.NNNNNN.

// jobScripts are jobs that leave processes behind: a background sleep
// beside a foreground one, and both ignoring SIGTERM.
var jobScripts = []struct{ name, script string }{
	{"plain", `sleep %[1]s & sleep %[1]s; wait`},
	{"ignoring SIGTERM", `trap "" TERM; sleep %[1]s & sleep %[1]s; wait`},
}

func newMarker() string { return fmt.Sprintf("1000.%06d", rand.IntN(1e6)) }

// markerProcs lists the running processes with marker among their arguments.
func markerProcs(marker string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, arg := range bytes.Split(b, []byte{0}) {
			if string(arg) == marker {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// startJob runs nfslock with args on lock.lock in dir, the job script
// (with %[1]s for the marker), and waits until want processes carry the
// marker.
func startJob(t *testing.T, dir, script string, want int, args ...string) (*proc, string) {
	t.Helper()
	marker := newMarker()
	args = append(args, "lock.lock", "sh", "-c", fmt.Sprintf(script, marker))
	p := start(t, dir, nil, args...)
	waitUntil(t, fmt.Sprintf("%d processes of the job to run", want), 10*time.Second, func() bool { return len(markerProcs(marker)) == want })
	return p, marker
}

// noneLeft waits until no process carries marker, failing after within.
func noneLeft(t *testing.T, marker string, within time.Duration, what string) {
	t.Helper()
	start := time.Now()
	for len(markerProcs(marker)) > 0 {
		if time.Since(start) > within {
			t.Fatalf("%s: processes %v of the job still run after %v", what, markerProcs(marker), within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%s: the job's last process ended %v after the test began to look", what, time.Since(start).Round(time.Millisecond))
}

// TestLostLockEndsTheWholeJob: when the lock is broken, every process of
// the job is ended (SIGKILL after --kill-after for those ignoring SIGTERM)
// before nfslock exits with 76.
func TestLostLockEndsTheWholeJob(t *testing.T) {
	for _, tt := range jobScripts {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p, marker := startJob(t, dir, tt.script, 2, "-l", "1.5", "--slop", "1s", "--kill-after", "1s")
			if r := run(t, dir, "break", "--force", "lock.lock"); r.code != 0 {
				t.Fatalf("break --force: %v", r)
			}
			r := p.wait(commandTimeout)
			if r.code != exitLost {
				t.Errorf("nfslock whose lock was broken: want exit %d; got %v", exitLost, r)
			}
			if left := markerProcs(marker); len(left) > 0 {
				t.Errorf("nfslock exited after losing its lock while processes %v of its job still run", left)
			}
		})
	}
}

// TestJobOutlivingTheCommand: processes the command leaves behind when it
// exits are ended, and the lock is held until they have.
func TestJobOutlivingTheCommand(t *testing.T) {
	dir := t.TempDir()
	p, marker := startJob(t, dir, `trap "" TERM; sleep %[1]s & echo started`, 1, "--kill-after", "2s")
	if r := run(t, dir, "status", "lock.lock"); r.code != 1 {
		t.Errorf("status while the command's background process (ignoring SIGTERM) runs: want 1, held; got %v", r)
	}
	if len(markerProcs(marker)) == 0 {
		t.Fatal("the background process ended before --kill-after: the test checked nothing")
	}
	r := p.wait(commandTimeout)
	if r.code != 0 {
		t.Errorf("want the command's status 0; got %v", r)
	}
	if left := markerProcs(marker); len(left) > 0 {
		t.Errorf("nfslock released the lock and exited while %v of its job still run", left)
	}
	if r := run(t, dir, "status", "lock.lock"); r.code != 0 {
		t.Errorf("status after nfslock exited: want 0, free; got %v", r)
	}
}

// TestJobDiesWithNfslock: nfslock killed with SIGKILL takes its whole job
// with it within --kill-after, and its lock is not released meanwhile.
func TestJobDiesWithNfslock(t *testing.T) {
	for _, tt := range jobScripts {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p, marker := startJob(t, dir, tt.script, 2, "--kill-after", "1s")
			p.signal(syscall.SIGKILL)
			p.wait(commandTimeout)
			if r := run(t, dir, "status", "lock.lock"); r.code != 1 {
				t.Errorf("status after nfslock was killed: want 1, still held (it expires); got %v", r)
			}
			// The guard sends SIGKILL 1 s after SIGTERM; the job's
			// processes, left alone, would sleep for 1000 s. The
			// bound allows for a loaded machine (2 s was once too
			// short, as nobody in CI with other packages' tests
			// running).
			noneLeft(t, marker, 10*time.Second, "nfslock killed with SIGKILL")
		})
	}
}

// TestMoreSignalsReachTheJob: QUIT, USR1, USR2, ALRM and WINCH are passed
// on to the job's process group, and SIGQUIT dumps no Go stacks.
func TestMoreSignalsReachTheJob(t *testing.T) {
	dir := t.TempDir()
	script := `for s in QUIT USR1 USR2 ALRM WINCH; do trap "echo $s >> seen" $s; done
		sh -c 'trap "echo grandchild-USR1 >> seen; exit" USR1; echo > grandchild.ready; while :; do sleep 0.05; done' &
		echo $$ > child.pid
		while :; do sleep 0.05; done`
	p := start(t, dir, nil, "lock.lock", "sh", "-c", script)
	// Both traps set: a SIGUSR1 before would end the grandchild unseen.
	waitUntil(t, "the command and its child to set their traps", 10*time.Second, func() bool {
		return fileExists(filepath.Join(dir, "child.pid")) && fileExists(filepath.Join(dir, "grandchild.ready"))
	})
	for _, s := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM, syscall.SIGWINCH} {
		p.signal(s)
		name := strings.TrimPrefix(sigName(s), "SIG")
		waitUntil(t, name+" to reach the command", 5*time.Second, func() bool {
			b, _ := os.ReadFile(filepath.Join(dir, "seen"))
			return strings.Contains(string(b), name+"\n")
		})
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if got := readFile(t, filepath.Join(dir, "seen")); strings.Contains(got, "grandchild-USR1") {
			break
		} else if time.Now().After(deadline) {
			t.Errorf("the grandchild did not get SIGUSR1 (the job's group should): seen %q", got)
			break
		}
	}
	p.signal(syscall.SIGTERM)
	r := p.wait(commandTimeout)
	if strings.Contains(r.stderr, "goroutine") {
		t.Errorf("nfslock dumped its stacks on SIGQUIT:\n%s", r.stderr)
	}
	wantFiles(t, dir, "child.pid", "grandchild.ready", "seen")
}

// TestCtrlCOnce: at a terminal, with nfslock in the foreground, a Ctrl-C
// reaches the job once: from the terminal, not passed on again by nfslock.
// (Two SIGINTs a few microseconds apart are one to a shell, so -v shows
// whether nfslock passed one on.)
func TestCtrlCOnce(t *testing.T) {
	script, err := exec.LookPath("script")
	if err != nil {
		t.Skip("script(1) is not installed (apt-get install bsdutils): it runs nfslock in a pseudo-terminal")
	}
	dir := t.TempDir()
	// The job counts SIGINTs, and after the first waits half a second for
	// a second one before it exits 3. A Python job counts each signal its
	// handler sees; without Python, a shell's trap does (a shell takes two
	// SIGINTs a few microseconds apart for one, so -v's output tells then).
	job := `sh -c 'n=0; trap "echo INT; n=\$((n+1))" INT; echo ready; while [ $n -lt 1 ]; do sleep 0.05; done; sleep 0.5; exit 3'`
	if python, err := exec.LookPath("python3"); err == nil {
		counter := `import signal, sys, time
n = 0
def count(sig, frame):
    global n
    n += 1
    print("INT", flush=True)
signal.signal(signal.SIGINT, count)
print("ready", flush=True)
while n < 1:
    time.sleep(0.05)
time.sleep(0.5)
sys.exit(3)
`
		counterFile := filepath.Join(t.TempDir(), "count.py")
		if err := os.WriteFile(counterFile, []byte(counter), 0o644); err != nil {
			t.Fatal(err)
		}
		job = python + " " + counterFile
	} else {
		t.Log("python3 is not installed: a shell counts the SIGINTs")
	}
	line := fmt.Sprintf("exec %s -v lock.lock %s", nfslockBin, job)
	cmd := exec.Command(script, "-qfec", line, "/dev/null")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SHELL=/bin/sh")
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	tty, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting script: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		tty.Close()
	})
	waitUntil(t, "the job to start in the pseudo-terminal", 10*time.Second, func() bool { return strings.Contains(out.String(), "ready") })
	tty.Write([]byte{3}) // Ctrl-C
	select {
	case <-done:
	case <-time.After(commandTimeout):
		t.Fatalf("nfslock in a pseudo-terminal still running after Ctrl-C; output:\n%s", out.String())
	}
	tty.Close()
	if strings.Contains(out.String(), "passing") {
		t.Errorf("nfslock passed a signal on to a job in the terminal's foreground, which the terminal signals itself:\n%s", out.String())
	}
	if n := strings.Count(out.String(), "INT"); n != 1 || cmd.ProcessState.ExitCode() != 3 {
		t.Errorf("after one Ctrl-C the job saw %d SIGINTs and nfslock exited %d; want 1 and the job's status 3; output:\n%q", n, cmd.ProcessState.ExitCode(), out.String())
	}
	wantFiles(t, dir)
}
