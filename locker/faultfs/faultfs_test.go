package faultfs_test

import (
	"errors"
	"io/fs"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// check fails the test at once if err is not nil.
func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newTestFS returns an in-memory filesystem with the directory /d and the
// file /d/f holding "f", and its host "h".
func newTestFS(t *testing.T) (*memfs.FS, *memfs.Host) {
	t.Helper()
	fsys := memfs.New()
	check(t, fsys.MkdirAll("/d", 0o755))
	h := fsys.Host("h")
	check(t, h.WriteFile("/d/f", []byte("f"), 0o644))
	return fsys, h
}

// countingFS is a locker.FS that counts the calls that reach it.
type countingFS struct {
	locker.FS
	mu        sync.Mutex
	performed map[faultfs.Op]int
}

func (c *countingFS) count(op faultfs.Op) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.performed[op]++
}

func (c *countingFS) Performed(op faultfs.Op) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.performed[op]
}

func (c *countingFS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	c.count(faultfs.OpWriteFile)
	return c.FS.WriteFile(name, data, perm)
}

func (c *countingFS) ReadFile(name string) ([]byte, error) {
	c.count(faultfs.OpReadFile)
	return c.FS.ReadFile(name)
}

func (c *countingFS) Link(oldname, newname string) error {
	c.count(faultfs.OpLink)
	return c.FS.Link(oldname, newname)
}

func (c *countingFS) Stat(name string) (locker.FileInfo, error) {
	c.count(faultfs.OpStat)
	return c.FS.Stat(name)
}

func (c *countingFS) Chtimes(name string, atime, mtime time.Time) error {
	c.count(faultfs.OpChtimes)
	return c.FS.Chtimes(name, atime, mtime)
}

func (c *countingFS) Rename(oldname, newname string) error {
	c.count(faultfs.OpRename)
	return c.FS.Rename(oldname, newname)
}

func (c *countingFS) Remove(name string) error {
	c.count(faultfs.OpRemove)
	return c.FS.Remove(name)
}

// faultCases gives, for each Op, a call that succeeds on a fresh test FS
// every time it is made. Some make a preparatory call of another Op.
var faultCases = []struct {
	op   faultfs.Op
	call func(locker.FS) error
}{
	{faultfs.OpWriteFile, func(f locker.FS) error { _ = f.Remove("/d/w"); return f.WriteFile("/d/w", []byte("w"), 0o644) }},
	{faultfs.OpReadFile, func(f locker.FS) error { _, err := f.ReadFile("/d/f"); return err }},
	{faultfs.OpLink, func(f locker.FS) error { _ = f.Remove("/d/link"); return f.Link("/d/f", "/d/link") }},
	{faultfs.OpStat, func(f locker.FS) error { _, err := f.Stat("/d/f"); return err }},
	{faultfs.OpChtimes, func(f locker.FS) error { return f.Chtimes("/d/f", time.Time{}, time.Time{}) }},
	{faultfs.OpRename, func(f locker.FS) error { _ = f.WriteFile("/d/r", nil, 0o644); return f.Rename("/d/r", "/d/f2") }},
	{faultfs.OpRemove, func(f locker.FS) error { _ = f.WriteFile("/d/tmp", nil, 0o644); return f.Remove("/d/tmp") }},
}

func newFaultTest(t *testing.T) (*faultfs.FS, *countingFS) {
	t.Helper()
	_, h := newTestFS(t)
	check(t, h.WriteFile("/d/f2", []byte("f2"), 0o644))
	inner := &countingFS{FS: h, performed: make(map[faultfs.Op]int)}
	return faultfs.New(inner), inner
}

func TestFaultFail(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range faultCases {
		t.Run(tt.op.String(), func(t *testing.T) {
			ffs, inner := newFaultTest(t)
			ffs.Fail(tt.op, 2, boom)
			for i := 1; i <= 3; i++ {
				before := inner.Performed(tt.op)
				err := tt.call(ffs)
				performed := inner.Performed(tt.op) > before
				if i == 2 {
					if !errors.Is(err, boom) || performed {
						t.Errorf("call %d: err = %v, performed = %v; want boom, not performed", i, err, performed)
					}
				} else if err != nil || !performed {
					t.Errorf("call %d: err = %v, performed = %v; want nil, performed", i, err, performed)
				}
			}
			if got := ffs.Calls(tt.op); got != 3 {
				t.Errorf("Calls(%v) = %d, want 3", tt.op, got)
			}
		})
	}
}

func TestFaultLoseReply(t *testing.T) {
	lost := locker.Transient(syscall.EIO)
	for _, tt := range faultCases {
		t.Run(tt.op.String(), func(t *testing.T) {
			ffs, inner := newFaultTest(t)
			ffs.LoseReply(tt.op, 1, lost)
			before := inner.Performed(tt.op)
			err := tt.call(ffs)
			if !errors.Is(err, locker.ErrTransient) || !errors.Is(err, syscall.EIO) {
				t.Errorf("err = %v, want the lost-reply error", err)
			}
			if inner.Performed(tt.op) == before {
				t.Errorf("%v with a lost reply was not performed", tt.op)
			}
			if err := tt.call(ffs); err != nil {
				t.Errorf("next call: err = %v, want nil", err)
			}
		})
	}
}

// TestFaultLostLinkReply is NFS's classic: the link is made, the caller is
// told it failed, and only the lock file's link count shows the truth.
func TestFaultLostLinkReply(t *testing.T) {
	_, h := newTestFS(t)
	ffs := faultfs.New(h)
	ffs.LoseReply(faultfs.OpLink, 1, syscall.EEXIST)
	err := ffs.Link("/d/f", "/d/lock")
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("Link with a lost reply = %v, want fs.ErrExist", err)
	}
	fi, err := h.Stat("/d/lock")
	check(t, err)
	if got := fi.Links; got != 2 {
		t.Errorf("after a lost link reply, /d/lock has %d links, want 2", got)
	}
}

func TestFaultSeveralPending(t *testing.T) {
	ffs, inner := newFaultTest(t)
	errA, errB, errC := errors.New("a"), errors.New("b"), errors.New("c")
	ffs.Fail(faultfs.OpStat, 3, errA)
	ffs.Fail(faultfs.OpStat, 1, errB)
	ffs.Fail(faultfs.OpStat, 1, errC) // same call as errB: errB, registered first, wins
	ffs.LoseReply(faultfs.OpReadFile, 1, errC)

	var got []error
	for range 4 {
		_, err := ffs.Stat("/d/f")
		got = append(got, err)
	}
	if want := []error{errB, nil, errA, nil}; !slices.Equal(got, want) {
		t.Errorf("four Stat calls returned %v, want %v", got, want)
	}
	if n := inner.Performed(faultfs.OpStat); n != 2 {
		t.Errorf("%d Stat calls reached the inner FS, want 2", n)
	}
	if _, err := ffs.ReadFile("/d/f"); err != errC {
		t.Errorf("ReadFile = %v, want the lost-reply error c", err)
	}
	if n := ffs.Calls(faultfs.OpStat); n != 4 {
		t.Errorf("Calls(OpStat) = %d, want 4", n)
	}
}

func TestFaultFailNilErr(t *testing.T) {
	fsys, h := newTestFS(t)
	ffs := faultfs.New(h)
	ffs.Fail(faultfs.OpRemove, 0, nil) // n < 1 counts as 1
	if err := ffs.Remove("/d/f"); err != nil {
		t.Errorf("dropped Remove = %v, want nil", err)
	}
	if _, err := fsys.Stat("/d/f"); err != nil {
		t.Errorf("dropped Remove removed the file: Stat = %v", err)
	}
}

func TestFaultHook(t *testing.T) {
	ffs, _ := newFaultTest(t)
	type call struct {
		op   faultfs.Op
		args []string
	}
	var calls []call
	ffs.SetHook(func(op faultfs.Op, args ...string) {
		// The hook runs before the call is counted.
		if n := ffs.Calls(op); n != 0 {
			t.Errorf("hook for %v ran after the call was counted (Calls = %d)", op, n)
		}
		calls = append(calls, call{op, args})
	})
	_ = ffs.Link("/d/f", "/d/lock")
	_, _ = ffs.ReadFile("/d/lock")
	ffs.SetHook(nil)
	_ = ffs.Remove("/d/lock")

	want := []call{{faultfs.OpLink, []string{"/d/f", "/d/lock"}}, {faultfs.OpReadFile, []string{"/d/lock"}}}
	if len(calls) != len(want) {
		t.Fatalf("hook saw %v, want %v", calls, want)
	}
	for i := range want {
		if calls[i].op != want[i].op || !slices.Equal(calls[i].args, want[i].args) {
			t.Errorf("hook call %d = %v, want %v", i, calls[i], want[i])
		}
	}
}

func TestFaultProcessChecker(t *testing.T) {
	fsys := memfs.New()
	h := fsys.Host("alpha")
	p := h.Spawn()
	p.Kill()

	alive, err := faultfs.New(h).ProcessAlive("alpha", p.PID())
	if alive || err != nil {
		t.Errorf("forwarded ProcessAlive of a killed process = %v, %v; want false, nil", alive, err)
	}
	// countingFS embeds locker.FS only, so it hides the Host's ProcessAlive.
	plain := &countingFS{FS: h, performed: make(map[faultfs.Op]int)}
	alive, err = faultfs.New(plain).ProcessAlive("alpha", p.PID())
	if !alive || err != nil {
		t.Errorf("ProcessAlive over an FS without ProcessChecker = %v, %v; want true, nil", alive, err)
	}
}

func TestOpString(t *testing.T) {
	tests := []struct {
		op   faultfs.Op
		want string
	}{
		{faultfs.OpWriteFile, "WriteFile"},
		{faultfs.OpReadFile, "ReadFile"},
		{faultfs.OpLink, "Link"},
		{faultfs.OpStat, "Stat"},
		{faultfs.OpChtimes, "Chtimes"},
		{faultfs.OpRename, "Rename"},
		{faultfs.OpRemove, "Remove"},
		{faultfs.OpReadDirNames, "ReadDirNames"},
		{faultfs.Op(0), "Op(0)"},
		{faultfs.Op(99), "Op(99)"},
	}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.want {
			t.Errorf("Op(%d).String() = %q, want %q", int(tt.op), got, tt.want)
		}
	}
}

func TestFaultInvalidOp(t *testing.T) {
	ffs, _ := newFaultTest(t)
	ffs.Fail(faultfs.Op(99), 1, errors.New("never"))
	if n := ffs.Calls(faultfs.Op(99)); n != 0 {
		t.Errorf("Calls(Op(99)) = %d, want 0", n)
	}
	if _, err := ffs.Stat("/d/f"); err != nil {
		t.Errorf("Stat after a fault on an invalid op = %v, want nil", err)
	}
}

// TestFaultConcurrent calls a FaultFS from many goroutines for the race
// detector, with a hook and faults being added meanwhile.
func TestFaultConcurrent(t *testing.T) {
	ffs, _ := newFaultTest(t)
	var hooked sync.Map
	ffs.SetHook(func(op faultfs.Op, _ ...string) { hooked.Store(op, true) })
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				ffs.Fail(faultfs.OpStat, 2, syscall.ESTALE)
				_, _ = ffs.Stat("/d/f")
				_, _ = ffs.ReadFile("/d/f")
			}
		}()
	}
	wg.Wait()
	if n := ffs.Calls(faultfs.OpStat); n != 800 {
		t.Errorf("Calls(OpStat) = %d, want 800", n)
	}
	if _, ok := hooked.Load(faultfs.OpReadFile); !ok {
		t.Error("hook never saw ReadFile")
	}
}
