package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/nfslock/nfslock/locker"
	"github.com/spf13/pflag"
)

func statusCommand() subcommand {
	return subcommand{
		name:     "status",
		synopsis: "status [--json] LOCKFILE",
		brief:    "show who holds the lock, and until when",
		summary: `Show the lock's state, as flufl.lock names it (unlocked, ours,
ours_expired, stale, theirs_expired, unknown; "ours" means held in the
name of --pid on this host), its holder's host, pid and claim file, when
it expires and when it may be broken, the waiters in the queue in the
order they will be served, and the clock offset to the file server. Exit 0 if the lock is free, 1 if it is held (expired or not), 65
if the lock path holds a file that is not a lock. Reading the lock never
changes it; to learn the clock offset a claim file is written and
removed, without taking the lock.
`,
		flags: func(o *options) *pflag.FlagSet {
			fs := newFlagSet("status")
			fs.BoolVar(&o.json, "json", false, "print one JSON object (fields: see docs/cli.md)")
			addPID(fs, o, `the process whose locks are "ours"`)
			addSlop(fs, o)
			addSeparator(fs, o, locker.DefaultSeparator)
			addHelp(fs, o)
			return fs
		},
		run: runStatus,
	}
}

// statusReport is what status prints; with --json, as is.
type statusReport struct {
	LockFile string `json:"lock_file"`
	// State is flufl.lock's state, but "held" (or "theirs_expired", once
	// expired) for a lock held by someone else, which flufl.lock calls
	// "unknown", and "not_a_lock".
	State      string        `json:"state"`
	FluflState string        `json:"flufl_state"` // flufl.lock's name for the state
	Held       bool          `json:"held"`
	NotALock   bool          `json:"not_a_lock"`
	Holder     *holderReport `json:"holder"`
	// ClockOffsetSeconds is the file server's clock minus this host's;
	// null if it could not be measured (ClockOffsetError says why).
	ClockOffsetSeconds *float64 `json:"clock_offset_seconds"`
	ClockOffsetError   string   `json:"clock_offset_error,omitempty"`
	SlopSeconds        float64  `json:"slop_seconds"`
	// RWLock is set when LOCKFILE is a shared lock (LOCKFILE.readers
	// exists), Semaphore when it is a semaphore (LOCKFILE.slots exists).
	RWLock    *rwReport        `json:"rwlock,omitempty"`
	Semaphore *semaphoreReport `json:"semaphore,omitempty"`
	// Queue lists the waiters with a ticket (LOCKFILE.queue.N), first
	// served first: empty when no one waits in turn.
	Queue []ticketReport `json:"queue"`
}

// ticketReport is one waiter in the queue; its expiry is its ticket's,
// which a live waiter moves on, and breakable says the ticket has expired
// for longer than the slop: it is passed over and removed.
type ticketReport struct {
	Ticket int `json:"ticket"` // N of LOCKFILE.queue.N
	holderReport
}

// rwReport is what status says of a shared lock; the holder of LOCKFILE,
// its gate, is the writer (or a writer waiting for the readers to leave,
// or a reader entering).
type rwReport struct {
	Readers []slotReport `json:"readers"`
}

// semaphoreReport is what status says of a semaphore; the holder of
// LOCKFILE, its gate, is the process next in line for a slot.
type semaphoreReport struct {
	Slots   int          `json:"slots"` // the recorded number of slots
	Holders []slotReport `json:"holders"`
}

// slotReport is the holder of one reader slot or semaphore slot.
type slotReport struct {
	Slot int `json:"slot"` // k of LOCKFILE.reader.<k> or LOCKFILE.slot.<k>
	holderReport
}

type holderReport struct {
	Host             string    `json:"host"`
	PID              int       `json:"pid"`
	LockFile         string    `json:"lock_file"`  // the lock path as the holder named it
	ClaimFile        string    `json:"claim_file"` // the holder's claim file, in the lock's directory
	Expires          time.Time `json:"expires"`
	ExpiresInSeconds float64   `json:"expires_in_seconds"` // negative once expired
	Breakable        bool      `json:"breakable"`          // expired for longer than the slop
}

func runStatus(e *env, o *options, args []string) int {
	path, code, ok := e.oneArg(args, "LOCKFILE")
	if !ok {
		return code
	}
	pid, code, ok := e.claimPID(o, false)
	if !ok {
		return code
	}
	what := "cannot read the lock " + path
	l, err := locker.New(path, e.fsys, locker.WithPID(pid), locker.WithClockSlop(o.slop), locker.WithSeparator(o.separator))
	if err != nil {
		return e.fail(e.code(err, exitConflict), what, err)
	}
	// A lock in a directory that does not exist is not "free": the path
	// is wrong.
	if _, err := e.fsys.Stat(filepath.Dir(l.LockFile())); err != nil {
		return e.fail(codeFor(err, exitConflict), what, err)
	}
	r := statusReport{LockFile: l.LockFile(), SlopSeconds: o.slop.Seconds()}
	if off, err := l.MeasureClockOffset(); err != nil {
		r.ClockOffsetError = e.reason(err)
	} else {
		s := off.Seconds()
		r.ClockOffsetSeconds = &s
	}
	// State and Details each read the lock file: take them from one
	// holder, reading its contents before and after.
	var st locker.State
	var d locker.Details
	var derr error
	for range 5 {
		before, _ := e.fsys.ReadFile(l.LockFile())
		st, err = l.State()
		if errors.Is(err, locker.ErrForeignFile) {
			st, derr = locker.Unknown, err
			break
		}
		if err != nil {
			return e.fail(e.code(err, exitConflict), what, err)
		}
		d, derr = l.Details()
		after, _ := e.fsys.ReadFile(l.LockFile())
		if string(before) == string(after) {
			if derr == nil {
				r.Holder = &holderReport{
					Host: d.Hostname, PID: d.PID, LockFile: d.LockFile,
					ClaimFile: filepath.Join(filepath.Dir(l.LockFile()), claimBase(string(after))),
					Expires:   d.Expires,
				}
			}
			break
		}
	}
	r.FluflState = st.String()
	r.State = r.FluflState
	switch {
	case errors.Is(derr, locker.ErrForeignFile):
		r.NotALock = true
		r.State = "not_a_lock"
		code = exitDataErr
	case st == locker.Unlocked:
		code = exitOK
	case derr != nil && !errors.Is(derr, locker.ErrNotLocked):
		return e.fail(e.code(derr, exitConflict), what, derr)
	default:
		r.Held = true
		code = exitConflict
	}
	if h := r.Holder; h != nil {
		h.date(l, o.slop)
		if st == locker.Unknown {
			// flufl.lock cannot tell a live holder from an unknown one;
			// what status can say is whether the lock has expired.
			r.State = "held"
			if h.ExpiresInSeconds < 0 {
				r.State = "theirs_expired"
			}
		}
	}
	if !r.NotALock {
		if err := e.statusOfSlots(&r, l, o); err != nil {
			return e.fail(e.code(err, exitConflict), what, err)
		}
		if r.Queue, err = queueReports(l, o.slop); err != nil {
			return e.fail(e.code(err, exitConflict), what, err)
		}
		if (r.RWLock != nil && len(r.RWLock.Readers) > 0) || (r.Semaphore != nil && len(r.Semaphore.Holders) > 0) {
			r.Held = true
			code = exitConflict
		}
	}
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return e.fail(exitIOErr, "cannot write the status of "+path, err)
		}
		return code
	}
	gate := ""
	if r.RWLock != nil || r.Semaphore != nil {
		gate = " (the gate)"
	}
	holder := ""
	if h := r.Holder; h != nil {
		holder = fmt.Sprintf(" (host %s, pid %d)", h.Host, h.PID)
	}
	fmt.Fprintf(e.stdout, "%s: %s%s%s\n", r.LockFile, r.State, holder, gate)
	switch {
	case r.NotALock:
		fmt.Fprintf(e.stdout, "  the lock path: %s\n", e.foreign(r.LockFile, derr))
	case r.Holder != nil:
		h := r.Holder
		role := ""
		switch {
		case r.RWLock != nil:
			role = " (the writer, or a reader entering)"
		case r.Semaphore != nil:
			role = " (next in line for a slot)"
		}
		fmt.Fprintf(e.stdout, "  holder:     host %s, pid %d%s\n", h.Host, h.PID, role)
		fmt.Fprintf(e.stdout, "  claim file: %s\n", h.ClaimFile)
		fmt.Fprintf(e.stdout, "  expires:    %s (%s)\n", h.Expires.Local().Format(time.RFC3339Nano), h.when(o.slop))
	}
	var slots []slotReport
	switch {
	case r.RWLock != nil:
		fmt.Fprintf(e.stdout, "  readers:    %d\n", len(r.RWLock.Readers))
		slots = r.RWLock.Readers
	case r.Semaphore != nil:
		fmt.Fprintf(e.stdout, "  slots:      %d of %d held\n", len(r.Semaphore.Holders), r.Semaphore.Slots)
		slots = r.Semaphore.Holders
	}
	for _, s := range slots {
		fmt.Fprintf(e.stdout, "    %-9s host %s, pid %d, expires %s; claim file %s\n",
			fmt.Sprintf("slot %d:", s.Slot), s.Host, s.PID, s.when(o.slop), s.ClaimFile)
	}
	if len(r.Queue) > 0 {
		fmt.Fprintf(e.stdout, "  waiting:    %d, served in this order:\n", len(r.Queue))
		for _, q := range r.Queue {
			fmt.Fprintf(e.stdout, "    %-9s host %s, pid %d, expires %s; claim file %s\n",
				fmt.Sprintf("ticket %d:", q.Ticket), q.Host, q.PID, q.when(o.slop), q.ClaimFile)
		}
	}
	if r.ClockOffsetSeconds != nil {
		fmt.Fprintf(e.stdout, "  clock:      %s\n", offsetText(time.Duration(*r.ClockOffsetSeconds*float64(time.Second))))
	} else {
		fmt.Fprintf(e.stdout, "  clock:      offset to the file server unknown: %s\n", r.ClockOffsetError)
	}
	return code
}

// offsetText says how the file server's clock differs from this host's,
// off being the first minus the second.
func offsetText(off time.Duration) string {
	switch {
	case off.Abs() < time.Millisecond:
		return "the file server's agrees with this host's (within 1ms)"
	case off > 0:
		return "the file server's is " + human(off) + " ahead of this host's"
	}
	return "the file server's is " + human(-off) + " behind this host's"
}

// date sets when h expires, seen from now in the file server's clock,
// and whether it may be broken.
func (h *holderReport) date(l *locker.Lock, slop time.Duration) {
	left := h.Expires.Sub(time.Now().Add(l.ClockOffset()))
	h.ExpiresInSeconds = left.Seconds()
	h.Breakable = left+slop < 0
}

// when says when h expires or expired, and when it may be broken.
func (h *holderReport) when(slop time.Duration) string {
	left := time.Duration(h.ExpiresInSeconds * float64(time.Second))
	switch {
	case h.Breakable:
		return human(-left) + " ago; may be broken"
	case left < 0:
		return fmt.Sprintf("%s ago; may be broken in %s", human(-left), human(left+slop))
	}
	return "in " + human(left)
}

// statusOfSlots adds to r the readers of LOCKFILE if it is a shared lock
// (LOCKFILE.readers exists) and the holders of its slots if it is a
// semaphore (LOCKFILE.slots exists); l is the lock on LOCKFILE.
func (e *env) statusOfSlots(r *statusReport, l *locker.Lock, o *options) error {
	path := l.LockFile()
	opts := []locker.Option{locker.WithClockSlop(o.slop), locker.WithSeparator(o.separator)}
	if _, err := e.fsys.Stat(path + ".readers"); err == nil {
		rw, err := locker.NewRWLock(path, e.fsys, opts...)
		if err != nil {
			return err
		}
		st, err := rw.Status()
		if err != nil {
			return err
		}
		r.RWLock = &rwReport{Readers: e.slotReports(path, "reader", st.Readers, l, o.slop)}
	}
	if _, err := e.fsys.Stat(path + ".slots"); err == nil {
		sem, err := locker.NewSemaphore(path, 1, e.fsys, opts...)
		if err != nil {
			return err
		}
		st, err := sem.Status()
		if err != nil {
			return err
		}
		r.Semaphore = &semaphoreReport{Slots: st.Slots, Holders: e.slotReports(path, "slot", st.Holders, l, o.slop)}
	}
	return nil
}

// slotReports describes the holders of slots ss of kind.
func (e *env) slotReports(path, kind string, ss []locker.SlotDetails, l *locker.Lock, slop time.Duration) []slotReport {
	out := []slotReport{}
	for _, s := range ss {
		name := fmt.Sprintf("%s.%s.%d", path, kind, s.Index)
		sr := slotReport{Slot: s.Index, holderReport: holderReport{Host: s.Hostname, PID: s.PID, LockFile: s.LockFile, Expires: s.Expires}}
		if contents, err := e.fsys.ReadFile(name); err == nil {
			sr.ClaimFile = filepath.Join(filepath.Dir(name), claimBase(string(contents)))
		}
		sr.date(l, slop)
		out = append(out, sr)
	}
	return out
}

// queueReports describes the waiters in the queue of l, the lock on
// LOCKFILE.
func queueReports(l *locker.Lock, slop time.Duration) ([]ticketReport, error) {
	q, err := l.Queue()
	if err != nil {
		return nil, err
	}
	out := []ticketReport{}
	for _, tk := range q {
		tr := ticketReport{Ticket: tk.Number, holderReport: holderReport{
			Host: tk.Hostname, PID: tk.PID, LockFile: tk.LockFile,
			ClaimFile: filepath.Join(filepath.Dir(l.LockFile()), claimBase(tk.ClaimFile)),
			Expires:   tk.Expires,
		}}
		tr.date(l, slop)
		out = append(out, tr)
	}
	return out, nil
}

// claimBase is the base name of the claim file a lock file's contents
// name, written by any platform.
func claimBase(contents string) string {
	contents = strings.TrimSpace(contents)
	if i := strings.LastIndexAny(contents, `/\`); i >= 0 {
		return contents[i+1:]
	}
	return contents
}
