//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCounterUnderContention: two shell loops take turns through nfslock,
// 200 read-increment-write cycles each, and lose no update.
func TestCounterUnderContention(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "counter"), []byte("0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	loop := `for i in $(seq 200); do
		"$NFSLOCK" lock.lock sh -c 'n=$(cat counter); echo $((n + 1)) > counter' || exit 1
	done`
	a := startCmd(t, dir, nil, "bash", "-c", loop)
	b := startCmd(t, dir, nil, "bash", "-c", loop)
	for _, p := range []*proc{a, b} {
		if r := p.wait(commandTimeout); r.code != 0 {
			t.Fatalf("a loop failed: %v", r)
		}
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(dir, "counter"))); got != "400" {
		t.Errorf("counter = %s after 2 × 200 increments under nfslock, want 400 (updates were lost: two held the lock at once)", got)
	}
	wantFiles(t, dir, "counter")
}

// holdLock starts nfslock holding lock.lock in dir while a child sleeps,
// and returns once the child runs.
func holdLock(t *testing.T, dir string, args ...string) *proc {
	t.Helper()
	args = append(args, "lock.lock", "sh", "-c", "echo $$ > child.pid; exec sleep 60")
	p := start(t, dir, nil, args...)
	waitUntil(t, "the holder's command to start", 10*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "child.pid"))
		return err == nil && strings.HasSuffix(string(b), "\n")
	})
	return p
}

func childPID(t *testing.T, dir string) int {
	t.Helper()
	// The shell creates the file before it writes to it: wait for the
	// whole line.
	var text string
	waitUntil(t, "the command to write its pid", 10*time.Second, func() bool {
		b, _ := os.ReadFile(filepath.Join(dir, "child.pid"))
		text = string(b)
		return strings.HasSuffix(text, "\n")
	})
	pid, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		t.Fatalf("child.pid holds %q: %v", text, err)
	}
	return pid
}

func TestConflictNonblockTimeoutAndExitCode(t *testing.T) {
	dir := t.TempDir()
	holder := holdLock(t, dir)
	holderPID := strconv.Itoa(holder.cmd.Process.Pid)

	r := run(t, dir, "-n", "lock.lock", "touch", "ran")
	if r.code != 1 || r.stderr != "" {
		t.Errorf("-n on a held lock: want exit 1 and nothing on stderr, as flock(1); got %v", r)
	}
	r = run(t, dir, "-v", "-n", "lock.lock", "touch", "ran")
	if r.code != 1 || !strings.Contains(r.stderr, "pid "+holderPID) {
		t.Errorf("-v -n on a held lock: want exit 1 and a message naming the holder's pid %s; got %v", holderPID, r)
	}
	r = run(t, dir, "-n", "-E", "75", "lock.lock", "touch", "ran")
	if r.code != 75 {
		t.Errorf("-n -E 75 on a held lock: want exit 75; got %v", r)
	}
	r = run(t, dir, "-q", "--nb", "lock.lock", "touch", "ran")
	if r.code != 1 || r.stderr != "" {
		t.Errorf("-q --nb on a held lock: want exit 1 and nothing on stderr; got %v", r)
	}

	begin := time.Now()
	r = run(t, dir, "-v", "-w", "0.5", "lock.lock", "touch", "ran")
	waited := time.Since(begin)
	if r.code != 1 || !strings.Contains(r.stderr, "timed out") {
		t.Errorf("-w 0.5 on a held lock: want exit 1 and a timeout message; got %v", r)
	}
	if waited < 500*time.Millisecond {
		t.Errorf("-w 0.5 gave up after %v, before its timeout", waited)
	}
	// -v said who held the lock while it waited (not a terminal: a log line).
	if !strings.Contains(r.stderr, "waiting for") || !strings.Contains(r.stderr, "pid "+holderPID) || !strings.Contains(r.stderr, "expires in") {
		t.Errorf("-v while waiting: want a line naming the holder (pid %s) and its expiry; got %v", holderPID, r)
	}
	r = run(t, dir, "-w", "300ms", "-E", "75", "lock.lock", "touch", "ran")
	if r.code != 75 || r.stderr != "" {
		t.Errorf("-w 300ms -E 75 on a held lock: want exit 75 and nothing on stderr, as flock(1); got %v", r)
	}
	if fileExists(filepath.Join(dir, "ran")) {
		t.Error("a command ran while another nfslock held the lock")
	}
	if got := files(t, dir); len(got) != 3 { // lock.lock, its claim, child.pid: nothing of the waiters
		t.Errorf("files while the holder runs: %q; want lock.lock, one claim file and child.pid", got)
	}

	holder.signal(syscall.SIGTERM)
	if r := holder.wait(commandTimeout); r.code != 143 {
		t.Errorf("holder after SIGTERM: want 143 (its child died of SIGTERM); got %v", r)
	}
	wantFiles(t, dir, "child.pid")
	if r := run(t, dir, "-n", "lock.lock", "touch", "ran"); r.code != 0 || !fileExists(filepath.Join(dir, "ran")) {
		t.Errorf("-n on a free lock: want exit 0 and the command run; got %v", r)
	}
}

func TestExitStatusOfTheCommand(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"lock.lock", "true"}, 0},
		{[]string{"lock.lock", "sh", "-c", "exit 7"}, 7},
		{[]string{"lock.lock", "-c", "exit 9"}, 9},
		{[]string{"lock.lock", "--command", "exit 10"}, 10},
		{[]string{"-c", "exit 11", "lock.lock"}, 11},
		{[]string{"lock.lock", "sh", "-c", "kill -KILL $$"}, 137},
		{[]string{"lock.lock", "sh", "-c", "kill -TERM $$"}, 143},
		{[]string{"lock.lock", "./no-such-command"}, exitUnavailable},
		{[]string{"no-such-dir/lock.lock", "true"}, exitNoInput},
		{[]string{"-l", "0", "lock.lock", "true"}, exitUsage},
		{[]string{"-l", "soon", "lock.lock", "true"}, exitUsage},
		{[]string{"-E", "256", "lock.lock", "true"}, exitUsage},
		{[]string{"lock.lock", "-w", "1", "true"}, exitUsage},
		{[]string{"lock.lock", "-c", "true", "extra"}, exitUsage},
		{[]string{"lock.lock"}, exitUsage},
		{[]string{}, exitUsage},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(t, dir, tt.args...)
			if r.code != tt.want {
				t.Errorf("nfslock %q: want exit %d; got %v", tt.args, tt.want, r)
			}
			wantFiles(t, dir) // released, or never taken
		})
	}
	for _, l := range []string{"1ms", "0.1", "999ms"} {
		r := run(t, dir, "-l", l, "lock.lock", "true")
		if r.code != exitUsage || !strings.Contains(r.stderr, "at least 1s") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("-l %s: want exit %d and one line saying the lifetime must be at least 1s; got %v", l, exitUsage, r)
		}
	}
	wantFiles(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "precious"), []byte("not a lock"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, dir, "precious", "true"); r.code != exitDataErr {
		t.Errorf("lock path holding a file that is not a lock: want exit %d; got %v", exitDataErr, r)
	}
	if got := readFile(t, filepath.Join(dir, "precious")); got != "not a lock" {
		t.Errorf("the file at the lock path was changed to %q", got)
	}
}

// TestSignalsReachTheCommand: SIGINT, SIGTERM and SIGHUP sent to nfslock go
// to the command, and the lock is released only after it has exited.
func TestSignalsReachTheCommand(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			// The command reports the signal, checks after a pause that
			// the lock is still there, and exits 100.
			script := fmt.Sprintf(`trap 'sleep 0.3; if [ -e lock.lock ]; then echo held > seen; else echo released > seen; fi; exit 100' %s
				echo $$ > child.pid
				while :; do sleep 0.05; done`, strings.TrimPrefix(sigName(sig), "SIG"))
			p := start(t, dir, nil, "lock.lock", "sh", "-c", script)
			waitUntil(t, "the command to start", 10*time.Second, func() bool { return fileExists(filepath.Join(dir, "child.pid")) })
			p.signal(sig)
			r := p.wait(commandTimeout)
			if r.code != 100 {
				t.Fatalf("after %v to nfslock: want the command's exit status 100 (it got the signal); got %v", sig, r)
			}
			if got := strings.TrimSpace(readFile(t, filepath.Join(dir, "seen"))); got != "held" {
				t.Errorf("while the command handled %v the lock was %s; want held until the command exited", sig, got)
			}
			wantFiles(t, dir, "child.pid", "seen")
		})
	}
	t.Run("death by SIGTERM", func(t *testing.T) {
		dir := t.TempDir()
		p := holdLock(t, dir)
		p.signal(syscall.SIGTERM)
		if r := p.wait(commandTimeout); r.code != 143 {
			t.Errorf("SIGTERM to nfslock running sleep: want 143; got %v", r)
		}
		wantFiles(t, dir, "child.pid")
	})
	t.Run("while waiting", func(t *testing.T) {
		dir := t.TempDir()
		holder := holdLock(t, dir)
		waiter := start(t, dir, nil, "-v", "lock.lock", "touch", "ran")
		waitUntil(t, "the waiter to report the holder", 10*time.Second, func() bool { return strings.Contains(waiter.stderr.String(), "waiting for") })
		waiter.signal(syscall.SIGINT)
		if r := waiter.wait(commandTimeout); r.code != 130 {
			t.Errorf("SIGINT to a waiting nfslock: want 130; got %v", r)
		}
		holder.signal(syscall.SIGTERM)
		holder.wait(commandTimeout)
		wantFiles(t, dir, "child.pid") // the waiter left no claim file
	})
}

func sigName(s syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGINT: "INT", syscall.SIGTERM: "TERM", syscall.SIGHUP: "HUP",
		syscall.SIGQUIT: "QUIT", syscall.SIGUSR1: "USR1", syscall.SIGUSR2: "USR2", syscall.SIGALRM: "ALRM", syscall.SIGWINCH: "WINCH"}[s]
}

// TestLostLock: nfslock is stopped past lifetime + slop while another
// process breaks and takes the lock; when it runs again it finds the lock
// lost, terminates the command (SIGTERM, then SIGKILL for one that ignores
// it) and exits with its own code.
func TestLostLock(t *testing.T) {
	dir := t.TempDir()
	// The command notes SIGTERM and goes on running: only SIGKILL ends it.
	script := `trap 'echo TERM >> signals' TERM
		echo $$ > child.pid
		while :; do sleep 0.05; done`
	holder := start(t, dir, nil, "-l", "3s", "--slop", "1s", "--kill-after", "1s", "lock.lock", "sh", "-c", script)
	waitUntil(t, "the command to start", 10*time.Second, func() bool { return fileExists(filepath.Join(dir, "child.pid")) })
	child := childPID(t, dir)
	holder.signal(syscall.SIGSTOP)
	// Another nfslock waits until the stopped holder's lock has been
	// expired for the slop, breaks it, and takes it.
	r := run(t, dir, "-l", "3s", "--slop", "1s", "-w", "30", "lock.lock", "sh", "-c", "echo taken > taken")
	if r.code != 0 || !fileExists(filepath.Join(dir, "taken")) {
		t.Fatalf("the second nfslock: want exit 0 after breaking the expired lock; got %v", r)
	}
	holder.signal(syscall.SIGCONT)
	r = holder.wait(commandTimeout)
	if r.code != exitLost {
		t.Fatalf("nfslock whose lock was broken: want exit %d (lock lost); got %v", exitLost, r)
	}
	for _, want := range []string{"LOST THE LOCK", "SIGTERM", "SIGKILL"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr of nfslock that lost its lock does not say %q:\n%s", want, r.stderr)
		}
	}
	if got := readFile(t, filepath.Join(dir, "signals")); got != "TERM\n" {
		t.Errorf("the command received %q; want one SIGTERM (then SIGKILL)", got)
	}
	if processAlive(child) {
		t.Errorf("the command (pid %d) is still running after nfslock lost the lock and exited", child)
	}
	wantFiles(t, dir, "child.pid", "signals", "taken")
}

// TestSubcommandNamesAsLockFiles: a subcommand is recognised only as the
// first argument, so a lock file of any name can be used.
func TestSubcommandNamesAsLockFiles(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--", "status", "sh", "-c", "test -e status"},
		{"./lock", "sh", "-c", "test -e lock"},
		{"-w", "5", "check", "sh", "-c", "test -e check"},
		{"--", "break", "-c", "test -e break"},
	} {
		if r := run(t, dir, args...); r.code != 0 {
			t.Errorf("nfslock %q: want the command run under the lock file named like a subcommand (exit 0); got %v", args, r)
		}
	}
	wantFiles(t, dir)
	if r := run(t, dir, "status"); r.code != exitUsage || !strings.Contains(r.stderr, "LOCKFILE") {
		t.Errorf("nfslock status with no lock file: want a usage error; got %v", r)
	}
}

// TestFencingTokenReachesTheCommand: with --fencing, each run's command gets
// NFSLOCK_TOKEN, greater than the last run's; without it, none.
func TestFencingTokenReachesTheCommand(t *testing.T) {
	dir := t.TempDir()
	var last uint64
	for i := range 3 {
		r := start(t, dir, nil, "--fencing", "lock.lock", "sh", "-c", `echo "token=${NFSLOCK_TOKEN-unset}"`).wait(commandTimeout)
		if r.code != 0 {
			t.Fatalf("run %d: %v", i+1, r)
		}
		s, ok := strings.CutPrefix(strings.TrimSpace(r.stdout), "token=")
		tok, err := strconv.ParseUint(s, 10, 64)
		if !ok || err != nil {
			t.Fatalf("run %d with --fencing: the command printed %q, want token=N", i+1, r.stdout)
		}
		if tok <= last {
			t.Errorf("run %d with --fencing: token %d, want more than the previous run's %d", i+1, tok, last)
		}
		last = tok
	}
	wantFiles(t, dir, "lock.lock.fence")
	r := start(t, dir, nil, "lock.lock", "sh", "-c", `echo "token=${NFSLOCK_TOKEN-unset}"`).wait(commandTimeout)
	if got := strings.TrimSpace(r.stdout); r.code != 0 || got != "token=unset" {
		t.Errorf("run without --fencing: %q, want token=unset\n%v", got, r)
	}
}

// TestScriptWithoutInterpreterLine: an executable file without "#!" runs
// with /bin/sh, as execvp(3) and flock(1) run it.
func TestScriptWithoutInterpreterLine(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "job"), []byte("echo \"ran with $# args: $1 $2\"\nexit 5\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := run(t, dir, "lock.lock", "./job", "a", "b")
	if r.code != 5 || strings.TrimSpace(r.stdout) != "ran with 2 args: a b" {
		t.Errorf("a script without #!: want it run by /bin/sh with its arguments (exit 5); got %v", r)
	}
	wantFiles(t, dir, "job")
}
