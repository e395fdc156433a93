package nfslock_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/nfslock/nfslock"
	"github.com/nfslock/nfslock/locker"
)

// dirNames lists dir.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func TestDoOnThisPlatformsBackend(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "job.lock")
	errWork := errors.New("work failed")
	held := false
	err := nfslock.Do(context.Background(), path, func(ctx context.Context) error {
		other, err := nfslock.New(path)
		if err != nil {
			return err
		}
		held = errors.Is(other.TryLock(), locker.ErrBusy)
		return errWork
	})
	if err != errWork {
		t.Errorf("Do: got %v, want the work's error %v", err, errWork)
	}
	if !held {
		t.Error("while the work ran, another claimant was not turned away with ErrBusy")
	}
	if names := dirNames(t, dir); len(names) > 0 {
		t.Errorf("after Do, the directory holds %q, want nothing", names)
	}
}

func TestDoRefusesBadInput(t *testing.T) {
	dir := t.TempDir()
	for _, path := range []string{"", dir} {
		err := nfslock.Do(context.Background(), path, func(context.Context) error {
			t.Errorf("Do(%q) ran the work", path)
			return nil
		})
		if !errors.Is(err, locker.ErrInvalid) {
			t.Errorf("Do(%q): got %v, want ErrInvalid", path, err)
		}
	}
	if names := dirNames(t, dir); len(names) > 0 {
		t.Errorf("after refused Do calls, the directory holds %q, want nothing", names)
	}
}

func TestDoWithFencingLeavesOnlyTheCounter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "job.lock")
	for want := uint64(1); want <= 2; want++ {
		lock, err := nfslock.New(path, locker.WithFencing())
		if err != nil {
			t.Fatal(err)
		}
		var token uint64
		if err := lock.Do(context.Background(), func(context.Context) error {
			token = lock.Token()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if token != want {
			t.Errorf("acquisition %d: token %d, want %d", want, token, want)
		}
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"job.lock.fence"}) {
		t.Errorf("after Do with fencing, the directory holds %q, want only the counter job.lock.fence", names)
	}
}
