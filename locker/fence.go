package locker

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
)

// Fencing tokens (WithFencing): the counter <lockfile>.fence holds the last
// token given. Right after it takes the lock, and before Lock or TryLock
// returns, the holder reads it, writes one more into a file of its own
// (<claim>.fence-tmp) and renames that over the counter once it has checked,
// under the break lock if its lock may have expired, that it still holds
// the lock. Why every token is greater than every token given before, and
// the limits, are written in full in docs/algorithm.md, "Fencing tokens".

// fenceSuffix names the counter, next to the lock file; fenceTempSuffix the
// file a holder writes before renaming it over the counter, next to its
// claim file.
const (
	fenceSuffix     = ".fence"
	fenceTempSuffix = ".fence-tmp"
)

// WithFencing makes every acquisition of the lock by this Lock carry a
// fencing token, which Token returns: a number greater than every token
// given before for the same lock file, by any Lock with fencing in any
// process on any host sharing the directory, including after a holder
// crashed or had its lock broken. Hand it to the storage the lock guards,
// and have the storage refuse writes whose token is smaller than one it has
// already seen: a holder that lost its lock without knowing it (a long
// pause) is then refused instead of overwriting its successor's work.
//
// The counter is the file <lockfile>.fence, which the lock leaves in place
// on purpose (removing it starts the tokens again from 1). It is updated
// with one write of a new file and a rename over the counter while the lock
// is held, before Lock or TryLock returns. If that fails the acquisition
// fails: the lock is released, no claim or temporary file is left, and the
// error says why. A counter that does not hold a token (someone edited it)
// fails every acquisition with an error wrapping ErrForeignFile, since no
// token could then be known to be greater than those given; the file is
// never changed. So does an object no lock makes at the counter's name (a
// directory, FIFO, symbolic link, ...), and a counter at the largest
// uint64. Without WithFencing, a Lock neither
// reads nor writes the counter and Token returns 0.
//
// flufl.lock processes know nothing of the counter: while one holds the
// lock it does not move, and the tokens of fencing Locks still increase.
func WithFencing() Option { return func(c *config) { c.fencing = true } }

// Token returns the fencing token of this Lock's latest acquisition (see
// WithFencing): 0 if fencing is off or this Lock has never taken the lock.
// The token stays the same until the Lock takes the lock again, so after
// the lock was lost or released it is a token no storage should accept
// any more.
func (l *Lock) Token() uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.token
}

// fenceFile is the counter's path for the lock file lockPath, or "" when
// the Lock does not fence.
func fenceFile(lockPath string, fencing bool) string {
	if !fencing {
		return ""
	}
	return lockPath + fenceSuffix
}

// FenceFile returns the path of the counter of fencing tokens,
// <lockfile>.fence, if this Lock fences (WithFencing), and "" otherwise.
func (l *Lock) FenceFile() string { return l.fencePath }

// fence runs right after this Lock took the lock, before the acquisition
// is reported. With fencing on, it moves the counter on and records the
// token; if that fails, it releases the lock and returns an *Error saying
// why, so that no acquisition succeeds without a token.
func (l *Lock) fence(op string) error {
	if l.fencePath == "" {
		return nil
	}
	token, err := l.nextToken()
	if err == nil {
		l.mu.Lock()
		l.token = token
		l.mu.Unlock()
		l.log.Debug("fencing token", "token", token)
		return nil
	}
	err = &Error{Op: op, Path: l.path, Err: fmt.Errorf("fencing token (%s): %w", l.fencePath, err)}
	if uerr := l.unlock(true); uerr != nil {
		err = appendErr(err, uerr)
	}
	return err
}

// nextToken reads the counter, writes one more into this Lock's temporary
// file and renames that over the counter, once it has checked that it still
// holds the lock. It leaves no temporary file behind.
func (l *Lock) nextToken() (token uint64, err error) {
	last, err := l.readToken()
	if err != nil {
		return 0, err
	}
	if last == math.MaxUint64 {
		// No token can be greater: as good as a counter that holds no
		// token.
		return 0, fmt.Errorf("%w: the counter %s is at its largest value, %d; no greater token can be given", ErrForeignFile, l.fencePath, last)
	}
	next := last + 1
	tmp := l.claim + fenceTempSuffix
	defer func() {
		// After a rename the temporary file is gone; otherwise it must go.
		if err != nil {
			if rerr := l.removeIfExists(tmp); rerr != nil {
				err = appendErr(err, fmt.Errorf("removing %s: %w", tmp, rerr))
			}
		}
	}()
	commit := func() error {
		o, err := l.observe()
		if err != nil {
			return err
		}
		if !l.owns(o) {
			return fmt.Errorf("%w before its token was written", ErrLost)
		}
		if err := l.fsys.Rename(tmp, l.fencePath); err != nil {
			return fmt.Errorf("renaming the next token over the counter: %w", err)
		}
		return nil
	}
	// A temporary file that vanishes before the rename was removed by a
	// breaker of this Lock's lock (the next commit finds the lock lost) or
	// by someone else at work in the directory: it is written again (see
	// retry.go).
	retry(func(int) bool {
		if err = l.writeFresh(tmp, []byte(strconv.FormatUint(next, 10)+"\n")); err != nil {
			err = fmt.Errorf("writing the next token: %w", err)
			return true
		}
		if l.mayBeBroken() {
			// A breaker may be at work: commit under the break lock, as
			// Refresh does, so that a late holder cannot move the counter
			// after its successor did.
			err = l.underBreakLockHolding(commit, func() error {
				o, err := l.observe()
				if err != nil {
					return err
				}
				if !l.owns(o) {
					return fmt.Errorf("%w while its token was written", ErrLost)
				}
				return nil
			})
		} else {
			err = commit()
		}
		return !isNotExist(err)
	})
	switch {
	case err == nil:
		return next, nil
	case isNotExist(err):
		err = fmt.Errorf("%w: the temporary file %s was removed each time it was written, %d times: %w", ErrBusy, tmp, maxTries, err)
	}
	return 0, err
}

// readToken returns the last token given, 0 if there is no counter yet.
// Errors named by WithRetryErrors and transient ones are retried a few
// times, as reads of the lock file are.
func (l *Lock) readToken() (uint64, error) {
	var data []byte
	err := l.retryErr(func(try int) error {
		if try > 0 {
			l.clock.Sleep(noCancel, l.minWait)
		}
		var err error
		data, err = l.fsys.ReadFile(l.fencePath)
		return err
	})
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, nil
	case isForeignObject(err):
		return 0, fmt.Errorf("%w: the counter %s holds something no lock makes: %w", ErrForeignFile, l.fencePath, err)
	case err != nil:
		return 0, fmt.Errorf("reading the counter: %w", err)
	}
	n, perr := strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
	if perr != nil {
		return 0, fmt.Errorf("%w: the counter %s holds %q, not a token; put in a number at least as large as any token given, or remove it if no storage has seen one",
			ErrForeignFile, l.fencePath, excerpt(string(data)))
	}
	return n, nil
}

// dropFenceTemp removes the temporary files of the holder whose claim file
// is holderClaim and whose lock this Lock just broke: a holder that crashed
// between writing one and renaming it over the counter (or, holding a
// shared lock's gate, over a count file) leaves it behind, and no one else
// knows its name. The breaker need not use fencing or be a gate itself
// (`nfslock break` is neither): the names are the holder's.
func (l *Lock) dropFenceTemp(holderClaim string) error {
	if err := l.removeIfExists(holderClaim + countTempSuffix); err != nil {
		return fmt.Errorf("removing the holder's temporary count file: %w", err)
	}
	if err := l.removeIfExists(holderClaim + fenceTempSuffix); err != nil {
		return fmt.Errorf("removing the holder's temporary token file: %w", err)
	}
	return nil
}
