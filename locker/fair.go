package locker

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Waiters served in order (WithFairness): a Lock that finds the lock busy
// takes a ticket, a file <path>.queue.<k> holding its claim name, with k
// one more than the highest ticket it sees; the link that makes it fails
// if another took that number first, and it tries the next. It dates its
// ticket as it dates its claim file, every third of its lifetime, and only
// the holder of the lowest live ticket tries to take the lock; the others
// wait. A ticket whose date has passed by more than the clock slop is a
// dead waiter's, and the next waiter removes it, so that a dead waiter
// holds up the queue for at most its lifetime plus the slop.
//
// The queue only says who tries: taking the lock is the same protocol as
// without it, so no two holders can come of the queue, whatever happens to
// the tickets (a ticket lost or removed by mistake costs its waiter its
// place, not the lock's safety). Locks without the option, and flufl.lock
// processes, ignore the queue: fairness is among the Locks that use it.
// The rules are in docs/algorithm.md, "Waiters served in order".

// queueInfix names the tickets: <path>.queue.<k>.
const queueInfix = ".queue."

// ticketTempSuffix names the file, next to the claim file, that a waiter
// writes and links to its ticket's name.
const ticketTempSuffix = ".ticket"

// queueTries bounds the numbers a waiter tries in one go to take a ticket:
// each failure means another waiter took that number in the meantime.
const queueTries = 16

// queue is one waiting Lock call's place in the queue.
type queue struct {
	l      *Lock
	dr     DirReader
	ticket string    // this waiter's ticket, "" while it has none
	num    int       // its number
	dated  time.Time // when it was last dated, by the Lock's clock
	// first: no live ticket was below this one at the last look. No
	// waiter comes before it again (newcomers take higher numbers) while
	// it keeps its ticket, so it need not look again.
	first bool
}

func (l *Lock) newQueue() *queue {
	dr, _ := l.fsys.(DirReader) // New checked
	return &queue{l: l, dr: dr}
}

// tickets lists the numbers of the tickets in the directory, lowest first.
func (q *queue) tickets() ([]int, error) {
	names, err := q.dr.ReadDirNames(q.l.dir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", q.l.dir, err)
	}
	prefix := q.l.base + queueInfix
	var nums []int
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok {
			continue
		}
		if k, err := strconv.Atoi(rest); err == nil && k > 0 && strconv.Itoa(k) == rest {
			nums = append(nums, k)
		}
	}
	slices.Sort(nums)
	return nums, nil
}

// ticketName is the name of ticket k.
func (q *queue) ticketName(k int) string { return q.l.path + queueInfix + strconv.Itoa(k) }

// ahead reports whether a live waiter comes before this one: one with a
// lower ticket, or, while this one has none, any ticket (a newcomer queues
// behind those who wait). It removes the dead waiters' tickets it passes.
// A waiter whose ticket went (removed as dead after a stall longer than
// its lifetime) loses its place and takes a new ticket once it finds the
// lock busy again.
func (q *queue) ahead() (bool, error) {
	if q.first && q.ticket != "" {
		return false, nil
	}
	nums, err := q.tickets()
	if err != nil {
		return false, err
	}
	if q.ticket != "" && !slices.Contains(nums, q.num) {
		q.l.log.Warn("this waiter's ticket is gone: queueing again", "ticket", q.ticket)
		q.ticket, q.first = "", false
	}
	for _, k := range nums {
		if q.ticket != "" && k >= q.num {
			break
		}
		live, err := q.liveOrRemove(k)
		if err != nil {
			return false, err
		}
		if live {
			return true, nil
		}
	}
	q.first = q.ticket != ""
	return false, nil
}

// liveOrRemove reports whether ticket k is a live waiter's; a dead one's,
// dated more than the clock slop ago, it removes. Anything at the name
// that is not a ticket of this lock is left alone and holds no one up.
func (q *queue) liveOrRemove(k int) (bool, error) {
	l, name := q.l, q.ticketName(k)
	fi, err := l.fsys.Stat(name)
	switch {
	case isNotExist(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("looking at ticket %s: %w", name, err)
	case fi.IsDir || fi.Size == 0 || fi.Size > sweepMaxClaimSize:
		return false, nil
	case !l.expired(fi.ModTime):
		return true, nil
	}
	data, err := l.fsys.ReadFile(name)
	if err != nil {
		if isNotExist(err) || isForeignObject(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading ticket %s: %w", name, err)
	}
	if c, ok := parseClaim(string(data), l.sep, l.base); !ok || c.name != string(data) {
		return false, nil // not a ticket
	}
	if err := l.removeIfExists(name); err != nil {
		return false, fmt.Errorf("removing the dead waiter's ticket %s: %w", name, err)
	}
	l.log.Info("removed a dead waiter's ticket", "ticket", name, "claim", string(data))
	return false, nil
}

// join takes a ticket behind the highest one.
func (q *queue) join() error {
	l := q.l
	tmp := l.claim + ticketTempSuffix
	defer func() {
		if err := l.removeIfExists(tmp); err != nil {
			l.log.Warn("removing the ticket's temporary file", "name", tmp, "err", err)
		}
	}()
	if err := l.writeFresh(tmp, []byte(l.claim)); err != nil {
		return fmt.Errorf("writing ticket %s: %w", tmp, err)
	}
	if err := l.touch(tmp); err != nil {
		return fmt.Errorf("dating ticket %s: %w", tmp, err)
	}
	for range queueTries {
		nums, err := q.tickets()
		if err != nil {
			return err
		}
		k := 1
		if len(nums) > 0 {
			k = nums[len(nums)-1] + 1
		}
		name := q.ticketName(k)
		err = l.fsys.Link(tmp, name)
		if err != nil {
			// The reply may have been lost, the link made (and, sent
			// again, found the name taken): the ticket is ours if it
			// holds our claim name, which no other waiter writes.
			if data, rerr := l.fsys.ReadFile(name); rerr == nil && string(data) == l.claim {
				err = nil
			}
		}
		if err == nil {
			q.ticket, q.num, q.dated, q.first = name, k, l.clock.Now(), false
			return nil
		}
		if !errors.Is(err, fs.ErrExist) && !l.retryable(err) {
			return fmt.Errorf("taking ticket %s: %w", name, err)
		}
	}
	return fmt.Errorf("%w: %d tickets taken by others in a row", ErrBusy, queueTries)
}

// behind reports whether this waiter must let another try first, taking a
// ticket if it has none: it dates its ticket when due and looks at the
// queue (see ahead). It is false for a Lock without fairness (q nil), and
// when the queue cannot be looked at: the lock is then tried out of turn,
// which is as safe.
func (q *queue) behind() bool {
	if q == nil {
		return false
	}
	q.redate()
	ahead, err := q.ahead()
	if err != nil {
		q.l.log.Warn("looking at the queue failed; trying the lock out of turn", "err", err)
		return false
	}
	if ahead {
		q.queue()
	}
	return ahead
}

// queue takes a ticket if this waiter has none (a Lock without fairness
// has no queue: q nil). A failure is logged: the waiter then tries out of
// turn until it has one.
func (q *queue) queue() {
	if q == nil || q.ticket != "" {
		return
	}
	if err := q.join(); err != nil {
		q.l.log.Warn("taking a ticket failed; trying the lock out of turn", "err", err)
	}
}

// redate dates the ticket again every third of the lifetime, as the claim
// file is.
func (q *queue) redate() {
	if q.ticket == "" || q.l.clock.Now().Sub(q.dated) < q.l.redateEvery() {
		return
	}
	if err := q.l.touch(q.ticket); err != nil {
		if isNotExist(err) {
			q.ticket, q.first = "", false // see ahead
			return
		}
		q.l.log.Warn("dating the ticket failed", "ticket", q.ticket, "err", err)
		return
	}
	q.dated = q.l.clock.Now()
}

// leave gives up the ticket, if any.
func (q *queue) leave() {
	if q.ticket == "" {
		return
	}
	if err := q.l.removeIfExists(q.ticket); err != nil {
		q.l.log.Warn("removing the ticket", "ticket", q.ticket, "err", err)
	}
	q.ticket, q.first = "", false
}

// A Ticket describes one waiter in a lock's queue (see WithFairness).
type Ticket struct {
	Number int // k of <path>.queue.<k>; the lowest live ticket goes first
	// The waiter, as its ticket names it; Expires is the ticket's date,
	// which the waiter moves on every third of its lifetime.
	Details
	// ClaimFile is the waiter's claim file, as its ticket names it.
	ClaimFile string
	// Expired is set when the ticket's date has passed: its waiter may
	// be dead, and the ticket is removed, and passed over, once it has
	// been expired for longer than the clock slop.
	Expired bool
}

// Queue lists the waiters queued for the lock (those whose Lock uses
// WithFairness), in the order they are served. It takes nothing and
// changes no file. A backend that cannot list a directory (no DirReader)
// has no queue: Queue returns nil. Anything at a ticket's name that is no
// ticket of this lock is left out, as the waiters leave it out.
func (l *Lock) Queue() ([]Ticket, error) {
	dr, ok := l.fsys.(DirReader)
	if !ok {
		return nil, nil
	}
	q := &queue{l: l, dr: dr}
	nums, err := q.tickets()
	if err != nil {
		return nil, &Error{Op: "queue", Path: l.path, Err: err}
	}
	now := l.serverNow()
	var out []Ticket
	for _, k := range nums {
		name := q.ticketName(k)
		data, err := l.fsys.ReadFile(name)
		if isNotExist(err) || isForeignObject(err) {
			continue // served, or no ticket
		}
		if err != nil {
			return nil, &Error{Op: "queue", Path: l.path, Err: fmt.Errorf("reading ticket %s: %w", name, err)}
		}
		c, ok := parseClaim(string(data), l.sep, l.base)
		if !ok || c.name != string(data) {
			continue
		}
		fi, err := l.fsys.Stat(name)
		if isNotExist(err) {
			continue
		}
		if err != nil {
			return nil, &Error{Op: "queue", Path: l.path, Err: fmt.Errorf("looking at ticket %s: %w", name, err)}
		}
		out = append(out, Ticket{
			Number:    k,
			Details:   Details{Hostname: c.host, PID: c.pid, LockFile: c.lockFile, Expires: fi.ModTime},
			ClaimFile: c.name,
			Expired:   fi.ModTime.Before(now),
		})
	}
	return out, nil
}
