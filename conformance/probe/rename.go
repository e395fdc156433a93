package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
)

// renameRounds is how many replacements of a name rename watches.
const renameRounds = 200

// rename: a rename onto an existing name replaces it; done again and again
// through Dir while the name is watched through Dir2 (or Dir), the name
// never goes missing if rename is atomic.
func (p prober) rename(c *Capabilities) error {
	x, y := p.path("rename-x"), p.path("rename-y")
	if err := p.write(x, "x"); err != nil {
		return err
	}
	defer p.fsys.Remove(x)
	if err := p.write(y, "y"); err != nil {
		return err
	}
	defer p.fsys.Remove(y)
	if err := p.renameOver(x, y, "x"); err != nil {
		c.RenameError = err.Error()
		return nil
	}
	data, err := p.fsys.ReadFile(y)
	_, xerr := p.fsys.Stat(x)
	c.RenameReplaces = err == nil && string(data) == "x" && errors.Is(xerr, fs.ErrNotExist)

	watched := filepath.Join(p.other, filepath.Base(y))
	stop := make(chan struct{})
	missing := make(chan bool, 1)
	go func() {
		gap := false
		for {
			select {
			case <-stop:
				missing <- gap
				return
			default:
			}
			if _, err := p.fsys.Stat(watched); errors.Is(err, fs.ErrNotExist) {
				gap = true
			}
		}
	}()
	for i := range renameRounds {
		tmp := p.path(fmt.Sprint("rename-", i))
		if err = p.write(tmp, fmt.Sprint(i)); err != nil {
			break
		}
		if err = p.renameOver(tmp, y, fmt.Sprint(i)); err != nil {
			p.fsys.Remove(tmp)
			c.RenameError = fmt.Sprintf("replacement %d: %v", i, err)
			err = nil
			break
		}
		c.RenameRounds++
	}
	close(stop)
	c.RenameAtomic = !<-missing && c.RenameRounds == renameRounds
	return err
}
