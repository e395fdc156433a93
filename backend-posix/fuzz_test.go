//go:build linux || darwin || freebsd || netbsd || openbsd

package posix_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/locker"
)

// The kinds of object FuzzLockPath puts at the lock path.
const (
	fuzzRegular = iota // a file of the fuzzed contents, size, mode and age
	fuzzDirectory
	fuzzFIFO
	fuzzSocket
	fuzzCharDevice
	fuzzDanglingSymlink
	fuzzSymlinkToFile // a link to a file of the fuzzed contents, mode and age
	fuzzSymlinkLoop
	fuzzKinds
)

// The kinds of object FuzzLockPath puts at the break lock's path.
const (
	fuzzBreakNone = iota
	fuzzBreakText
	fuzzBreakFIFO
	fuzzBreakDanglingSymlink
	fuzzBreakDirectory
	fuzzBreakKinds
)

const (
	fuzzLockName = "resource.lock"
	fuzzTimeout  = 50 * time.Millisecond
	// fuzzMaxSize bounds the length a fuzzed file is truncated to: far
	// more than any test may read, and sparse.
	fuzzMaxSize = 4 << 30
)

// FuzzLockPath puts at the lock path a file of arbitrary contents, length,
// permissions and age, or any other object that no lock makes, and
// sometimes an object at the break lock's path too, then runs a Lock that
// waits with a short timeout. Whatever it finds, the Lock must not panic,
// must return within its timeout (and must not block: a watchdog fails the
// test after 10 s more), and must neither remove nor change anything that
// is not a lock: unless the lock file is an expired claim of this lock,
// the objects and every other file of the directory are as they were, and
// no file of the Lock's is left.
//
// The judge of what is a lock is this test's own reading of the wire format
// (see isClaim): a regular file of at most locker.MaxClaimLen bytes that
// holds, give or take surrounding white space, "<path>|<host>|<pid>|<random>"
// for a path whose last element is the lock's, a host with no path
// separator, a positive pid and a non-negative random number.
func FuzzLockPath(f *testing.F) {
	claim := func(host string) []byte {
		return []byte(strings.Join([]string{"/elsewhere/" + fuzzLockName, host, "4242", "17"}, locker.DefaultSeparator))
	}
	// kind, perm, contents, size, age in seconds, break path kind.
	f.Add(uint8(fuzzRegular), uint16(0o644), []byte("precious data\n"), uint64(0), int64(3600), uint8(fuzzBreakNone))
	f.Add(uint8(fuzzRegular), uint16(0o644), claim("gone.example.org"), uint64(0), int64(3600), uint8(fuzzBreakNone))       // expired: broken, taken
	f.Add(uint8(fuzzRegular), uint16(0o644), claim("alive.example.org"), uint64(0), int64(-60), uint8(fuzzBreakNone))       // fresh: times out
	f.Add(uint8(fuzzRegular), uint16(0o444), append(claim("gone.example.org"), " \n"...), uint64(0), int64(3600), uint8(0)) // white space is trimmed
	f.Add(uint8(fuzzRegular), uint16(0o644), claim("gone.example.org"), uint64(locker.MaxClaimLen+1), int64(3600), uint8(0))
	f.Add(uint8(fuzzRegular), uint16(0o644), claim("evil/bystander"), uint64(0), int64(3600), uint8(fuzzBreakNone)) // not a lock: the breaker would remove "bystander|4242|17"
	f.Add(uint8(fuzzRegular), uint16(0o644), claim("gone.example.org"), uint64(0), int64(3600), uint8(fuzzBreakText))
	f.Add(uint8(fuzzRegular), uint16(0o644), claim("gone.example.org"), uint64(0), int64(3600), uint8(fuzzBreakDirectory))
	f.Add(uint8(fuzzRegular), uint16(0o644), claim("gone.example.org"), uint64(0), int64(3600), uint8(fuzzBreakDanglingSymlink))
	f.Add(uint8(fuzzDirectory), uint16(0o755), []byte(nil), uint64(0), int64(0), uint8(fuzzBreakNone))
	f.Add(uint8(fuzzSocket), uint16(0o755), []byte(nil), uint64(0), int64(0), uint8(fuzzBreakNone))
	f.Add(uint8(fuzzCharDevice), uint16(0o666), []byte(nil), uint64(0), int64(0), uint8(fuzzBreakNone))
	f.Add(uint8(fuzzSymlinkToFile), uint16(0o644), claim("gone.example.org"), uint64(0), int64(3600), uint8(fuzzBreakNone))
	f.Add(uint8(fuzzSymlinkLoop), uint16(0o644), []byte(nil), uint64(0), int64(0), uint8(fuzzBreakNone))
	// The rows of issue 10's table (a FIFO, a dangling symbolic link, a
	// 3 GiB sparse file) are in testdata/fuzz/FuzzLockPath.

	f.Fuzz(func(t *testing.T, kind uint8, perm uint16, contents []byte, size uint64, age int64, breakKind uint8) {
		kind %= fuzzKinds
		breakKind %= fuzzBreakKinds
		mode := fs.FileMode(perm) & fs.ModePerm
		if os.Geteuid() != 0 {
			mode |= 0o600 // only root reads what it may not
		}
		age %= 10 * 365 * 24 * 3600
		dir := t.TempDir()
		path := filepath.Join(dir, fuzzLockName)
		breakPath := path + ".break"
		mtime := time.Now().Add(-time.Duration(age) * time.Second)

		// What is at the lock path, and whether it is a lock.
		var lock []byte // the lock file's contents, if it is a regular file short enough to be one
		isLock := false
		switch kind {
		case fuzzRegular:
			lock = fuzzFile(t, path, contents, size, mode, mtime)
			isLock = lock != nil && isClaim(lock)
		case fuzzSymlinkToFile:
			fuzzFile(t, filepath.Join(dir, "target"), contents, 0, mode, mtime)
			fuzzObject(t, path, conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "target")})
		case fuzzDanglingSymlink:
			fuzzObject(t, path, conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "missing")})
		case fuzzSymlinkLoop:
			fuzzObject(t, path, conformance.Object{Kind: conformance.Symlink, Target: path})
		default:
			k := map[uint8]conformance.ObjectKind{fuzzDirectory: conformance.Directory, fuzzFIFO: conformance.FIFO, fuzzSocket: conformance.Socket, fuzzCharDevice: conformance.CharDevice}[kind]
			fuzzObject(t, path, conformance.Object{Kind: k})
			if err := os.Chmod(path, mode); err != nil {
				t.Fatal(err)
			}
		}
		switch breakKind {
		case fuzzBreakText:
			if err := os.WriteFile(breakPath, []byte("precious"), 0o644); err != nil {
				t.Fatal(err)
			}
		case fuzzBreakFIFO:
			fuzzObject(t, breakPath, conformance.Object{Kind: conformance.FIFO})
		case fuzzBreakDanglingSymlink:
			fuzzObject(t, breakPath, conformance.Object{Kind: conformance.Symlink, Target: filepath.Join(dir, "missing")})
		case fuzzBreakDirectory:
			fuzzObject(t, breakPath, conformance.Object{Kind: conformance.Directory})
		}
		// A bystander at the name a breaker would remove as the holder's
		// claim file: only a lock's own claim file may go.
		holder := lastElement(strings.TrimSpace(string(contents)))
		if holder == "" || holder == "." || holder == ".." || len(holder) > 200 || strings.ContainsRune(holder, 0) ||
			holder == fuzzLockName || holder == fuzzLockName+".break" || holder == "target" || holder == "missing" {
			holder = ""
		}
		if holder != "" {
			if err := os.WriteFile(filepath.Join(dir, holder), []byte("bystander"), 0o644); err != nil {
				holder = "" // not a name this filesystem takes
			}
		}
		before := snapshot(t, dir)

		l, err := locker.New(path, posix.New(), locker.WithTimeout(fuzzTimeout), locker.WithHostname("fuzz.example.org"),
			locker.WithBackoff(time.Millisecond, 10*time.Millisecond))
		if err != nil {
			if kind == fuzzDirectory && errors.Is(err, locker.ErrInvalid) {
				return // New refuses a lock path that is a directory, which is right
			}
			t.Fatalf("New: %v", err)
		}
		done := make(chan error, 1)
		go func() { done <- l.Lock(ctx) }()
		var lockErr error
		select {
		case lockErr = <-done:
		case <-time.After(fuzzTimeout + 10*time.Second):
			t.Fatalf("Lock with %s did not return within its %v timeout and 10 s more: it blocks", before.describe(fuzzLockName), fuzzTimeout)
		}

		// Whether the lock had expired by the clock slop is decided at
		// some moment during Lock: near the boundary either outcome is
		// right.
		expiry := mtime.Add(locker.DefaultClockSlop)
		expired := time.Since(expiry) > 2*time.Second
		fresh := time.Until(expiry) > 2*time.Second
		took := lockErr == nil
		switch {
		case !isLock:
			if !errors.Is(lockErr, locker.ErrForeignFile) {
				t.Fatalf("Lock with %s, not a lock: got %v, want ErrForeignFile", before.describe(fuzzLockName), lockErr)
			}
		case breakKind != fuzzBreakNone && !fresh:
			if !errors.Is(lockErr, locker.ErrForeignFile) && !(!expired && errors.Is(lockErr, locker.ErrTimeout)) {
				t.Fatalf("Lock with an expired lock %q and %s: got %v, want ErrForeignFile", lock, before.describe(fuzzLockName+".break"), lockErr)
			}
		case expired && !took, fresh && !errors.Is(lockErr, locker.ErrTimeout):
			t.Fatalf("Lock with the lock %q dated %v ago: got %v, want %s", lock, time.Duration(age)*time.Second, lockErr,
				map[bool]string{true: "nil (the lock broken and taken)", false: "ErrTimeout"}[expired])
		case !took && !errors.Is(lockErr, locker.ErrTimeout):
			t.Fatalf("Lock with the lock %q dated %v ago: got %v, want nil or ErrTimeout", lock, time.Duration(age)*time.Second, lockErr)
		}
		if took {
			if err := l.Unlock(); err != nil {
				t.Fatalf("Unlock after taking the lock: %v", err)
			}
		}

		after := snapshot(t, dir)
		for name, b := range before {
			a, ok := after[name]
			switch {
			case took && name == fuzzLockName:
				if ok {
					t.Errorf("after Lock broke the lock and Unlock: %s", a)
				}
			case took && name == holder && holder == lastElement(strings.TrimSpace(string(lock))):
				// The broken holder's claim file may go.
			case !ok:
				t.Errorf("%s was removed; it was %s", name, b)
			case a != b:
				t.Errorf("%s was changed: before %s; after %s", name, b, a)
			}
		}
		for name, a := range after {
			if _, ok := before[name]; !ok {
				t.Errorf("left behind: %s", a)
			}
		}
	})
}

// fuzzFile makes a regular file at path with contents, truncated or
// extended (sparsely) to size%(fuzzMaxSize+1) bytes unless that is zero,
// with mode and mtime. It returns the file's contents if it is no longer
// than a claim name can be, else nil.
func fuzzFile(t *testing.T, path string, contents []byte, size uint64, mode fs.FileMode, mtime time.Time) []byte {
	t.Helper()
	if err := os.WriteFile(path, contents, 0o600); err != nil {
		t.Fatal(err)
	}
	data := contents
	if size %= fuzzMaxSize + 1; size != 0 {
		if err := os.Truncate(path, int64(size)); err != nil {
			t.Fatal(err)
		}
		if size <= uint64(len(contents)) {
			data = contents[:size]
		} else if size <= locker.MaxClaimLen {
			data = append(bytes.Clone(contents), make([]byte, size-uint64(len(contents)))...)
		} else {
			data = nil
		}
	}
	if len(data) > locker.MaxClaimLen {
		data = nil
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if data == nil {
		return nil
	}
	return append([]byte{}, data...) // not nil for an empty file
}

func fuzzObject(t *testing.T, path string, o conformance.Object) {
	t.Helper()
	err := conformance.MakeObjectOnDisk(path, o)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skipf("cannot make a %v here: %v", o.Kind, err)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// isClaim reports whether data is a claim for a lock file named
// fuzzLockName, as flufl.lock writes one.
func isClaim(data []byte) bool {
	parts := strings.Split(strings.TrimSpace(string(data)), locker.DefaultSeparator)
	if len(parts) != 4 || lastElement(parts[0]) != fuzzLockName || parts[1] == "" || strings.ContainsAny(parts[1], `/\`) {
		return false
	}
	pid, err := strconv.Atoi(parts[2])
	if err != nil || pid <= 0 {
		return false
	}
	r, err := strconv.ParseInt(parts[3], 10, 64)
	return err == nil && r >= 0
}

// lastElement is the last element of a path written on any platform.
func lastElement(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}

// A dirSnapshot describes every entry of a directory: type, permissions,
// size, modification time, link target, and the contents of small files.
type dirSnapshot map[string]string

func snapshot(t *testing.T, dir string) dirSnapshot {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := dirSnapshot{}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		d, err := conformance.DescribeOnDisk(p)
		if err != nil {
			t.Fatal(err)
		}
		if e.Type().IsRegular() {
			if fi, err := e.Info(); err == nil && fi.Size() <= 1<<20 {
				data, err := os.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				d += fmt.Sprintf(", contents %q", data)
			}
		}
		s[e.Name()] = fmt.Sprintf("%q: %s", e.Name(), d)
	}
	return s
}

func (s dirSnapshot) describe(name string) string {
	if d, ok := s[name]; ok {
		return d
	}
	return fmt.Sprintf("nothing at %q", name)
}
