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
		summary: `Show the lock's state, as flufl.lock names it (unlocked, ours,
ours_expired, stale, theirs_expired, unknown; "ours" means held in the
name of --pid on this host), its holder's host, pid and claim file, when
it expires and when it may be broken, and the clock offset to the file
server. Exit 0 if the lock is free, 1 if it is held (expired or not), 65
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
	LockFile string        `json:"lock_file"`
	State    string        `json:"state"`
	Held     bool          `json:"held"`
	NotALock bool          `json:"not_a_lock"`
	Holder   *holderReport `json:"holder"`
	// ClockOffsetSeconds is the file server's clock minus this host's;
	// null if it could not be measured (ClockOffsetError says why).
	ClockOffsetSeconds *float64 `json:"clock_offset_seconds"`
	ClockOffsetError   string   `json:"clock_offset_error,omitempty"`
	SlopSeconds        float64  `json:"slop_seconds"`
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
	l, err := locker.New(path, e.fsys, locker.WithPID(pid), locker.WithClockSlop(o.slop), locker.WithSeparator(o.separator))
	if err != nil {
		return e.fail(codeFor(err, exitConflict), err)
	}
	// A lock in a directory that does not exist is not "free": the path
	// is wrong.
	if _, err := e.fsys.Stat(filepath.Dir(l.LockFile())); err != nil {
		return e.fail(codeFor(err, exitConflict), fmt.Errorf("status %s: %w", l.LockFile(), err))
	}
	r := statusReport{LockFile: l.LockFile(), SlopSeconds: o.slop.Seconds()}
	if off, err := l.MeasureClockOffset(); err != nil {
		r.ClockOffsetError = err.Error()
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
		if err != nil {
			return e.fail(codeFor(err, exitConflict), err)
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
	r.State = st.String()
	switch {
	case errors.Is(derr, locker.ErrForeignFile):
		r.NotALock = true
		code = exitDataErr
	case st == locker.Unlocked:
		code = exitOK
	case derr != nil && !errors.Is(derr, locker.ErrNotLocked):
		return e.fail(codeFor(derr, exitConflict), derr)
	default:
		r.Held = true
		code = exitConflict
	}
	if h := r.Holder; h != nil {
		left := h.Expires.Sub(time.Now().Add(l.ClockOffset()))
		h.ExpiresInSeconds = left.Seconds()
		h.Breakable = left+o.slop < 0
	}
	if o.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return e.fail(exitIOErr, err)
		}
		return code
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", r.LockFile, r.State)
	switch {
	case r.NotALock:
		fmt.Fprintf(e.stdout, "  the file at the lock path is not a lock: nfslock never touches it\n")
	case r.Holder != nil:
		h := r.Holder
		fmt.Fprintf(e.stdout, "  holder:     host %s, pid %d\n", h.Host, h.PID)
		fmt.Fprintf(e.stdout, "  claim file: %s\n", h.ClaimFile)
		left := time.Duration(h.ExpiresInSeconds * float64(time.Second))
		when := "in " + seconds(left)
		switch {
		case h.Breakable:
			when = seconds(-left) + " ago; may be broken"
		case left < 0:
			when = fmt.Sprintf("%s ago; may be broken in %s", seconds(-left), seconds(left+o.slop))
		}
		fmt.Fprintf(e.stdout, "  expires:    %s (%s)\n", h.Expires.Local().Format(time.RFC3339Nano), when)
	}
	if r.ClockOffsetSeconds != nil {
		fmt.Fprintf(e.stdout, "  clock:      the file server's is %+.3fs from this host's\n", *r.ClockOffsetSeconds)
	} else {
		fmt.Fprintf(e.stdout, "  clock:      offset to the file server unknown: %s\n", r.ClockOffsetError)
	}
	return code
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
