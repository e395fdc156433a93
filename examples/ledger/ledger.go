// Package ledger is the "user code" of an example: a small piece of a
// program that guards a shared file with a lock, and, in ledger_test.go,
// the unit tests its author writes with the in-memory backend
// (github.com/nfslock/nfslock/backend-memfs): two simulated hosts
// contending, lifetimes of minutes tested in microseconds on a virtual
// clock, a crashed holder's lock broken after its lifetime plus the slop,
// and a lost reply of NFS injected with the fault wrapper.
//
// A ledger is a file of entries, one a line, that processes on several
// hosts append to. Appending is read-modify-write, so without a lock two
// processes that append at once lose one entry.
//
// To make it testable, the code takes its lock and its filesystem from its
// caller: in production a lock from nfslock.New and afero.NewOsFs(); in
// tests a lock on a memfs host and the memfs server itself.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/afero"
)

// A Ledger is a file of entries shared by processes on several hosts.
type Ledger struct {
	Files afero.Fs     // where the ledger file lives
	Path  string       // the ledger file
	Lock  *locker.Lock // guards Path; a lock file next to it, such as Path + ".lock"
}

// Append adds entry to the ledger, under the lock: it waits for the lock as
// Lock's options say, reads the file, and writes it back with entry added.
// If the lock is lost before the write, the ledger is left alone and the
// error wraps locker.ErrLost.
func (l *Ledger) Append(ctx context.Context, entry string) error {
	if strings.Contains(entry, "\n") {
		return fmt.Errorf("ledger: entry %q spans lines", entry)
	}
	return l.Lock.Do(ctx, func(ctx context.Context) error {
		data, err := afero.ReadFile(l.Files, l.Path)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err // the lock was lost: writing now could lose another's entry
		}
		return afero.WriteFile(l.Files, l.Path, append(data, entry+"\n"...), 0o644)
	})
}

// Entries returns the entries, in the order they were appended.
func (l *Ledger) Entries() ([]string, error) {
	data, err := afero.ReadFile(l.Files, l.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"), nil
}
