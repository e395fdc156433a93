package locker_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
)

// TestCombinedErrorOneLine: a TryLock whose link fails, and whose claim file
// then cannot be removed, fails with both causes on one line, and errors.Is
// and errors.As find each cause.
func TestCombinedErrorOneLine(t *testing.T) {
	w := newWorld(t)
	faulty := memfs.NewFaultFS(w.host)
	l := w.newLock(t, nil, faulty)
	removeErr := &fs.PathError{Op: "remove", Path: l.ClaimFile(), Err: syscall.EACCES}
	faulty.Fail(memfs.OpLink, 1, syscall.EIO)
	faulty.Fail(memfs.OpRemove, 1, removeErr)

	err := l.TryLock()
	if err == nil {
		t.Fatal("TryLock succeeded, want the link's failure")
	}
	want := fmt.Sprintf("nfslock: trylock %s: %v; removing claim file: %v", lockPath, syscall.EIO, removeErr)
	if got := err.Error(); got != want {
		t.Errorf("TryLock error:\n%q\nwant one line:\n%q", got, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("the error spans several lines: %q", err)
	}
	for _, cause := range []error{syscall.EIO, syscall.EACCES, fs.ErrPermission} {
		if !errors.Is(err, cause) {
			t.Errorf("errors.Is(err, %v) = false, want true: err is %q", cause, err)
		}
	}
	// The second cause, past the first, which is not a *fs.PathError.
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe != removeErr {
		t.Errorf("errors.As(err, *fs.PathError) gave %v, want the claim file's removal error %v", pe, removeErr)
	}
	var le *locker.Error
	if !errors.As(err, &le) || le.Op != "trylock" {
		t.Errorf("errors.As(err, *locker.Error) gave %+v, want the trylock error", le)
	}
}
