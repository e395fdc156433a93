package memfs

import (
	"time"

	"github.com/nfslock/nfslock/locker/vclock"
)

// Clock is the virtual clock of package vclock, which an FS stamps its
// files with (see FS.Clock). It is an alias, so a *Clock is a
// *vclock.Clock and either name may be used.
type Clock = vclock.Clock

// NewClock is vclock.New: it returns a Clock in manual mode that reads start
// until it is moved.
func NewClock(start time.Time) *Clock { return vclock.New(start) }
