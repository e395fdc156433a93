//go:build unix

package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// countFiles counts the names in dir that start with prefix.
func countFiles(t *testing.T, dir, prefix string) int {
	t.Helper()
	n := 0
	for _, name := range files(t, dir) {
		if strings.HasPrefix(name, prefix) {
			n++
		}
	}
	return n
}

// touchFile creates an empty file.
func touchFile(t *testing.T, name string) {
	t.Helper()
	if err := os.WriteFile(name, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSharedReadersExcludeTheWriter: two nfslock -s run their commands at
// the same time, while a plain nfslock on the same file waits for both to
// leave; and readers wait for a plain nfslock holding the file.
func TestSharedReadersExcludeTheWriter(t *testing.T) {
	dir := t.TempDir()
	// Each reader marks itself inside, waits (at most 20 s) until both
	// are, then until the test says go, and leaves.
	// Every wait in a command is bounded, so that a failed test leaves no
	// process behind.
	reader := `touch in.$$
		i=0; while [ "$(ls in.* | wc -l)" -lt 2 ]; do i=$((i+1)); [ $i -gt 400 ] && exit 3; sleep 0.05; done
		i=0; while [ ! -e go ]; do i=$((i+1)); [ $i -gt 400 ] && exit 4; sleep 0.05; done
		rm in.$$`
	r1 := start(t, dir, nil, "-s", "lock.lock", "sh", "-c", reader)
	r2 := start(t, dir, nil, "-s", "lock.lock", "sh", "-c", reader)
	waitUntil(t, "both readers to be inside at once", 20*time.Second, func() bool { return countFiles(t, dir, "in.") == 2 })

	writer := start(t, dir, nil, "-v", "lock.lock", "sh", "-c", `ls in.* 2>/dev/null | wc -l > readers-seen`)
	waitUntil(t, "the writer to say it waits for the readers", 10*time.Second, func() bool {
		return strings.Contains(writer.stderr.String(), "waiting for 2 readers to leave")
	})
	if fileExists(filepath.Join(dir, "readers-seen")) {
		t.Fatal("the plain nfslock ran its command while two readers held the lock")
	}
	if r := run(t, dir, "-n", "lock.lock", "true"); r.code != 1 {
		t.Errorf("nfslock -n while readers (and a waiting writer) hold the lock: want exit 1; got %v", r)
	}
	if r := run(t, dir, "-s", "-n", "lock.lock", "true"); r.code != 1 {
		t.Errorf("nfslock -s -n while a writer waits: want exit 1 (writers go first); got %v", r)
	}
	touchFile(t, filepath.Join(dir, "go"))
	for i, p := range []*proc{r1, r2} {
		if r := p.wait(commandTimeout); r.code != 0 {
			t.Errorf("reader %d: want exit 0 (it saw the other reader inside); got %v", i+1, r)
		}
	}
	if r := writer.wait(commandTimeout); r.code != 0 {
		t.Fatalf("writer: %v", r)
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(dir, "readers-seen"))); got != "0" {
		t.Errorf("the writer's command saw %s readers inside; want 0", got)
	}

	// The other way: a reader waits for a plain nfslock that holds the
	// file.
	os.Remove(filepath.Join(dir, "go"))
	holder := start(t, dir, nil, "lock.lock", "sh", "-c", `touch writing; i=0; while [ ! -e go ]; do i=$((i+1)); [ $i -gt 400 ] && exit 4; sleep 0.05; done; rm writing`)
	waitUntil(t, "the writer's command to start", 10*time.Second, func() bool { return fileExists(filepath.Join(dir, "writing")) })
	if r := run(t, dir, "-v", "-s", "-w", "0.3", "lock.lock", "true"); r.code != 1 || !strings.Contains(r.stderr, "timed out") {
		t.Errorf("nfslock -v -s -w 0.3 while a writer holds the lock: want exit 1, timed out; got %v", r)
	}
	waiter := start(t, dir, nil, "-s", "lock.lock", "sh", "-c", `if [ -e writing ]; then echo writer-inside; else echo alone; fi`)
	touchFile(t, filepath.Join(dir, "go"))
	if r := holder.wait(commandTimeout); r.code != 0 {
		t.Fatalf("writer: %v", r)
	}
	if r := waiter.wait(commandTimeout); r.code != 0 || strings.TrimSpace(r.stdout) != "alone" {
		t.Errorf("a reader that waited for the writer: want exit 0 and its command alone; got %v", r)
	}
}

// TestSharedRunOptions: -s goes with run mode's options and refuses what
// makes no sense for a reader.
func TestSharedRunOptions(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want int
	}{
		{[]string{"-s", "lock.lock", "sh", "-c", "exit 7"}, 7},
		{[]string{"--shared", "lock.lock", "-c", "exit 9"}, 9},
		{[]string{"-s", "lock.lock", "./no-such-command"}, exitUnavailable},
		{[]string{"-s", "-x", "lock.lock", "true"}, exitUsage},
		{[]string{"-s", "--fencing", "lock.lock", "true"}, exitUsage},
		{[]string{"-s", "--slots", "2", "lock.lock", "true"}, exitUsage},
		{[]string{"--slots", "0", "lock.lock", "true"}, exitUsage},
	} {
		if r := run(t, dir, tt.args...); r.code != tt.want {
			t.Errorf("nfslock %q: want exit %d; got %v", tt.args, tt.want, r)
		}
	}
	// A reader leaves the count of reader slots behind, and nothing else.
	wantFiles(t, dir, "lock.lock.readers")
}

// TestSemaphoreAtMostN: three shell loops run commands under a semaphore of
// two slots; no more than two commands are ever inside at once, and each
// is told its slot.
func TestSemaphoreAtMostN(t *testing.T) {
	dir := t.TempDir()
	loop := `for i in 1 2 3 4 5; do
		"$NFSLOCK" --slots 2 sem.lock sh -c 'touch in.$$; ls in.* | wc -l >> counts; echo "$NFSLOCK_SLOT" >> slots; sleep 0.1; rm in.$$' || exit 1
	done`
	var loops []*proc
	for range 3 {
		loops = append(loops, startCmd(t, dir, nil, "bash", "-c", loop))
	}
	for _, p := range loops {
		if r := p.wait(commandTimeout); r.code != 0 {
			t.Fatalf("a loop failed: %v", r)
		}
	}
	counts := strings.Fields(readFile(t, filepath.Join(dir, "counts")))
	if len(counts) != 15 {
		t.Fatalf("%d commands ran, want 15: %q", len(counts), counts)
	}
	for _, c := range counts {
		if n, err := strconv.Atoi(c); err != nil || n < 1 || n > 2 {
			t.Errorf("a command found %s commands inside; want 1 or 2 under a semaphore of 2 slots (all counts: %q)", c, counts)
			break
		}
	}
	for _, s := range strings.Fields(readFile(t, filepath.Join(dir, "slots"))) {
		if s != "0" && s != "1" {
			t.Errorf("%s was %q; want 0 or 1", slotEnv, s)
		}
	}
	if got := strings.TrimSpace(readFile(t, filepath.Join(dir, "sem.lock.slots"))); got != "2" {
		t.Errorf("sem.lock.slots holds %q, want 2", got)
	}

	// Another N than the recorded one is a usage error, in one line.
	r := run(t, dir, "--slots", "3", "sem.lock", "touch", "ran")
	if r.code != exitUsage || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "2 slots") || fileExists(filepath.Join(dir, "ran")) {
		t.Errorf("--slots 3 on a semaphore of 2: want exit %d and one line naming the 2 slots; got %v", exitUsage, r)
	}

	// With --fencing the command gets the slot's token.
	r = run(t, dir, "--slots", "2", "--fencing", "sem.lock", "sh", "-c", `echo "$NFSLOCK_SLOT $NFSLOCK_TOKEN"`)
	if f := strings.Fields(r.stdout); r.code != 0 || len(f) != 2 || f[0] != "0" || f[1] == "0" {
		t.Errorf("--slots 2 --fencing: want slot 0 and a token; got %v", r)
	}
}

// TestScriptSharedAndSlots: lock, touch, keep and unlock take and release
// reader slots and semaphore slots in a shell's name.
func TestScriptSharedAndSlots(t *testing.T) {
	dir := t.TempDir()
	other := livePID(t)
	r := bash(t, dir, `set -e
		"$NFSLOCK" lock -s lock.lock
		"$NFSLOCK" lock -s --pid `+strconv.Itoa(other)+` lock.lock
		if "$NFSLOCK" lock -s lock.lock; then exit 90; fi
		if "$NFSLOCK" -n lock.lock true; then exit 91; fi
		"$NFSLOCK" touch -s lock.lock
		"$NFSLOCK" keep -s lock.lock
		if "$NFSLOCK" unlock lock.lock 2> plain-unlock.err; then exit 92; fi
		"$NFSLOCK" unlock -s lock.lock
		if "$NFSLOCK" unlock -s lock.lock; then exit 93; fi
		"$NFSLOCK" unlock -s --pid `+strconv.Itoa(other)+` lock.lock
		"$NFSLOCK" -n lock.lock true

		"$NFSLOCK" lock --slots 2 sem.lock
		"$NFSLOCK" lock --slots 2 --pid `+strconv.Itoa(other)+` sem.lock
		if "$NFSLOCK" -n --slots 2 sem.lock true; then exit 94; fi
		if "$NFSLOCK" touch --slots=3 sem.lock; then exit 95; fi
		"$NFSLOCK" touch --slots=2 sem.lock
		"$NFSLOCK" keep --slots sem.lock
		"$NFSLOCK" unlock --slots 2 sem.lock
		"$NFSLOCK" -n --slots 2 sem.lock true
		"$NFSLOCK" unlock --slots --pid `+strconv.Itoa(other)+` sem.lock
		echo done`)
	if r.code != 0 || !strings.Contains(r.stdout, "done") {
		t.Fatalf("script: %v", r)
	}
	if got := readFile(t, filepath.Join(dir, "plain-unlock.err")); !strings.Contains(got, "-s") {
		t.Errorf("unlock without -s of a reader slot: want a hint to give -s; got %q", got)
	}
	wantFiles(t, dir, "lock.lock.readers", "plain-unlock.err", "sem.lock.slots")
}

// statusJSON runs status --json and parses its output.
func statusJSON(t *testing.T, dir string, args ...string) (statusReport, result) {
	t.Helper()
	r := run(t, dir, append([]string{"status", "--json"}, args...)...)
	var st statusReport
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json output does not parse: %v\n%v", err, r)
	}
	return st, r
}

// TestStatusOfSharedAndSlots: status lists the readers of a shared lock and
// the holders of a semaphore's slots, and nothing more for a plain lock.
func TestStatusOfSharedAndSlots(t *testing.T) {
	dir := t.TempDir()
	holder := livePID(t)
	pid := strconv.Itoa(holder)
	for _, args := range [][]string{
		{"lock", "-s", "--pid", pid, "rw.lock"},
		{"lock", "--slots", "3", "--pid", pid, "sem.lock"},
		{"lock", "--pid", pid, "plain.lock"},
	} {
		if r := run(t, dir, args...); r.code != 0 {
			t.Fatalf("nfslock %q: %v", args, r)
		}
	}

	st, r := statusJSON(t, dir, "rw.lock")
	if r.code != 1 || !st.Held || st.RWLock == nil || st.Semaphore != nil || st.Holder != nil {
		t.Fatalf("status --json of a shared lock with one reader: want exit 1, held, rwlock and no gate holder; got %v", r)
	}
	if rd := st.RWLock.Readers; len(rd) != 1 || rd[0].Slot != 0 || rd[0].PID != holder || rd[0].ClaimFile != readFile(t, filepath.Join(dir, "rw.lock.reader.0")) || rd[0].ExpiresInSeconds <= 0 {
		t.Errorf("readers: want slot 0 held by pid %d with its claim file; got %+v", holder, rd)
	}
	st, r = statusJSON(t, dir, "sem.lock")
	if r.code != 1 || !st.Held || st.Semaphore == nil || st.RWLock != nil {
		t.Fatalf("status --json of a semaphore with one slot held: want exit 1, held, semaphore; got %v", r)
	}
	if s := st.Semaphore; s.Slots != 3 || len(s.Holders) != 1 || s.Holders[0].PID != holder || s.Holders[0].Breakable {
		t.Errorf("semaphore: want 3 slots, one held by pid %d; got %+v", holder, s)
	}
	_, r = statusJSON(t, dir, "plain.lock")
	if strings.Contains(r.stdout, "rwlock") || strings.Contains(r.stdout, "semaphore") {
		t.Errorf("status --json of a plain lock names shared locks or semaphores:\n%s", r.stdout)
	}

	r = run(t, dir, "status", "rw.lock")
	for _, want := range []string{"readers:    1", "slot 0:", "pid " + pid, "rw.lock.reader.0|"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status of a shared lock lacks %q:\n%s", want, r.stdout)
		}
	}
	r = run(t, dir, "status", "sem.lock")
	for _, want := range []string{"slots:      1 of 3 held", "slot 0:", "pid " + pid} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status of a semaphore lacks %q:\n%s", want, r.stdout)
		}
	}

	// Released, they are free again: exit 0.
	for _, args := range [][]string{{"unlock", "-s", "--pid", pid, "rw.lock"}, {"unlock", "--slots", "--pid", pid, "sem.lock"}} {
		if r := run(t, dir, args...); r.code != 0 {
			t.Fatalf("nfslock %q: %v", args, r)
		}
	}
	for _, name := range []string{"rw.lock", "sem.lock"} {
		if st, r := statusJSON(t, dir, name); r.code != 0 || st.Held {
			t.Errorf("status of %s with nothing held: want exit 0, not held; got %v", name, r)
		}
	}
}

// heldByTheDead takes LOCKFILE in the mode args give (-s, --slots N) in the
// name of a child process that is then killed and reaped, and dates the
// slot's expiry a minute ago: a dead holder's slot, ready to be broken.
func heldByTheDead(t *testing.T, dir, slotFile string, args ...string) {
	t.Helper()
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	pid := strconv.Itoa(child.Process.Pid)
	r := run(t, dir, append([]string{"lock", "--pid", pid}, args...)...)
	child.Process.Kill()
	child.Wait()
	if r.code != 0 {
		t.Fatalf("lock %q in the name of pid %s: %v", args, pid, r)
	}
	past := time.Now().Add(-time.Minute)
	if err := os.Chtimes(filepath.Join(dir, slotFile), past, past); err != nil {
		t.Fatal(err)
	}
}

// TestBreakSlots: break -s and break --slots break a dead holder's expired
// reader or semaphore slot, leave a live one alone unless --force.
func TestBreakSlots(t *testing.T) {
	dir := t.TempDir()
	live := strconv.Itoa(livePID(t))

	// The live reader first: a reader entering breaks an expired slot
	// it tries on its way.
	if r := run(t, dir, "lock", "-s", "--pid", live, "rw.lock"); r.code != 0 {
		t.Fatalf("lock -s: %v", r)
	}
	heldByTheDead(t, dir, "rw.lock.reader.1", "-s", "rw.lock")
	if r := run(t, dir, "break", "rw.lock"); r.code != 0 || !fileExists(filepath.Join(dir, "rw.lock.reader.1")) {
		t.Errorf("break without -s: want the gate only (free: exit 0) and the reader slots left alone; got %v", r)
	}
	r := run(t, dir, "break", "-s", "rw.lock")
	if r.code != 1 || !strings.Contains(r.stderr, "broke the lock") || !strings.Contains(r.stderr, "pid "+live) {
		t.Errorf("break -s: want the dead reader's slot broken and exit 1 for the live one, named; got %v", r)
	}
	if !fileExists(filepath.Join(dir, "rw.lock.reader.0")) || fileExists(filepath.Join(dir, "rw.lock.reader.1")) {
		t.Errorf("after break -s: want slot 0 (live) kept and slot 1 (dead) gone; files %q", files(t, dir))
	}
	if r := run(t, dir, "break", "-s", "--force", "rw.lock"); r.code != 0 || !strings.Contains(r.stderr, "pid "+live) {
		t.Errorf("break -s --force: want the live reader's slot broken, after naming it; got %v", r)
	}
	if r := run(t, dir, "-n", "rw.lock", "true"); r.code != 0 {
		t.Errorf("a writer after every reader slot was broken: want exit 0; got %v", r)
	}

	heldByTheDead(t, dir, "sem.lock.slot.0", "--slots", "2", "sem.lock")
	if r := run(t, dir, "break", "--slots", "sem.lock"); r.code != 0 || !strings.Contains(r.stderr, "broke the lock") {
		t.Errorf("break --slots: want the dead holder's slot broken; got %v", r)
	}
	if r := run(t, dir, "break", "--slots=3", "sem.lock"); r.code != exitUsage {
		t.Errorf("break --slots=3 of a semaphore of 2: want exit %d; got %v", exitUsage, r)
	}
	wantFiles(t, dir, "rw.lock.readers", "sem.lock.slots")
}

// TestFairWaitersInOrder: waiters queue (tickets LOCKFILE.queue.N) and run
// in the order they came; --fair=false makes a waiter poll without a
// ticket.
func TestFairWaitersInOrder(t *testing.T) {
	dir := t.TempDir()
	ticket := func(n int) string { return filepath.Join(dir, "x.lock.queue."+strconv.Itoa(n)) }
	holder := start(t, dir, nil, "x.lock", "sleep", "2")
	waitUntil(t, "the holder takes the lock", commandTimeout, func() bool { return fileExists(filepath.Join(dir, "x.lock")) })
	var waiters []*proc
	for i, name := range []string{"A", "B", "C"} {
		waiters = append(waiters, start(t, dir, nil, "x.lock", "sh", "-c", "echo "+name+" >> order"))
		waitUntil(t, "waiter "+name+" queues", commandTimeout, func() bool { return fileExists(ticket(i + 1)) })
	}
	unfair := start(t, dir, nil, "--fair=false", "-n", "x.lock", "true")
	if r := unfair.wait(commandTimeout); r.code != exitConflict {
		t.Errorf("--fair=false -n while the lock is held: want exit %d; got %v", exitConflict, r)
	}
	if r := holder.wait(commandTimeout); r.code != 0 {
		t.Fatalf("the holder: %v", r)
	}
	for _, w := range waiters {
		if r := w.wait(commandTimeout); r.code != 0 {
			t.Fatalf("a waiter: %v", r)
		}
	}
	if got := strings.Fields(readFile(t, filepath.Join(dir, "order"))); strings.Join(got, " ") != "A B C" {
		t.Errorf("the waiters ran in the order %q; want A B C, the order they queued in", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "x.lock.queue.*")); len(left) > 0 {
		t.Errorf("tickets left once every waiter ran: %q", left)
	}
}
