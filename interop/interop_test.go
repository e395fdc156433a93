//go:build unix

package interop

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// fluflClockSlop is flufl.lock's CLOCK_SLOP (10 s in 5.0.1 and 9.x): it
// breaks a lock this long after the lock's expiry.
const fluflClockSlop = 10 * time.Second

// TestFluflVersion names the flufl.lock under test, checks that it is the
// one NFSLOCK_PYTHONPATH names, if set, and that Go's default host name is
// flufl.lock's.
func TestFluflVersion(t *testing.T) {
	requireFlufl(t)
	t.Logf("under test: %s; its host name (socket.getfqdn()): %q", flufl, flufl.host)
	if dirs := flufl.pythonPath; len(dirs) > 0 && !slices.ContainsFunc(dirs, func(dir string) bool {
		return strings.HasPrefix(flufl.file, filepath.Clean(dir)+string(filepath.Separator))
	}) {
		t.Errorf("flufl.lock was imported from %s, not from a directory of %s=%s: an installed flufl.lock shadows the one named there",
			flufl.file, pythonPathEnv, strings.Join(dirs, string(os.PathListSeparator)))
	}
	if _, err := flufl.major(); err != nil {
		t.Error(err)
	}
	l := newGoLock(t, filepath.Join(t.TempDir(), "x.lock"))
	kernel, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	if loopbackFQDN() {
		// getfqdn names every such host alike: Go writes the kernel's name.
		if l.Hostname() != kernel {
			t.Errorf("Go's default host name is %q; flufl.lock's, %q, is a loopback name, so it should be the kernel's, %q", l.Hostname(), flufl.host, kernel)
		}
	} else if l.Hostname() != flufl.host {
		t.Errorf("Go's default host name is %q, flufl.lock's is %q: State cannot agree between them", l.Hostname(), flufl.host)
	}
}

// loopbackFQDN reports whether flufl.lock's host name here is one of the
// loopback names every host may have (so that Go writes the kernel's host
// name instead): localhost and the like, or a name of loopback addresses
// only that is not the kernel's name with a domain.
func loopbackFQDN() bool {
	switch strings.ToLower(flufl.host) {
	case "localhost", "localhost.localdomain", "localhost4", "localhost4.localdomain4",
		"localhost6", "localhost6.localdomain6", "ip6-localhost", "ip6-loopback":
		return true
	}
	kernel, _ := os.Hostname()
	if flufl.host == kernel || strings.HasPrefix(flufl.host, kernel+".") {
		return false
	}
	addrs, err := net.LookupHost(flufl.host)
	if err != nil || len(addrs) == 0 {
		return false
	}
	for _, a := range addrs {
		if ip := net.ParseIP(a); ip == nil || !ip.IsLoopback() {
			return false
		}
	}
	return true
}

// TestGoHoldsPythonObserves: a lock taken by Go, as flufl.lock sees it.
func TestGoHoldsPythonObserves(t *testing.T) {
	requireFlufl(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	g := newGoLock(t, path, locker.WithLifetime(30*time.Second))
	if err := g.TryLock(); err != nil {
		t.Fatalf("Go TryLock: %v", err)
	}
	defer g.Unlock()
	// Another Go claimant of this host, to compare states with flufl.lock's
	// (a separate Python process is to the holder what this one is).
	observer := newGoLock(t, path, locker.WithPID(os.Getpid()+1_000_000))
	p := startPy(t, dir, path, 30*time.Second)

	if r := p.must("is_locked"); r.Value != false {
		t.Errorf("flufl is_locked = %v, want false: the Go process holds the lock", r.Value)
	}
	r := p.must("details")
	if r.Hostname != g.Hostname() || r.PID != os.Getpid() || r.LockFile != path {
		t.Errorf("flufl details = (%q, %d, %q), want the Go holder's (%q, %d, %q)",
			r.Hostname, r.PID, r.LockFile, g.Hostname(), os.Getpid(), path)
	}
	checkStates(t, p, observer, "unknown", "unknown") // a live process of this host, unexpired
	if r := p.do("lock 1"); r.OK || r.Error != "TimeOutError" {
		t.Errorf("flufl lock(timeout=1) while Go holds the lock: %+v, want TimeOutError", r)
	}
	if !g.IsLocked() {
		t.Errorf("Go lost the lock while flufl.lock waited for it")
	}
	// Expired (but not yet breakable): theirs_expired on both sides,
	// where both write the same host name.
	age(t, path, time.Second)
	checkStates(t, p, observer, acrossImplementations("theirs_expired"), "theirs_expired")
	p.stop()
	if err := g.Unlock(); err != nil {
		t.Errorf("Go Unlock: %v", err)
	}
	wantFiles(t, dir)
}

// checkStates compares flufl.lock's state, from a Python process, with Go's
// State from a Lock in the same position: another process of the same host.
// They agree where Go and flufl.lock write the same host name; where
// flufl.lock's is a loopback name, each calls the other's lock unknown
// where it would say stale or theirs_expired (acrossImplementations).
func checkStates(t *testing.T, p *pyLock, g *locker.Lock, pyWant, goWant string) {
	t.Helper()
	py := p.must("state").Value
	st, err := g.State()
	if err != nil {
		t.Fatalf("Go State: %v", err)
	}
	if py != pyWant || st.String() != goWant {
		t.Errorf("state: flufl.lock says %v, Go says %v, want %s and %s", py, st, pyWant, goWant)
	} else {
		t.Logf("state: flufl.lock says %s, Go %s", py, st)
	}
}

// acrossImplementations returns the state a process of this host sees of a
// lock the other implementation (Go or flufl.lock) holds here, where the
// same implementation would see want. Where flufl.lock's host name is a
// loopback name, Go writes the kernel's host name instead, so that each
// takes the other's lock for another host's: unknown, never stale or
// theirs_expired, the safe side.
func acrossImplementations(want string) string {
	if loopbackFQDN() && (want == "stale" || want == "theirs_expired") {
		return "unknown"
	}
	return want
}

// TestPythonHoldsGoObserves: a lock taken by flufl.lock, as Go sees it.
func TestPythonHoldsGoObserves(t *testing.T) {
	requireFlufl(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	p := startPy(t, dir, path, 30*time.Second)
	p.must("lock 5")
	if r := p.must("state"); r.Value != "ours" {
		t.Errorf("flufl state of its own lock = %v, want ours", r.Value)
	}
	g := newGoLock(t, path, locker.WithTimeout(time.Second))

	if err := g.TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Errorf("Go TryLock while Python holds the lock: %v, want ErrBusy", err)
	}
	d, err := g.Details()
	if err != nil {
		t.Fatalf("Go Details: %v", err)
	}
	if d.PID != p.PID || d.Hostname != p.Host || d.LockFile != path {
		t.Errorf("Go Details = %+v, want the Python holder's pid %d host %q lock file %q", d, p.PID, p.Host, path)
	}
	// A second Python process is in the Go lock's position.
	other := startPy(t, dir, path, 30*time.Second)
	checkStates(t, other, g, "unknown", "unknown")

	start := time.Now()
	err = g.Lock(t.Context())
	switch {
	case !errors.Is(err, locker.ErrTimeout):
		t.Errorf("Go Lock with a 1 s timeout while Python holds the lock: %v, want ErrTimeout", err)
	case !strings.Contains(err.Error(), "pid "+strconv.Itoa(p.PID)):
		t.Errorf("timeout error %q does not name the Python holder's pid %d", err, p.PID)
	default:
		t.Logf("Go Lock after %v: %v", time.Since(start).Round(time.Millisecond), err)
	}
	if r := p.must("is_locked"); r.Value != true {
		t.Errorf("flufl is_locked = %v after Go's attempts, want true", r.Value)
	}
	age(t, path, time.Second)
	checkStates(t, other, g, "theirs_expired", acrossImplementations("theirs_expired"))
	other.stop()
	p.must("unlock")
	wantFiles(t, dir)
}

// TestGoBreaksExpiredPythonLock: a flufl.lock holder dies with the lock;
// once it is expired for longer than the clock slop, Go breaks it.
func TestGoBreaksExpiredPythonLock(t *testing.T) {
	requireFlufl(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	p := startPy(t, dir, path, 5*time.Second)
	p.must("lock 5")
	pid := p.PID
	p.exit()
	g := newGoLock(t, path)
	if st, err := g.State(); err != nil || st.String() != acrossImplementations("stale") {
		t.Errorf("Go State of a dead Python holder's lock: %v, %v; want %s", st, err, acrossImplementations("stale"))
	}
	// Not yet expired for the slop: Go must not break it.
	if err := g.TryLock(); !errors.Is(err, locker.ErrBusy) {
		t.Fatalf("Go TryLock on an unexpired Python lock: %v, want ErrBusy", err)
	}
	age(t, path, locker.DefaultClockSlop+5*time.Second)
	if err := g.TryLock(); err != nil {
		t.Fatalf("Go TryLock on a Python lock expired for longer than the slop (holder pid %d): %v", pid, err)
	}
	wantFiles(t, dir, "x.lock", filepath.Base(g.ClaimFile()))
	if err := g.Unlock(); err != nil {
		t.Errorf("Go Unlock: %v", err)
	}
	wantFiles(t, dir)
}

// TestPythonBreaksExpiredGoLock: a Go holder's lock expired for longer than
// flufl.lock's CLOCK_SLOP; flufl.lock breaks it and takes the lock.
func TestPythonBreaksExpiredGoLock(t *testing.T) {
	requireFlufl(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "x.lock")
	g := newGoLock(t, path, locker.WithLifetime(5*time.Second))
	if err := g.TryLock(); err != nil {
		t.Fatalf("Go TryLock: %v", err)
	}
	p := startPy(t, dir, path, 5*time.Second)
	if r := p.do("lock 1"); r.OK || r.Error != "TimeOutError" {
		t.Fatalf("flufl lock(timeout=1) on an unexpired Go lock: %+v, want TimeOutError", r)
	}
	age(t, path, fluflClockSlop+5*time.Second)
	r := p.must("lock 10")
	t.Logf("flufl.lock broke the expired Go lock and took it in %.2f s", r.Elapsed)
	if g.IsLocked() {
		t.Errorf("Go IsLocked = true after flufl.lock broke its lock")
	}
	if err := g.Unlock(); !errors.Is(err, locker.ErrNotLocked) && !errors.Is(err, locker.ErrLost) {
		t.Errorf("Go Unlock of a broken lock: %v, want ErrNotLocked or ErrLost", err)
	}
	if d, err := g.Details(); err != nil || d.PID != p.PID {
		t.Errorf("after Go's Unlock the lock is %+v (%v), want still flufl's (pid %d)", d, err, p.PID)
	}
	p.must("unlock")
	wantFiles(t, dir)
}

// TestForeignFile: a file at the lock path that is not a lock, expired by
// its modification time. Go never changes it. flufl.lock differs by
// version (see fluflBreaksForeign), and the test checks that it does what
// its version does, so that docs/python-interop.md's account of it stays true.
func TestForeignFile(t *testing.T) {
	requireFlufl(t)
	major, err := flufl.major()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, contents string
		// fluflBreaks says whether flufl.lock before 6.0, and since 6.0,
		// breaks the file (deletes it) and takes the lock.
		fluflBreaks [2]bool
	}{
		{"empty", "", [2]bool{true, false}},
		{"precious", "precious data", [2]bool{true, false}},
		// Four fields and a number: flufl.lock 6.0 and later take it for a
		// lock, and break it. Go reads a claim of another lock file.
		{"claim of another lock", "other.lock|elsewhere|12345|678", [2]bool{true, true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.lock")
			if err := os.WriteFile(path, []byte(tc.contents), 0o644); err != nil {
				t.Fatal(err)
			}
			// Long expired by anyone's measure.
			age(t, path, time.Hour)
			before, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			unchanged := func(who string) {
				t.Helper()
				after, err := os.Stat(path)
				if err != nil {
					t.Fatalf("the foreign file is gone after %s's attempts: %v", who, err)
				}
				data, _ := os.ReadFile(path)
				if string(data) != tc.contents || !after.ModTime().Equal(before.ModTime()) || !os.SameFile(before, after) {
					t.Fatalf("%s changed the foreign file: contents %q mtime %v, was %q mtime %v",
						who, data, after.ModTime(), tc.contents, before.ModTime())
				}
				wantFiles(t, dir, "x.lock")
			}
			g := newGoLock(t, path, locker.WithTimeout(time.Second))
			if err := g.TryLock(); !errors.Is(err, locker.ErrForeignFile) {
				t.Errorf("Go TryLock: %v, want ErrForeignFile", err)
			}
			if err := g.Lock(t.Context()); !errors.Is(err, locker.ErrForeignFile) {
				t.Errorf("Go Lock: %v, want ErrForeignFile", err)
			}
			if _, err := g.Details(); !errors.Is(err, locker.ErrForeignFile) {
				t.Errorf("Go Details: %v, want ErrForeignFile", err)
			}
			unchanged("Go")

			// flufl.lock's turn. Both agree the state is unknown.
			p := startPy(t, dir, path, 5*time.Second)
			checkStates(t, p, g, "unknown", "unknown")
			breaks := tc.fluflBreaks[0]
			if major >= 6 {
				breaks = tc.fluflBreaks[1]
			}
			r := p.do("lock 2")
			data, _ := os.ReadFile(path)
			switch {
			case breaks && r.OK:
				if !strings.HasPrefix(string(data), path+"|") {
					t.Fatalf("flufl.lock took the lock, but the lock path holds %q, not its claim", data)
				}
				t.Logf("flufl.lock %s deleted the foreign file %q (it looked expired) and took the lock, as versions %s 6.0 do", flufl.version, tc.contents, beforeOrSince(major))
				p.must("unlock")
				wantFiles(t, dir)
			case breaks:
				t.Fatalf("flufl.lock %s lock(timeout=2): %s: %s; want it to break the foreign file %q and take the lock, as versions %s 6.0 do",
					flufl.version, r.Error, r.Message, tc.contents, beforeOrSince(major))
			case r.OK:
				p.must("unlock")
				t.Fatalf("flufl.lock %s broke the foreign file %q and took the lock; want TimeOutError, leaving it alone, as versions %s 6.0 do",
					flufl.version, tc.contents, beforeOrSince(major))
			case r.Error != "TimeOutError":
				t.Fatalf("flufl.lock %s lock(timeout=2): %s: %s; want TimeOutError", flufl.version, r.Error, r.Message)
			default:
				unchanged("flufl.lock")
				t.Logf("flufl.lock %s left the foreign file %q alone and timed out, as versions %s 6.0 do", flufl.version, tc.contents, beforeOrSince(major))
			}
		})
	}
}

func beforeOrSince(major int) string {
	if major >= 6 {
		return "since"
	}
	return "before"
}
