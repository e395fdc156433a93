package memfs

import (
	"errors"
	"io/fs"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// countingFS is a locker.FS that counts the calls that reach it.
type countingFS struct {
	locker.FS
	mu        sync.Mutex
	performed map[Op]int
}

func (c *countingFS) count(op Op) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.performed[op]++
}

func (c *countingFS) Performed(op Op) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.performed[op]
}

func (c *countingFS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	c.count(OpWriteFile)
	return c.FS.WriteFile(name, data, perm)
}

func (c *countingFS) ReadFile(name string) ([]byte, error) {
	c.count(OpReadFile)
	return c.FS.ReadFile(name)
}

func (c *countingFS) Link(oldname, newname string) error {
	c.count(OpLink)
	return c.FS.Link(oldname, newname)
}

func (c *countingFS) Stat(name string) (locker.FileInfo, error) {
	c.count(OpStat)
	return c.FS.Stat(name)
}

func (c *countingFS) Chtimes(name string, atime, mtime time.Time) error {
	c.count(OpChtimes)
	return c.FS.Chtimes(name, atime, mtime)
}

func (c *countingFS) Rename(oldname, newname string) error {
	c.count(OpRename)
	return c.FS.Rename(oldname, newname)
}

func (c *countingFS) Remove(name string) error {
	c.count(OpRemove)
	return c.FS.Remove(name)
}

// faultCases gives, for each Op, a call that succeeds on a fresh test FS
// every time it is made. Some make a preparatory call of another Op.
var faultCases = []struct {
	op   Op
	call func(locker.FS) error
}{
	{OpWriteFile, func(f locker.FS) error { _ = f.Remove("/d/w"); return f.WriteFile("/d/w", []byte("w"), 0o644) }},
	{OpReadFile, func(f locker.FS) error { _, err := f.ReadFile("/d/f"); return err }},
	{OpLink, func(f locker.FS) error { _ = f.Remove("/d/link"); return f.Link("/d/f", "/d/link") }},
	{OpStat, func(f locker.FS) error { _, err := f.Stat("/d/f"); return err }},
	{OpChtimes, func(f locker.FS) error { return f.Chtimes("/d/f", time.Time{}, time.Time{}) }},
	{OpRename, func(f locker.FS) error { _ = f.WriteFile("/d/r", nil, 0o644); return f.Rename("/d/r", "/d/f2") }},
	{OpRemove, func(f locker.FS) error { _ = f.WriteFile("/d/tmp", nil, 0o644); return f.Remove("/d/tmp") }},
}

func newFaultTest(t *testing.T) (*FaultFS, *countingFS) {
	t.Helper()
	_, h := newTestFS(t)
	check(t, h.WriteFile("/d/f2", []byte("f2"), 0o644))
	inner := &countingFS{FS: h, performed: make(map[Op]int)}
	return NewFaultFS(inner), inner
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
	fsys, h := newTestFS(t)
	ffs := NewFaultFS(h)
	ffs.LoseReply(OpLink, 1, syscall.EEXIST)
	err := ffs.Link("/d/f", "/d/lock")
	if !errors.Is(err, fs.ErrExist) {
		t.Errorf("Link with a lost reply = %v, want fs.ErrExist", err)
	}
	if got := stat(t, fsys, "/d/lock").Nlink; got != 2 {
		t.Errorf("after a lost link reply, /d/lock has %d links, want 2", got)
	}
}

func TestFaultSeveralPending(t *testing.T) {
	ffs, inner := newFaultTest(t)
	errA, errB, errC := errors.New("a"), errors.New("b"), errors.New("c")
	ffs.Fail(OpStat, 3, errA)
	ffs.Fail(OpStat, 1, errB)
	ffs.Fail(OpStat, 1, errC) // same call as errB: errB, registered first, wins
	ffs.LoseReply(OpReadFile, 1, errC)

	var got []error
	for range 4 {
		_, err := ffs.Stat("/d/f")
		got = append(got, err)
	}
	if want := []error{errB, nil, errA, nil}; !slices.Equal(got, want) {
		t.Errorf("four Stat calls returned %v, want %v", got, want)
	}
	if n := inner.Performed(OpStat); n != 2 {
		t.Errorf("%d Stat calls reached the inner FS, want 2", n)
	}
	if _, err := ffs.ReadFile("/d/f"); err != errC {
		t.Errorf("ReadFile = %v, want the lost-reply error c", err)
	}
	if n := ffs.Calls(OpStat); n != 4 {
		t.Errorf("Calls(OpStat) = %d, want 4", n)
	}
}

func TestFaultFailNilErr(t *testing.T) {
	fsys, h := newTestFS(t)
	ffs := NewFaultFS(h)
	ffs.Fail(OpRemove, 0, nil) // n < 1 counts as 1
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
		op   Op
		args []string
	}
	var calls []call
	ffs.SetHook(func(op Op, args ...string) {
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

	want := []call{{OpLink, []string{"/d/f", "/d/lock"}}, {OpReadFile, []string{"/d/lock"}}}
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
	fsys := New()
	h := fsys.Host("alpha")
	p := h.Spawn()
	p.Kill()

	alive, err := NewFaultFS(h).ProcessAlive("alpha", p.PID())
	if alive || err != nil {
		t.Errorf("forwarded ProcessAlive of a killed process = %v, %v; want false, nil", alive, err)
	}
	// countingFS embeds locker.FS only, so it hides the Host's ProcessAlive.
	plain := &countingFS{FS: h, performed: make(map[Op]int)}
	alive, err = NewFaultFS(plain).ProcessAlive("alpha", p.PID())
	if !alive || err != nil {
		t.Errorf("ProcessAlive over an FS without ProcessChecker = %v, %v; want true, nil", alive, err)
	}
}

func TestOpString(t *testing.T) {
	tests := []struct {
		op   Op
		want string
	}{
		{OpWriteFile, "WriteFile"},
		{OpReadFile, "ReadFile"},
		{OpLink, "Link"},
		{OpStat, "Stat"},
		{OpChtimes, "Chtimes"},
		{OpRename, "Rename"},
		{OpRemove, "Remove"},
		{Op(0), "Op(0)"},
		{Op(99), "Op(99)"},
	}
	for _, tt := range tests {
		if got := tt.op.String(); got != tt.want {
			t.Errorf("Op(%d).String() = %q, want %q", int(tt.op), got, tt.want)
		}
	}
}

func TestFaultInvalidOp(t *testing.T) {
	ffs, _ := newFaultTest(t)
	ffs.Fail(Op(99), 1, errors.New("never"))
	if n := ffs.Calls(Op(99)); n != 0 {
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
	ffs.SetHook(func(op Op, _ ...string) { hooked.Store(op, true) })
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				ffs.Fail(OpStat, 2, syscall.ESTALE)
				_, _ = ffs.Stat("/d/f")
				_, _ = ffs.ReadFile("/d/f")
			}
		}()
	}
	wg.Wait()
	if n := ffs.Calls(OpStat); n != 800 {
		t.Errorf("Calls(OpStat) = %d, want 800", n)
	}
	if _, ok := hooked.Load(OpReadFile); !ok {
		t.Error("hook never saw ReadFile")
	}
}
