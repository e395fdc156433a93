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
// are those anyone can predict (<lock>, <lock>.break, <lock>.fence) and
// those anyone who lists the directory learns: each claim name, and the
// names a lock derives from it (<claim>.fence-tmp, <claim>.moved,
// <claim>.moved.look). Meanwhile several locks, half of them fencing,
// contend for the lock, each call bounded by a deadline. Afterwards:
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

// attackLockers is how many locks contend during the attack; the even ones
// fence.
const attackLockers = 4

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
		lockPath: filepath.Join(env.Dir, "resource.lock"),
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
	a.lockers = make([]*attackLocker, attackLockers)
	for i := range a.lockers {
		dir := dirs[i%len(dirs)]
		opts := []locker.Option{
			locker.WithHostname(fmt.Sprintf("attack-locker-%d", i+1)),
			locker.WithPID(os.Getpid()),
			locker.WithLifetime(lifetime),
			locker.WithClockSlop(slop),
			locker.WithBackoff(time.Millisecond, 20*time.Millisecond),
		}
		fencing := i%2 == 0
		if fencing {
			opts = append(opts, locker.WithFencing())
		}
		l, err := locker.New(filepath.Join(dir, "resource.lock"), b.Open(dir), opts...)
		if err != nil {
			t.Fatalf("locker.New: %v", err)
		}
		a.lockers[i] = &attackLocker{id: i + 1, l: l, fencing: fencing, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
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
	l       *locker.Lock
	fencing bool
	rng     *rand.Rand

	mu       sync.Mutex
	op       string    // the call in progress, or ""
	started  time.Time // when it began
	limit    time.Duration
	reported bool // the watchdog has reported it
}

func (al *attackLocker) String() string {
	if al.fencing {
		return fmt.Sprintf("locker %d (fencing)", al.id)
	}
	return fmt.Sprintf("locker %d", al.id)
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
	if err == nil && (op == "Lock" || op == "TryLock") {
		a.acquired++
	}
	if err != nil {
		group := "plain"
		if al.fencing {
			group = "fencing"
		}
		if k := documentedKind(err); k != "" {
			a.kinds[group+"/"+k]++
		} else {
			a.odd[fmt.Sprintf("%s (%s): %s", op, group, a.normalise(err.Error()))]++
		}
	}
	return err
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

// contend makes al take and release the lock, with the other calls of a
// holder and of a waiter between, until stop is closed.
func (a *attack) contend(al *attackLocker, stop <-chan struct{}) {
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
	t.Logf("attack of %v: %d swaps (%.0f/s) at %d names; %d locks (%d fencing) made %d calls, and took the lock %d times: %s",
		round(elapsed), swaps, float64(swaps)/elapsed.Seconds(), names, len(a.lockers), (len(a.lockers)+1)/2, total, a.acquired, strings.Join(ops, ", "))
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
		ctx, cancel := context.WithTimeout(context.Background(), a.margin)
		err := al.l.Lock(ctx)
		cancel()
		if err != nil {
			t.Errorf("after the attack, in the emptied directory, %v could not take the lock: %v", al, err)
			continue
		}
		if err := al.l.Unlock(); err != nil {
			t.Errorf("after the attack, in the emptied directory, %v took the lock but could not release it: %v", al, err)
		}
	}
	got, err := env.List()
	if err != nil {
		t.Fatalf("listing %s: %v", a.dir, err)
	}
	if want := []string{filepath.Base(a.lockPath) + ".fence"}; !slices.Equal(got, want) {
		t.Errorf("after the attack and one round of Lock and Unlock by each lock in the emptied directory, the directory holds %q, want %q", got, want)
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
