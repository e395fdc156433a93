package faultfs_test

import (
	"errors"
	"io/fs"
	"slices"
	"testing"

	"github.com/nfslock/nfslock/locker"
	"github.com/nfslock/nfslock/locker/faultfs"
)

func TestReadDirNames(t *testing.T) {
	_, h := newTestFS(t)
	ffs := faultfs.New(h)
	boom := errors.New("boom")
	ffs.Fail(faultfs.OpReadDirNames, 2, boom)
	var hooked []string
	ffs.SetHook(func(op faultfs.Op, args ...string) { hooked = append(hooked, op.String()+" "+args[0]) })
	for i := 1; i <= 3; i++ {
		names, err := ffs.ReadDirNames("/d")
		if i == 2 {
			if !errors.Is(err, boom) || names != nil {
				t.Errorf("call %d: %q, %v; want no names and boom", i, names, err)
			}
		} else if err != nil || !slices.Equal(names, []string{"f"}) {
			t.Errorf("call %d: %q, %v; want [f], nil", i, names, err)
		}
	}
	if got := ffs.Calls(faultfs.OpReadDirNames); got != 3 {
		t.Errorf("Calls(OpReadDirNames) = %d, want 3", got)
	}
	if want := []string{"ReadDirNames /d", "ReadDirNames /d", "ReadDirNames /d"}; !slices.Equal(hooked, want) {
		t.Errorf("hook saw %q, want %q", hooked, want)
	}

	// An FS over a backend that cannot list says so.
	plain := faultfs.New(struct{ locker.FS }{h})
	if _, err := plain.ReadDirNames("/d"); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("ReadDirNames over a backend without DirReader: %v, want ErrUnsupported", err)
	}
}

func TestWatch(t *testing.T) {
	t.Run("inner Watcher", func(t *testing.T) {
		_, h := newTestFS(t)
		f := faultfs.New(h)
		events, stop, err := f.Watch("/d")
		if err != nil {
			t.Fatalf("Watch(/d) through an FS over a memfs Host: %v", err)
		}
		defer stop()
		check(t, f.WriteFile("/d/new", nil, 0o644))
		select {
		case <-events:
		default:
			t.Error("an FS over a memfs Host did not pass on the Host's notification")
		}
		if _, _, err := f.Watch("/missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Watch of a missing directory: got %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("inner not a Watcher", func(t *testing.T) {
		_, h := newTestFS(t)
		f := faultfs.New(struct{ locker.FS }{h})
		events, stop, err := f.Watch("/d")
		if !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("Watch through an FS over a non-Watcher: got %v, want errors.ErrUnsupported", err)
		}
		if events != nil || stop != nil {
			t.Error("Watch failed but returned a channel or a stop function")
		}
	})
}
