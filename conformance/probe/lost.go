package probe

import (
	"errors"
	"io/fs"
	"os"
)

// Lost replies. An NFS client whose connection breaks before a reply
// arrives sends the call again; if the server had done it, a link or an
// exclusive create then fails with EEXIST and a remove or rename with
// ENOENT (tools/nfsmount's lose= option makes this happen on purpose).
// The probe works in a fresh directory of its own, on names no one else
// uses, so such an answer to one of its own calls means that the call was
// done, and the helpers below take it so where the result shows it.

// ownTries bounds the tries of write.
const ownTries = 3

// write creates name, a fresh name of the probe's, through the backend (an
// exclusive create) and writes contents into it. A create whose reply was
// lost leaves an empty file of the probe's at name, which the create sent
// again finds (EEXIST): it is removed and the write made again.
func (p prober) write(name, contents string) error {
	var err error
	for range ownTries {
		err = p.fsys.WriteFile(name, []byte(contents), 0o644)
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
		if rerr := p.remove(name); rerr != nil {
			return err
		}
	}
	return err
}

// link links old to new, a free name of the probe's, through the backend.
// A link whose reply was lost fails with EEXIST, and new then holds what
// old holds.
func (p prober) link(old, new string) error {
	err := p.fsys.Link(old, new)
	if errors.Is(err, fs.ErrExist) && p.sameContents(old, new) {
		return nil
	}
	return err
}

// remove removes name, a file of the probe's, through the backend. A
// remove whose reply was lost fails with ENOENT: the name is gone, as
// asked.
func (p prober) remove(name string) error {
	if err := p.fsys.Remove(name); !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// renameOver renames old, a file of the probe's that holds contents, over new
// through the backend. A rename whose reply was lost fails with ENOENT:
// old is then gone and new holds contents.
func (p prober) renameOver(old, new, contents string) error {
	err := p.fsys.Rename(old, new)
	if errors.Is(err, fs.ErrNotExist) {
		_, serr := p.fsys.Stat(old)
		data, rerr := p.fsys.ReadFile(new)
		if errors.Is(serr, fs.ErrNotExist) && rerr == nil && string(data) == contents {
			return nil
		}
	}
	return err
}

// sameContents reports whether a and b can both be read and hold the same
// bytes.
func (p prober) sameContents(a, b string) bool {
	da, erra := p.fsys.ReadFile(a)
	db, errb := p.fsys.ReadFile(b)
	return erra == nil && errb == nil && string(da) == string(db)
}

// removeGone reports whether err, from removing name with package os, is
// a remove whose reply was lost: ENOENT, and name is gone.
func removeGone(name string, err error) bool {
	if !errors.Is(err, fs.ErrNotExist) {
		return false
	}
	_, serr := os.Lstat(name)
	return errors.Is(serr, fs.ErrNotExist)
}
