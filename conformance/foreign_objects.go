package conformance

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// ObjectKind is a kind of object that no lock makes, which the suite puts at
// a lock's names to check that the lock refuses it without blocking,
// without reading it whole and without touching it (see Env.MakeObject).
type ObjectKind int

const (
	// Directory is an empty directory.
	Directory ObjectKind = iota + 1
	// FIFO is a named pipe with no writer: opening it for reading without
	// O_NONBLOCK blocks for ever.
	FIFO
	// Socket is a Unix-domain socket that nothing listens on.
	Socket
	// CharDevice is a character device like /dev/null (on Linux, major 1,
	// minor 3); making one usually needs root.
	CharDevice
	// Symlink is a symbolic link to Object.Target, which need not exist.
	Symlink
	// SparseFile is a regular file of Object.Size bytes, all zero, made
	// with truncate so that it takes no space.
	SparseFile
)

func (k ObjectKind) String() string {
	switch k {
	case Directory:
		return "directory"
	case FIFO:
		return "FIFO"
	case Socket:
		return "socket"
	case CharDevice:
		return "character device"
	case Symlink:
		return "symbolic link"
	case SparseFile:
		return "sparse file"
	}
	return fmt.Sprintf("ObjectKind(%d)", int(k))
}

// Object describes an object for Env.MakeObject to make.
type Object struct {
	Kind   ObjectKind
	Target string // for Symlink: what the link points to
	Size   int64  // for SparseFile: its length in bytes
}

// hugeSparseSize is the length of the sparse file scenario: far more than a
// test may hold in memory, as a lock that read it whole would.
const hugeSparseSize = 3 << 30

// scenarioForeignObjects puts at the lock path, in turn, each kind of object
// that no lock makes, and checks that every operation refuses it at once
// with ErrForeignFile and leaves it as it was.
func scenarioForeignObjects(t *testing.T, b Backend) {
	const rule = "an object at the lock path that no lock makes is a foreign file: refused at once with ErrForeignFile, without blocking, left untouched, no claim file left"
	for _, tc := range foreignObjectCases() {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, rule)
			// The Lock is made first: New refuses a lock path that is
			// a directory, which is bad input rather than a foreign file.
			faults := faultfs.New(s.env.FS)
			l := s.newLockOn(faults, s.path)
			extra := tc.make(s, s.path)
			watched := append([]string{s.path}, extra...)
			before := s.describeObjects(watched)

			desc := tc.name + " at the lock path"
			s.checkErr("Lock with "+desc, s.bounded("Lock", func() error { return l.Lock(s.ctx) }), locker.ErrForeignFile)
			if n := faults.Calls(faultfs.OpLink); n != 1 {
				s.errorf("Lock with %s made %d link attempts, want exactly 1: it must give up at once", desc, n)
			}
			s.checkErr("TryLock with "+desc, s.bounded("TryLock", l.TryLock), locker.ErrForeignFile)
			var state locker.State
			err := s.bounded("State", func() error {
				var err error
				state, err = l.State()
				return err
			})
			if s.checkErr("State with "+desc, err, locker.ErrForeignFile) && state != locker.Unknown {
				s.errorf("State with %s = %v, want %v", desc, state, locker.Unknown)
			}
			err = s.bounded("Details", func() error { _, err := l.Details(); return err })
			s.checkErr("Details with "+desc, err, locker.ErrForeignFile)
			err = s.bounded("Expiration", func() error { _, err := l.Expiration(); return err })
			s.checkErr("Expiration with "+desc, err, locker.ErrForeignFile)
			var locked bool
			s.bounded("IsLocked", func() error { locked = l.IsLocked(); return nil })
			if locked {
				s.errorf("IsLocked with %s = true, want false", desc)
			}
			s.checkErr("Unlock with "+desc, s.bounded("Unlock", l.Unlock), locker.ErrNotLocked)

			s.wantUnchanged(watched, before)
			if s.look(l.ClaimFile()).exists {
				s.errorf("with %s: claim file %s left behind", desc, l.ClaimFile())
			}
			s.wantFiles("after the refused Lock and TryLock", watched...)
		})
	}
}

// scenarioForeignBreakLock puts objects that are not break locks at the
// break lock's path, next to an expired lock, and checks that a Lock that
// would break the lock gives up at once with ErrForeignFile, touching
// neither.
func scenarioForeignBreakLock(t *testing.T, b Backend) {
	const rule = "an object at <lockfile>.break that is not a break lock: a Lock that would break an expired lock fails at once with ErrForeignFile, without blocking, touching nothing"
	cases := append(foreignObjectCases(), foreignObjectCase{"Text", func(s *scene, path string) []string {
		s.writeFile(path, "precious data\n")
		return nil
	}})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newScene(t, b, rule)
			breakPath := s.path + ".break"
			// An expired lock of a host that is gone.
			abs, err := filepath.Abs(s.path)
			if err != nil {
				t.Fatal(err)
			}
			s.writeFile(s.path, strings.Join([]string{abs, "gone.example.org", "4242", "1"}, locker.DefaultSeparator))
			old := s.tl.now().Add(-24 * time.Hour)
			if err := s.env.FS.Chtimes(s.path, old, old); err != nil {
				t.Fatalf("dating the expired lock: %v", err)
			}
			l := s.newLock()
			extra := tc.make(s, breakPath)
			watched := append([]string{s.path, breakPath}, extra...)
			before := s.describeObjects(watched)

			desc := tc.name + " at the break lock's path, and an expired lock"
			s.checkErr("Lock with "+desc, s.bounded("Lock", func() error { return l.Lock(s.ctx) }), locker.ErrForeignFile)
			s.checkErr("TryLock with "+desc, s.bounded("TryLock", l.TryLock), locker.ErrForeignFile)

			s.wantUnchanged(watched, before)
			if s.look(l.ClaimFile()).exists {
				s.errorf("with %s: claim file %s left behind", desc, l.ClaimFile())
			}
			s.wantFiles("after the refused Lock and TryLock", watched...)
		})
	}
}

// scenarioForeignObjectsAtOwnNames puts a directory, which a Lock cannot
// remove as a file, at each name a Lock makes for itself: its claim file,
// its break claim, the name it moves a file aside to before removing it,
// and, with fencing, its temporary token file. Such a name is the Lock's
// own, so anything else found there (a file, a link, a FIFO) is removed
// and the file made afresh; a directory stays, and the operation fails at
// once with ErrForeignFile instead of waiting for ever.
func scenarioForeignObjectsAtOwnNames(t *testing.T, b Backend) {
	const rule = "a directory at a name a Lock makes for itself (its claim file, break claim, aside name, temporary token file) fails the operation at once with ErrForeignFile, and is left alone with everything else"
	tests := []struct {
		name    string
		fencing bool
		expired bool // an expired lock of a host that is gone is in place, to be broken
		at      func(l *locker.Lock) string
	}{
		{"ClaimFile", false, false, (*locker.Lock).ClaimFile},
		{"BreakClaim", false, true, func(l *locker.Lock) string {
			return strings.Replace(l.ClaimFile(), l.LockFile(), l.LockFile()+".break", 1)
		}},
		{"AsideName", false, true, func(l *locker.Lock) string { return l.ClaimFile() + ".moved" }},
		{"TokenFile", true, false, func(l *locker.Lock) string { return l.ClaimFile() + ".fence-tmp" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScene(t, b, rule)
			var opts []locker.Option
			if tt.fencing {
				opts = append(opts, locker.WithFencing())
			}
			l := s.newLock(opts...)
			watched := []string{tt.at(l)}
			if tt.expired {
				s.writeFile(s.path, strings.Join([]string{l.LockFile(), "gone.example.org", "4242", "1"}, locker.DefaultSeparator))
				old := s.tl.now().Add(-24 * time.Hour)
				if err := s.env.FS.Chtimes(s.path, old, old); err != nil {
					t.Fatalf("dating the expired lock: %v", err)
				}
				watched = append(watched, s.path)
			}
			s.makeObject(watched[0], Object{Kind: Directory})
			before := s.describeObjects(watched)
			desc := "a directory at " + filepath.Base(watched[0])

			s.checkErr("Lock with "+desc, s.bounded("Lock", func() error { return l.Lock(s.ctx) }), locker.ErrForeignFile)
			s.checkErr("TryLock with "+desc, s.bounded("TryLock", l.TryLock), locker.ErrForeignFile)
			if tt.expired {
				_, err := l.Break()
				s.checkErr("Break with "+desc, err, locker.ErrForeignFile)
			}
			err := s.bounded("Unlock", l.Unlock)
			s.checkErr("Unlock with "+desc+", of a lock never taken", err, locker.ErrNotLocked)
			if tt.name == "ClaimFile" {
				// Unlock removes the claim file it finds: here it
				// cannot.
				s.checkErr("Unlock with "+desc, err, locker.ErrForeignFile)
			}
			s.wantUnchanged(watched, before)
			s.wantFiles("after the refused operations", watched...)
		})
	}
}

// scenarioObjectsSwappedIn replaces the lock file, in the middle of an
// operation (just before the lock's first Stat of it, or its removal), with
// an object no lock makes: the operation must end with no error or a
// documented one, and leave the other files of the directory alone.
func scenarioObjectsSwappedIn(t *testing.T, b Backend) {
	const rule = "an object no lock makes, put at the lock path in the middle of an operation, ends it with a documented error (or none), and nothing is done through it"
	kinds := []struct {
		name string
		obj  func(s *scene) Object
	}{
		{"Directory", func(*scene) Object { return Object{Kind: Directory} }},
		{"FIFO", func(*scene) Object { return Object{Kind: FIFO} }},
		{"SymlinkLoop", func(s *scene) Object { return Object{Kind: Symlink, Target: s.path} }},
		{"SymlinkToVictim", func(s *scene) Object { return Object{Kind: Symlink, Target: filepath.Join(s.env.Dir, "victim")} }},
	}
	calls := []struct {
		name string
		at   faultfs.Op // the call before which the object is swapped in
		held bool       // the Lock under test holds the lock, not another
		call func(l *locker.Lock) error
	}{
		{"State", faultfs.OpStat, false, func(l *locker.Lock) error { _, err := l.State(); return err }},
		{"Details", faultfs.OpStat, false, func(l *locker.Lock) error { _, err := l.Details(); return err }},
		{"Expiration", faultfs.OpStat, false, func(l *locker.Lock) error { _, err := l.Expiration(); return err }},
		{"TryLock", faultfs.OpStat, false, func(l *locker.Lock) error { return l.TryLock() }},
		{"IsLocked", faultfs.OpStat, true, func(l *locker.Lock) error {
			if l.IsLocked() {
				return errors.New("IsLocked = true with an object no lock makes at the lock path")
			}
			return nil
		}},
		{"Unlock", faultfs.OpRemove, true, func(l *locker.Lock) error { return l.Unlock() }},
	}
	for _, k := range kinds {
		for _, c := range calls {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				s := newScene(t, b, rule)
				victim := filepath.Join(s.env.Dir, "victim")
				s.writeFile(victim, "precious")
				faults := faultfs.New(s.env.FS)
				l := s.newLockOn(faults, s.path)
				holder := s.newLock()
				if c.held {
					holder = l
				}
				s.requireErr("Lock", holder.Lock(s.ctx), nil)
				obj := k.obj(s)
				if s.env.MakeObject == nil {
					t.Skipf("the backend cannot make a %v (its Env has no MakeObject)", obj.Kind)
				}
				// The hook runs inside the operation, on the Lock's
				// goroutine: it records what went wrong, and the test
				// reports it here.
				swapped := false
				var makeErr error
				faults.SetHook(func(op faultfs.Op, args ...string) {
					if op != c.at || args[0] != s.path || swapped {
						return
					}
					swapped = true
					if err := s.env.FS.Remove(s.path); err != nil {
						t.Errorf("removing the lock file to swap in a %v: %v", obj.Kind, err)
					}
					makeErr = s.env.MakeObject(s.path, obj)
				})
				before := s.describeObjects([]string{victim})
				err := s.bounded(c.name, func() error { return c.call(l) })
				faults.SetHook(nil)
				switch {
				case !swapped:
					t.Skipf("%s made no %v of the lock file: nothing was swapped in", c.name, c.at)
				case errors.Is(makeErr, errors.ErrUnsupported):
					t.Skipf("the backend cannot make a %v here: %v", obj.Kind, makeErr)
				case makeErr != nil:
					t.Fatalf("making a %v at %s: %v", obj.Kind, s.path, makeErr)
				}
				if err != nil && documentedKind(err) == "" {
					s.errorf("%s with a %v swapped in at the lock path: got %s, want no error or one wrapping a documented error (%s)", c.name, obj.Kind, errText(err), documentedNames())
				}
				s.wantUnchanged([]string{victim}, before)
			})
		}
	}
}

// documentedErrors are the errors a lock's caller may branch on (see the
// locker's errors.go), in the order an error is attributed to them.
var documentedErrors = []struct {
	name string
	err  error
}{
	{"ErrForeignFile", locker.ErrForeignFile},
	{"ErrTimeout", locker.ErrTimeout},
	{"ErrBusy", locker.ErrBusy},
	{"ErrNotLocked", locker.ErrNotLocked},
	{"ErrLost", locker.ErrLost},
	{"ErrAlreadyLocked", locker.ErrAlreadyLocked},
	{"ErrInvalid", locker.ErrInvalid},
	{"context.DeadlineExceeded", context.DeadlineExceeded},
	{"context.Canceled", context.Canceled},
}

// documentedKind returns the name of the documented error err wraps, or ""
// if it wraps none.
func documentedKind(err error) string {
	for _, d := range documentedErrors {
		if errors.Is(err, d.err) {
			return d.name
		}
	}
	return ""
}

// documentedNames lists the documented errors' names, for a message.
func documentedNames() string {
	names := make([]string, len(documentedErrors))
	for i, d := range documentedErrors {
		names[i] = d.name
	}
	return strings.Join(names, ", ")
}

// A foreignObjectCase makes one kind of foreign object at path, skipping the
// test if the backend cannot, and returns the names of any other files it
// made (a symbolic link's target).
type foreignObjectCase struct {
	name string
	make func(s *scene, path string) (extra []string)
}

func foreignObjectCases() []foreignObjectCase {
	kind := func(k ObjectKind) func(*scene, string) []string {
		return func(s *scene, path string) []string {
			s.makeObject(path, Object{Kind: k})
			return nil
		}
	}
	return []foreignObjectCase{
		{"Directory", kind(Directory)},
		{"FIFO", kind(FIFO)},
		{"Socket", kind(Socket)},
		{"CharDevice", kind(CharDevice)},
		{"DanglingSymlink", func(s *scene, path string) []string {
			s.makeObject(path, Object{Kind: Symlink, Target: filepath.Join(s.env.Dir, "missing")})
			return nil
		}},
		{"SymlinkLoop", func(s *scene, path string) []string {
			s.makeObject(path, Object{Kind: Symlink, Target: path})
			return nil
		}},
		{"SymlinkToDirectory", func(s *scene, path string) []string {
			s.makeObject(path, Object{Kind: Symlink, Target: s.env.Dir})
			return nil
		}},
		{"SymlinkToClaim", func(s *scene, path string) []string {
			// A file that would be an expired lock, were it at the
			// lock path itself.
			target := filepath.Join(s.env.Dir, "lookalike")
			abs, err := filepath.Abs(s.path)
			if err != nil {
				s.t.Fatal(err)
			}
			s.writeFile(target, strings.Join([]string{abs, "gone.example.org", "4242", "1"}, locker.DefaultSeparator))
			old := s.tl.now().Add(-24 * time.Hour)
			if err := s.env.FS.Chtimes(target, old, old); err != nil {
				s.t.Fatalf("dating %s: %v", target, err)
			}
			s.makeObject(path, Object{Kind: Symlink, Target: target})
			return []string{target}
		}},
		{"OverlongClaim", func(s *scene, path string) []string {
			// An expired claim padded with spaces past MaxClaimLen:
			// read whole and trimmed, it would parse as a lock.
			abs, err := filepath.Abs(s.path)
			if err != nil {
				s.t.Fatal(err)
			}
			claim := strings.Join([]string{abs, "gone.example.org", "4242", "1"}, locker.DefaultSeparator)
			s.writeFile(path, claim+strings.Repeat(" ", locker.MaxClaimLen+1-len(claim)))
			old := s.tl.now().Add(-24 * time.Hour)
			if err := s.env.FS.Chtimes(path, old, old); err != nil {
				s.t.Fatalf("dating %s: %v", path, err)
			}
			return nil
		}},
		{"HugeSparseFile", func(s *scene, path string) []string {
			s.makeObject(path, Object{Kind: SparseFile, Size: hugeSparseSize})
			return nil
		}},
	}
}

// makeObject makes o at path with Env.MakeObject, skipping the test if the
// backend cannot make it.
func (s *scene) makeObject(path string, o Object) {
	s.t.Helper()
	if s.env.MakeObject == nil {
		s.t.Skipf("the backend cannot make a %v (its Env has no MakeObject)", o.Kind)
	}
	err := s.env.MakeObject(path, o)
	if errors.Is(err, errors.ErrUnsupported) {
		s.t.Skipf("the backend cannot make a %v here: %v", o.Kind, err)
	}
	if err != nil {
		s.t.Fatalf("making a %v at %s: %v", o.Kind, path, err)
	}
}

// writeFile writes a new file through the backend.
func (s *scene) writeFile(path, contents string) {
	s.t.Helper()
	if err := s.env.FS.WriteFile(path, []byte(contents), 0o644); err != nil {
		s.t.Fatalf("writing %s: %v", path, err)
	}
}

// describeObject describes what is at path, with Env.DescribeObject if the
// backend has it, or else through its Stat.
func (s *scene) describeObject(path string) string {
	s.t.Helper()
	if s.env.DescribeObject != nil {
		d, err := s.env.DescribeObject(path)
		if err != nil {
			return "error: " + err.Error()
		}
		return d
	}
	fi, err := s.env.FS.Stat(path)
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprintf("size %d, mtime %s, %d link(s)", fi.Size, fi.ModTime.Format(time.RFC3339Nano), fi.Links)
}

func (s *scene) describeObjects(paths []string) []string {
	s.t.Helper()
	d := make([]string, len(paths))
	for i, p := range paths {
		d[i] = s.describeObject(p)
	}
	return d
}

// wantUnchanged reports a failure for each of paths that no longer matches
// its description in before.
func (s *scene) wantUnchanged(paths, before []string) {
	s.t.Helper()
	for i, p := range paths {
		if after := s.describeObject(p); after != before[i] {
			s.errorf("%s was changed: before: %s; after: %s", p, before[i], after)
		}
	}
}

// bounded calls f and returns its error, failing the scenario if f has not
// returned within the safety timeout: a read that blocks (on a FIFO, say)
// then fails the test instead of hanging it. f is left running.
func (s *scene) bounded(what string, f func() error) error {
	s.t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(safetyTimeout + 5*time.Second):
		s.t.Fatalf("rule: %s: %s did not return within %v of real time: it blocks", s.rule, what, safetyTimeout+5*time.Second)
		return nil
	}
}
