package conformance

import (
	"fmt"

	"github.com/nfslock/nfslock/conformance/probe"
	"github.com/nfslock/nfslock/locker"
)

// Capabilities is what Probe found that a filesystem does of what the lock
// relies on (see package probe). The suite adapts to it: lifetimes scale
// with the timestamp granularity, the ownership rule falls back to the claim
// name where link counts are missing, files the filesystem's client makes
// are told apart from the lock's, and checks that cannot apply are skipped
// naming the capability.
type Capabilities = probe.Capabilities

// ProbeCacheWait bounds how long Probe waits for a change made through one
// client to show through the other.
const ProbeCacheWait = probe.CacheWait

// IsClientFile reports whether name (a base name) has the form a network
// filesystem's client gives a file removed while still open. Such files are
// the client's, not the lock's: they go when the last handle closes.
func IsClientFile(name string) bool { return probe.IsClientFile(name) }

// Probe finds out what the filesystem under dir does that the lock relies
// on, as probe.Probe does, and fails where no lock can work, so that the
// suite is not run there: links that cannot be made or are not exclusive,
// or a rename that cannot replace a name.
func Probe(fsys locker.FS, dir, dir2 string) (*Capabilities, error) {
	c, err := probe.Probe(fsys, dir, dir2)
	if err != nil {
		return c, err
	}
	switch {
	case c.LinkError != "":
		return c, fmt.Errorf("probe: the filesystem cannot make hard links, which the lock needs: %s", c.LinkError)
	case c.LinkRace.MaxWinners > 1:
		return c, fmt.Errorf("probe: %d links onto one name succeeded at once: the filesystem's link is not exclusive, and no lock built on it can be", c.LinkRace.MaxWinners)
	case c.RenameError != "":
		return c, fmt.Errorf("probe: rename over an existing name: %s", c.RenameError)
	}
	return c, nil
}
