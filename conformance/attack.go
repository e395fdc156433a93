package conformance

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// The attack: what a co-tenant who can write the lock directory can do to
// the locks in it, measured (see docs/security.md for the promises).
//
// An attacker swaps the objects at every name the locks use, thousands of
// times a second, between a regular file (junk, an expired or fresh claim of
// a host that does not exist, a number), a symbolic link to a victim file
// outside the directory, a FIFO, an empty directory and nothing. The names
// are those anyone can predict (<lock>, <lock>.break, <lock>.fence, the
// first slots, tickets and count files) and those anyone who lists the
// directory learns: every name beginning with a lock file's, and for each
// claim name the names a lock derives from it (<claim>.fence-tmp,
// .count-tmp, .ticket, .moved, .moved.look). Meanwhile several locks
// contend, each call bounded by a deadline: exclusive locks, half of them
// fencing and half queueing, for one lock file, and RWLocks and Semaphores
// for lock files of their own. Afterwards:
//
//   - the victim files are as they were, byte for byte, with the same
//     mode, size, modification time and (where the system has one) change
//     time;
//   - no call took longer than its deadline plus a generous margin (a
//     watchdog names the call that did not return);
//   - every error wraps one of the locker's documented errors; the test
//     lists every other error text with how often it came;
//   - once the attacker stops and the directory is emptied, every lock takes
//     and releases the lock, and leaves nothing but the fencing counter.
//
// The attacker is a goroutine making raw system calls, so it needs a real
// directory (Backend.Open) on a system with FIFOs. NFSLOCK_ATTACK_DURATION
// sets how long it attacks (3s by default).

// attackDurationKnob names the environment variable that sets how long the
// attack lasts.
const attackDurationKnob = "NFSLOCK_ATTACK_DURATION"

// attackLockers is how many exclusive locks contend during the attack; the
// even ones fence. attackSharers more, two RWLocks and two Semaphores of
// attackSlots slots, contend for locks of their own.
const (
	attackLockers = 4
	attackSharers = 4
	attackSlots   = 2
)

// The lock files of the attack: the exclusive locks', the shared lock's and
// the semaphore's.
const (
	attackExclusive = "resource.lock"
	attackShared    = "shared.lock"
	attackSemaphore = "sem.lock"
)

// runAttack runs the attack on a fresh directory of b.
func runAttack(t *testing.T, b Backend) {
	if b.Open == nil {
		t.Skip("the attacker makes FIFOs, directories and symbolic links with system calls: it needs a real directory (Backend.Open)")
	}
	if !attackerAvailable {
		t.Skip(attackerUnavailable)
	}
	duration := knobDuration(t, attackDurationKnob, 3*time.Second)
	env := b.New(t)
	lifetime, slop := shortLease(b)
	a := &attack{
		dir:      env.Dir,
		lockPath: filepath.Join(env.Dir, attackExclusive),
		sep:      locker.DefaultSeparator,
	}
	a.makeVictims(t, env.Dir)
	if linkTargetRedated(t, env) {
		// What no lock can prevent here would fail the test, or, on the
		// sshfs rig, where the server is this machine, deadlock the
		// mount (its server resolving a link into the mount it serves).
		a.noLinks = true
		t.Logf("this filesystem re-dates what a symbolic link points to when asked to re-date the link (sshfs: the server sets times by path, following links): no lock can keep a link's target unchanged here, so the attacker plants no symbolic links (see docs/security.md)")
	}

	dirs := []string{env.Dir}
	if d2 := otherClient(b, env); d2 != "" {
		dirs = append(dirs, d2)
	}
	// breakLifetime is the locker's: max(slop, 2s). A call without a
	// context (Unlock, Refresh, Break) may wait for the break lock for
	// about its lifetime plus the slop, and a Lock may then still have
	// to give up its lock under the break lock: the margin allows for
	// several such waits.
	breakWait := max(slop, 2*time.Second) + slop
	a.margin = 4*breakWait + 5*time.Second
	// The exclusive locks: the even ones fence, the middle two queue
	// (WithFairness, where the backend lists directories); then the shared lock's readers and writers, and the
	// semaphore's holders, each on a lock of its own.
	a.lockers = make([]*attackLocker, attackLockers+attackSharers)
	for i := range a.lockers {
		dir := dirs[i%len(dirs)]
		opts := []locker.Option{
			locker.WithHostname(fmt.Sprintf("attack-locker-%d", i+1)),
			locker.WithPID(os.Getpid()),
			locker.WithLifetime(lifetime),
			locker.WithClockSlop(slop),
			locker.WithBackoff(time.Millisecond, 20*time.Millisecond),
		}
		al := &attackLocker{id: i + 1, fencing: i%2 == 0, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
		if al.fencing {
			opts = append(opts, locker.WithFencing())
		}
		fsys := b.Open(dir)
		var err error
		switch j := i - attackLockers; {
		case j < 0:
			al.kind = "exclusive"
			if _, lists := fsys.(locker.DirReader); lists && (i == 1 || i == 2) {
				// The queue needs a backend that lists directories.
				al.fair = true
				opts = append(opts, locker.WithFairness(true))
			}
			al.l, err = locker.New(filepath.Join(dir, attackExclusive), fsys, opts...)
		case j < 2:
			al.kind = "rwlock"
			al.rw, err = locker.NewRWLock(filepath.Join(dir, attackShared), fsys, opts...)
			if err == nil {
				al.l = al.rw.Gate()
			}
		default:
			al.kind = "semaphore"
			al.sem, err = locker.NewSemaphore(filepath.Join(dir, attackSemaphore), attackSlots, fsys, opts...)
			if err == nil {
				al.l = al.sem.Gate()
			}
		}
		if err != nil {
			t.Fatalf("making %v: %v", al, err)
		}
		a.lockers[i] = al
	}

	stopAttacker := a.startAttacker()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, al := range a.lockers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.contend(al, stop)
		}()
	}
	watchdogDone := a.startWatchdog()
	start := time.Now()
	time.Sleep(duration)
	close(stop)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(a.margin + 2*time.Second):
	}
	type swapped struct {
		swaps int64
		names int
	}
	attackerDone := make(chan swapped, 1)
	go func() {
		swaps, names := stopAttacker()
		attackerDone <- swapped{swaps, names}
	}()
	var sw swapped
	attackerHung := false
	select {
	case sw = <-attackerDone:
	case <-time.After(a.margin):
		// The attacker's own system calls do not return: the filesystem
		// itself hangs, and no lock could help it.
		attackerHung = true
	}
	elapsed := time.Since(start)
	watchdogDone()

	a.checkVictims(t)
	hung := a.reportHangs(t)
	if attackerHung {
		t.Errorf("the attacker's own system calls have not returned for %v: the filesystem itself hangs", a.margin)
	}
	a.report(t, elapsed, sw.swaps, sw.names)
	if hung || attackerHung {
		t.Errorf("some calls never returned (see above); the check after the attack is skipped")
		return
	}
	a.afterwards(t, env)
}

// An attack is the state of one run of runAttack.
type attack struct {
	dir      string // the lock directory, as the attacker reaches it
	lockPath string
	sep      string
	victims  []victim
	lockers  []*attackLocker
	margin   time.Duration // how late past its deadline a call may return
	noLinks  bool          // plant no symbolic links (see linkTargetRedated)

	mu       sync.Mutex
	calls    map[string]int           // calls made, by operation
	slowest  map[string]time.Duration // the longest call, by operation
	kinds    map[string]int           // errors by documented kind ("fencing/ErrTimeout")
	odd      map[string]int           // undocumented errors, by normalised text
	hangs    []string                 // calls the watchdog caught
	acquired int                      // Lock and TryLock calls that took the lock
}

// An attackLocker is one contending lock and what it is doing now.
type attackLocker struct {
	id      int
	kind    string            // "exclusive", "rwlock" or "semaphore"
	l       *locker.Lock      // the exclusive lock, or the gate of the others
	rw      *locker.RWLock    // kind "rwlock"
	sem     *locker.Semaphore // kind "semaphore"
	fencing bool
	fair    bool
	rng     *rand.Rand

	mu       sync.Mutex
	op       string    // the call in progress, or ""
	started  time.Time // when it began
	limit    time.Duration
	reported bool // the watchdog has reported it
}

func (al *attackLocker) String() string {
	return fmt.Sprintf("locker %d (%s)", al.id, al.group())
}

// group names al's kind and options, for the counts of errors by kind.
func (al *attackLocker) group() string {
	g := al.kind
	if al.fencing {
		g += "+fencing"
	}
	if al.fair {
		g += "+fair"
	}
	return g
}

// call runs f as the call op of al, bounded by deadline (zero for a call
// that takes no context) plus the margin, and records its outcome.
func (a *attack) call(al *attackLocker, op string, deadline time.Duration, f func() error) error {
	al.mu.Lock()
	al.op, al.started, al.limit, al.reported = op, time.Now(), deadline+a.margin, false
	al.mu.Unlock()
	err := f()
	al.mu.Lock()
	took := time.Since(al.started)
	al.op = ""
	al.mu.Unlock()

	a.mu.Lock()
	defer a.mu.Unlock()
	if a.calls == nil {
		a.calls, a.slowest, a.kinds, a.odd = map[string]int{}, map[string]time.Duration{}, map[string]int{}, map[string]int{}
	}
	a.calls[op]++
	a.slowest[op] = max(a.slowest[op], took)
	if err == nil && acquiring[op] {
		a.acquired++
	}
	if err != nil {
		group := al.group()
		if k := documentedKind(err); k != "" {
			a.kinds[group+"/"+k]++
		} else {
			a.odd[fmt.Sprintf("%s (%s): %s", op, group, a.normalise(err.Error()))]++
		}
	}
	return err
}

// acquiring lists the calls that take a lock.
var acquiring = map[string]bool{
	"Lock": true, "TryLock": true, "RLock": true, "TryRLock": true, "Acquire": true, "TryAcquire": true,
}

var digits = regexp.MustCompile(`[0-9]+`)

// normalise makes an error's text the same for every occurrence of one
// cause: the directories and the numbers (pids, random parts of claim names,
// times) are replaced.
func (a *attack) normalise(s string) string {
	for _, al := range a.lockers {
		s = strings.ReplaceAll(s, filepath.Dir(al.l.LockFile()), "DIR")
	}
	s = strings.ReplaceAll(s, a.dir, "DIR")
	return digits.ReplaceAllString(s, "N")
}

// contend makes al take and release its lock, with the other calls of a
// holder and of a waiter between, until stop is closed.
func (a *attack) contend(al *attackLocker, stop <-chan struct{}) {
	switch al.kind {
	case "rwlock":
		a.contendShared(al, stop)
	case "semaphore":
		a.contendSemaphore(al, stop)
	default:
		a.contendExclusive(al, stop)
	}
}

// waiting runs f as the call op of al, with a context that ends after a
// random timeout.
func (a *attack) waiting(al *attackLocker, op string, f func(ctx context.Context) error) error {
	timeout := time.Duration(50+al.rng.IntN(250)) * time.Millisecond
	return a.call(al, op, timeout, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return f(ctx)
	})
}

// pause sleeps up to max: a lock that fails at once (a foreign file) would
// otherwise leave the attacker little of the processor.
func (al *attackLocker) pause(max time.Duration) {
	time.Sleep(time.Duration(al.rng.Int64N(int64(max))))
}

// stopped reports whether stop is closed.
func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// contendShared makes al read or write, at random, with Status between.
func (a *attack) contendShared(al *attackLocker, stop <-chan struct{}) {
	rw, rng := al.rw, al.rng
	status := func() { a.call(al, "Status", 0, func() error { _, err := rw.Status(); return err }) }
	for !stopped(stop) {
		write := rng.IntN(3) == 0
		var err error
		switch {
		case write && rng.IntN(4) == 0:
			err = a.call(al, "TryLock", 0, rw.TryLock)
		case write:
			err = a.waiting(al, "Lock", rw.Lock)
		case rng.IntN(4) == 0:
			err = a.call(al, "TryRLock", 0, rw.TryRLock)
		default:
			err = a.waiting(al, "RLock", rw.RLock)
		}
		if err != nil {
			if rng.IntN(8) == 0 {
				status()
			}
			al.pause(time.Millisecond)
			continue
		}
		switch rng.IntN(4) {
		case 0:
			status()
		case 1:
			a.call(al, "IsLocked", 0, func() error { rw.IsLocked(); return nil })
		}
		al.pause(500 * time.Microsecond)
		if write {
			a.call(al, "Unlock", 0, rw.Unlock)
		} else {
			a.call(al, "RUnlock", 0, rw.RUnlock)
		}
	}
}

// contendSemaphore makes al take and release a slot, with Status between.
func (a *attack) contendSemaphore(al *attackLocker, stop <-chan struct{}) {
	sem, rng := al.sem, al.rng
	status := func() { a.call(al, "Status", 0, func() error { _, err := sem.Status(); return err }) }
	for !stopped(stop) {
		var err error
		if rng.IntN(4) == 0 {
			err = a.call(al, "TryAcquire", 0, func() error { _, err := sem.TryAcquire(); return err })
		} else {
			err = a.waiting(al, "Acquire", func(ctx context.Context) error { _, err := sem.Acquire(ctx); return err })
		}
		if err != nil {
			if rng.IntN(8) == 0 {
				status()
			}
			al.pause(time.Millisecond)
			continue
		}
		if rng.IntN(4) == 0 {
			status()
		}
		al.pause(500 * time.Microsecond)
		a.call(al, "Release", 0, sem.Release)
	}
}

// contendExclusive makes al take and release the exclusive lock, with the
// other calls of a holder and of a waiter between.
func (a *attack) contendExclusive(al *attackLocker, stop <-chan struct{}) {
	l, rng := al.l, al.rng
	for {
		select {
		case <-stop:
			return
		default:
		}
		var err error
		if rng.IntN(5) == 0 {
			err = a.call(al, "TryLock", 0, l.TryLock)
		} else {
			timeout := time.Duration(50+rng.IntN(250)) * time.Millisecond
			err = a.call(al, "Lock", timeout, func() error {
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				return l.Lock(ctx)
			})
		}
		if err != nil {
			switch rng.IntN(8) {
			case 0:
				a.call(al, "State", 0, func() error { _, err := l.State(); return err })
			case 1:
				a.call(al, "Details", 0, func() error { _, err := l.Details(); return err })
			case 2:
				a.call(al, "Break", 0, func() error { _, err := l.Break(); return err })
			case 3:
				a.call(al, "UnlockUnconditionally", 0, l.UnlockUnconditionally)
			}
			// A lock that fails at once (a foreign file) would
			// otherwise leave the attacker little of the processor.
			time.Sleep(time.Duration(rng.IntN(1000)) * time.Microsecond)
			continue
		}
		if rng.IntN(2) == 0 {
			a.call(al, "Refresh", 0, l.Refresh)
		}
		switch rng.IntN(4) {
		case 0:
			a.call(al, "IsLocked", 0, func() error { l.IsLocked(); return nil })
		case 1:
			a.call(al, "State", 0, func() error { _, err := l.State(); return err })
		case 2:
			a.call(al, "Expiration", 0, func() error { _, err := l.Expiration(); return err })
		}
		time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
		a.call(al, "Unlock", 0, l.Unlock)
	}
}

// startWatchdog starts looking, every 50 ms, for a call that has run past
// its limit; the function it returns stops it.
func (a *attack) startWatchdog() (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				a.watch()
				return
			case <-tick.C:
				a.watch()
			}
		}
	}()
	return func() { close(quit); <-done }
}

// watch records each call that has run past its limit, once.
func (a *attack) watch() {
	for _, al := range a.lockers {
		al.mu.Lock()
		if al.op != "" && !al.reported && time.Since(al.started) > al.limit {
			al.reported = true
			a.mu.Lock()
			a.hangs = append(a.hangs, fmt.Sprintf("%v: %s has not returned %v after it began (its limit: %v)",
				al, al.op, round(time.Since(al.started)), al.limit))
			a.mu.Unlock()
		}
		al.mu.Unlock()
	}
}

// reportHangs fails the test for every call the watchdog caught, and for
// every call still running, and reports whether any call is still running.
func (a *attack) reportHangs(t *testing.T) bool {
	t.Helper()
	a.mu.Lock()
	hangs := slices.Clone(a.hangs)
	a.mu.Unlock()
	for _, h := range hangs {
		t.Errorf("a lock call hangs under attack: %s", h)
	}
	running := false
	for _, al := range a.lockers {
		al.mu.Lock()
		if al.op != "" {
			running = true
			t.Errorf("%v: %s still has not returned, %v after it began", al, al.op, round(time.Since(al.started)))
		}
		al.mu.Unlock()
	}
	return running
}

// report logs what the attack did and fails the test for every error that
// wraps no documented error.
func (a *attack) report(t *testing.T, elapsed time.Duration, swaps int64, names int) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	total := 0
	var ops []string
	for op, n := range a.calls {
		total += n
		ops = append(ops, fmt.Sprintf("%s %d (slowest %v)", op, n, round(a.slowest[op])))
	}
	sort.Strings(ops)
	groups := map[string]int{}
	for _, al := range a.lockers {
		groups[al.group()]++
	}
	t.Logf("attack of %v: %d swaps (%.0f/s) at %d names; %d locks (%s) made %d calls, and took their locks %d times: %s",
		round(elapsed), swaps, float64(swaps)/elapsed.Seconds(), names, len(a.lockers), countList(groups), total, a.acquired, strings.Join(ops, ", "))
	t.Logf("documented errors: %s", countList(a.kinds))
	if len(a.odd) == 0 {
		t.Logf("undocumented errors: none")
		return
	}
	oddTotal := 0
	for _, n := range a.odd {
		oddTotal += n
	}
	t.Errorf("%d errors under attack wrap none of the documented errors (%s); by text:\n%s",
		oddTotal, documentedNames(), countLines(a.odd))
}

// countList formats counts as "a 3, b 1", largest first.
func countList(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := sortedByCount(m)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// countLines formats counts one per line, largest first.
func countLines(m map[string]int) string {
	var b strings.Builder
	for _, k := range sortedByCount(m) {
		fmt.Fprintf(&b, "%7d× %s\n", m[k], k)
	}
	return b.String()
}

func sortedByCount(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}

// afterwards empties the directory the attacker left and checks that
// every lock then takes and releases the lock, leaving only the fencing
// counter.
func (a *attack) afterwards(t *testing.T, env *Env) {
	t.Helper()
	names, err := os.ReadDir(a.dir)
	if err != nil {
		t.Fatalf("listing %s after the attack: %v", a.dir, err)
	}
	for _, e := range names {
		if err := os.RemoveAll(filepath.Join(a.dir, e.Name())); err != nil {
			t.Fatalf("emptying %s after the attack: %v", a.dir, err)
		}
	}
	for _, al := range a.lockers {
		for _, step := range al.round() {
			ctx, cancel := context.WithTimeout(context.Background(), a.margin)
			err := step.do(ctx)
			cancel()
			if err != nil {
				t.Errorf("after the attack, in the emptied directory, %v: %s: %v", al, step.op, err)
				break
			}
		}
	}
	got, err := env.List()
	if err != nil {
		t.Fatalf("listing %s: %v", a.dir, err)
	}
	// What the locks keep: the fencing counters (of the exclusive lock,
	// the shared lock's writers and the semaphore's first slot) and the
	// reader count. The semaphore's count file is written by the first
	// Semaphore to use the lock, and each checks it once: these, having
	// checked it during the attack, do not write it again.
	got = slices.DeleteFunc(got, func(n string) bool { return n == attackSemaphore+".slots" })
	want := []string{attackExclusive + ".fence", slotFile(attackSemaphore, "slot", 0) + ".fence", attackShared + ".fence", attackShared + ".readers"}
	if !slices.Equal(got, want) {
		t.Errorf("after the attack and one round of taking and releasing by each lock in the emptied directory, the directory holds %q, want %q", got, want)
	}
}

// A roundStep is one call of a lock's round after the attack.
type roundStep struct {
	op string
	do func(ctx context.Context) error
}

// round is what al does after the attack, each call of which must succeed:
// take its lock and release it (as a reader, then as the writer, for the
// shared lock).
func (al *attackLocker) round() []roundStep {
	switch al.kind {
	case "rwlock":
		return []roundStep{
			{"RLock", al.rw.RLock},
			{"RUnlock", func(context.Context) error { return al.rw.RUnlock() }},
			{"Lock", al.rw.Lock},
			{"Unlock", func(context.Context) error { return al.rw.Unlock() }},
		}
	case "semaphore":
		return []roundStep{
			{"Acquire", func(ctx context.Context) error { _, err := al.sem.Acquire(ctx); return err }},
			{"Release", func(context.Context) error { return al.sem.Release() }},
		}
	}
	return []roundStep{
		{"Lock", al.l.Lock},
		{"Unlock", func(context.Context) error { return al.l.Unlock() }},
	}
}

// A victim is a file outside the lock directory that the attacker's
// symbolic links point to, and what it was before the attack.
type victim struct {
	path     string
	contents []byte
	desc     string
}

// makeVictims makes the victim files: one beside the lock directory, on the
// same filesystem, and one in the test's own temporary directory. Each
// holds what would be an expired lock, were it at the lock path, and is
// dated a day ago: a lock that followed a link to it would be tempted to
// break it, re-date it or write its claim into it.
func (a *attack) makeVictims(t *testing.T, lockDir string) {
	t.Helper()
	near, err := os.MkdirTemp(filepath.Dir(lockDir), "nfslock-victim-*")
	if err != nil {
		t.Fatalf("making a directory for a victim file beside the lock directory: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(near) })
	contents := []byte(strings.Join([]string{a.lockPath, "victim.example.org", "4242", "7"}, a.sep))
	old := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	for _, dir := range []string{near, t.TempDir()} {
		p := filepath.Join(dir, "victim")
		if err := os.WriteFile(p, contents, 0o640); err != nil {
			t.Fatalf("writing the victim file: %v", err)
		}
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatalf("dating the victim file: %v", err)
		}
		desc, err := describeVictim(p)
		if err != nil {
			t.Fatalf("describing the victim file: %v", err)
		}
		a.victims = append(a.victims, victim{path: p, contents: contents, desc: desc})
	}
}

// describeVictim describes the file at path finely enough that any change
// to it shows: its mode, size, modification and change times, inode and
// link count.
func describeVictim(path string) (string, error) {
	d, err := DescribeOnDisk(path)
	if err != nil {
		return "", err
	}
	return d + inodeTimes(path), nil
}

// checkVictims fails the test for each victim file that changed.
func (a *attack) checkVictims(t *testing.T) {
	t.Helper()
	for _, v := range a.victims {
		data, err := os.ReadFile(v.path)
		switch {
		case err != nil:
			t.Errorf("the victim file %s outside the lock directory: %v", v.path, err)
			continue
		case string(data) != string(v.contents):
			t.Errorf("the victim file %s outside the lock directory was written: it held %q, now %q", v.path, v.contents, data)
		}
		if d, err := describeVictim(v.path); err != nil || d != v.desc {
			t.Errorf("the victim file %s outside the lock directory was changed: before: %s; after: %s (%v)", v.path, v.desc, d, err)
		}
	}
}

// linkTargetRedated reports whether the backend's Chtimes of a symbolic
// link changes the file the link points to. locker.FS forbids it, but
// sshfs does it: SFTP names files by path, and its server follows a link
// when it sets times, whatever the client asked. The link points to a file
// beside it, by a relative name, so that the server finds that file
// wherever it runs.
func linkTargetRedated(t *testing.T, env *Env) bool {
	t.Helper()
	target := filepath.Join(env.Dir, "attack-probe-target")
	link := filepath.Join(env.Dir, "attack-probe-link")
	defer os.Remove(target)
	defer os.Remove(link)
	old := time.Now().Add(-24 * time.Hour).Truncate(time.Second)
	if err := os.WriteFile(target, []byte("x"), 0o644); err != nil {
		t.Fatalf("probing how the filesystem dates symbolic links: %v", err)
	}
	if err := os.Chtimes(target, old, old); err != nil {
		t.Fatalf("probing how the filesystem dates symbolic links: %v", err)
	}
	if err := os.Symlink(filepath.Base(target), link); err != nil {
		t.Fatalf("probing how the filesystem dates symbolic links: %v", err)
	}
	later := old.Add(time.Hour)
	if err := env.FS.Chtimes(link, later, later); err != nil {
		t.Logf("probing how the filesystem dates symbolic links: Chtimes of a link: %v", err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		t.Fatalf("probing how the filesystem dates symbolic links: %v", err)
	}
	return !fi.ModTime().Equal(old)
}

// slotFile is the name of slot k of kind ("reader", "slot") of the lock
// file base.
func slotFile(base, kind string, k int) string {
	return base + "." + kind + "." + strconv.Itoa(k)
}
