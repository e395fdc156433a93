//go:build linux

package sunrpc

import (
	"math/rand/v2"
	"sync"
)

// XIDPolicy says which XID a call whose reply was lost is sent again with.
type XIDPolicy int

const (
	// SameXID resends with the original XID, as a real client does: the
	// server's duplicate request cache can answer with the first reply.
	SameXID XIDPolicy = iota
	// NewXID resends with a new XID: the server executes the call again,
	// so a LINK that was done gets EEXIST and a REMOVE gets ENOENT.
	NewXID
	// MixedXID chooses SameXID or NewXID at random for each lost reply.
	MixedXID
)

func (p XIDPolicy) String() string {
	switch p {
	case SameXID:
		return "same"
	case NewXID:
		return "new"
	case MixedXID:
		return "mixed"
	}
	return "?"
}

// Loss chooses the calls whose replies a Client loses on purpose.
type Loss struct {
	Procs map[uint32]bool // procedures whose replies may be lost
	Rate  float64         // chance that a reply to one of them is lost
	XID   XIDPolicy

	mu  sync.Mutex
	rnd *rand.Rand
}

// NewLoss returns a Loss that draws from a generator seeded with seed.
func NewLoss(procs map[uint32]bool, rate float64, xid XIDPolicy, seed uint64) *Loss {
	return &Loss{Procs: procs, Rate: rate, XID: xid, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// chooses reports whether the reply to a call of proc is to be lost.
func (l *Loss) chooses(proc uint32) bool {
	if l == nil || !l.Procs[proc] || l.Rate <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.rnd.Float64() < l.Rate
}

// newXID reports whether a call whose reply was lost gets a new XID.
func (l *Loss) newXID() bool {
	switch l.XID {
	case NewXID:
		return true
	case MixedXID:
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.rnd.IntN(2) == 1
	}
	return false
}

// A LostReply describes the replies lost on purpose, for Stats: the
// procedure, whether the call was sent again with a new XID, what the lost
// reply said and what the reply to the call sent again said (as the
// Client's Status function names them).
type LostReply struct {
	Proc   uint32
	NewXID bool
	First  string
	Retry  string
}

// Stats counts what a Client did.
type Stats struct {
	Calls      map[uint32]uint64    // calls made, by procedure
	Resent     uint64               // calls sent again on a new connection
	Reconnects uint64               // connections made after the first
	Timeouts   uint64               // calls unanswered for the Client's timeout
	Lost       map[LostReply]uint64 // replies lost on purpose
}

func (s *Stats) clone() Stats {
	c := *s
	c.Calls = make(map[uint32]uint64, len(s.Calls))
	for k, v := range s.Calls {
		c.Calls[k] = v
	}
	c.Lost = make(map[LostReply]uint64, len(s.Lost))
	for k, v := range s.Lost {
		c.Lost[k] = v
	}
	return c
}
