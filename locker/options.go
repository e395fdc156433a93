package locker

import (
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Defaults, chosen to match flufl.lock.
const (
	// DefaultLifetime is how long a lock stays valid after it is acquired or
	// refreshed, unless WithLifetime says otherwise.
	DefaultLifetime = 15 * time.Second
	// DefaultClockSlop is how long past its expiry a lock must be before
	// another process may break it: an allowance for clocks that disagree.
	DefaultClockSlop = 10 * time.Second
	// DefaultMinBackoff and DefaultMaxBackoff bound the wait between two
	// attempts to take a busy lock. The wait doubles from the minimum to the
	// maximum, with random jitter.
	DefaultMinBackoff = 1 * time.Millisecond
	DefaultMaxBackoff = 100 * time.Millisecond
)

// DefaultSeparator joins the parts of a claim file's name: "|" on POSIX
// systems and "^" on Windows, as in flufl.lock.
var DefaultSeparator = defaultSeparator()

func defaultSeparator() string {
	if runtime.GOOS == "windows" {
		return "^"
	}
	return "|"
}

// An Option configures a Lock in New.
type Option func(*config)

type config struct {
	lifetime    time.Duration
	timeout     time.Duration
	separator   string
	clock       Clock
	hostname    string
	hostnameSet bool
	pid         int
	pidSet      bool
	slop        time.Duration
	minBackoff  time.Duration
	maxBackoff  time.Duration
	retryErrs   []error
	logger      *slog.Logger
	noWatch     bool
	localTime   bool
	noSweep     bool
	fencing     bool // see fence.go
	fair        bool // see fair.go
}

// WithLifetime sets how long the lock stays valid after each acquisition or
// refresh. The default is DefaultLifetime (15 s). It must be positive, and
// longer than the filesystem's timestamp granularity.
func WithLifetime(d time.Duration) Option { return func(c *config) { c.lifetime = d } }

// WithTimeout sets how long Lock waits for a busy lock before it gives up
// with ErrTimeout. Zero, the default, means wait until the context is done.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithSeparator sets the character that joins the parts of the claim file's
// name. It must match the separator of every other process using the same
// lock file, flufl.lock's included. The default is DefaultSeparator.
func WithSeparator(sep string) Option { return func(c *config) { c.separator = sep } }

// WithClock sets the source of time, RealClock by default. Tests pass a
// virtual clock.
func WithClock(clk Clock) Option { return func(c *config) { c.clock = clk } }

// WithHostname sets the host name written into the claim file. The default
// is the name Python's socket.getfqdn() gives for this machine, as
// flufl.lock uses (the host name resolved to an address and back, preferring
// a name with a dot), found once per process, so that State agrees between
// a Go and a flufl.lock process of one host. Where that name is a loopback
// name (localhost, or another name of loopback addresses only, as on many
// containers and cloud images), which would name every such host alike, or
// where the lookup fails or takes more than 2 s, the default is
// os.Hostname(). See docs/python-interop.md for what that changes for
// flufl.lock processes of such a host. Tests use WithHostname to simulate
// several hosts in one process.
func WithHostname(name string) Option {
	return func(c *config) { c.hostname, c.hostnameSet = name, true }
}

// WithPID sets the process id written into the claim file, os.Getpid() by
// default. Tests use it to simulate several processes in one.
func WithPID(pid int) Option { return func(c *config) { c.pid, c.pidSet = pid, true } }

// WithClockSlop sets how long past its expiry a lock must be before it may be
// broken, DefaultClockSlop (10 s) by default. It must not be negative.
func WithClockSlop(d time.Duration) Option { return func(c *config) { c.slop = d } }

// WithBackoff sets the shortest and longest wait between two attempts to
// take a busy lock (DefaultMinBackoff and DefaultMaxBackoff). Waits double
// from min to max; each is jittered down by up to half. While the lock
// changes hands between two attempts, the next wait is at most eight times
// min (within max), so that waiters that have waited long do not poll less
// often than newcomers; while one holder keeps the lock, the waits grow to
// max. A Lock that gives other claimants a turn (see Lock) leaves them the
// lock for up to sixteen times min (within max).
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) { c.minBackoff, c.maxBackoff = min, max }
}

// WithRetryErrors adds errors that, when a read of the lock file fails with
// them (by errors.Is), are retried after a pause instead of returned: the
// equivalent of flufl.lock's retry_errnos. Errors marked with Transient are
// always retried.
func WithRetryErrors(errs ...error) Option {
	return func(c *config) { c.retryErrs = append(c.retryErrs, errs...) }
}

// WithLogger sets where the lock reports what it does, at debug level for
// routine steps and warning level for anything surprising. By default it logs
// nothing.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithWatcher sets whether Lock uses the backend's Watcher or
// EntryWatcher, when it has one, to wake as soon as the lock is released.
// The default is true; false makes a waiting Lock rely on polling alone.
// A Lock keeps its watch from one wait to the next, and stops it once no
// wait has used it for a second: for up to a second after Lock returns, the
// watch (an inotify instance and the goroutine that reads it, on Linux)
// remains.
func WithWatcher(use bool) Option { return func(c *config) { c.noWatch = !use } }

// WithServerTime sets whether the Lock writes and judges lock times in the
// file server's clock, which it estimates from the modification times the
// server gives the files it writes. The default is true: a host whose clock
// is wrong then neither breaks live locks early nor waits for ever. With
// false, lock times are in this host's clock, as flufl.lock's are; use it
// when the backend's file times do not come from a clock (a test backend
// whose times stand still while the Lock's virtual clock moves).
func WithServerTime(use bool) Option { return func(c *config) { c.localTime = !use } }

// WithSweep sets whether a Lock that waits for a busy lock removes the claim
// files that dead claimants left beside the lock file. The default is true;
// it needs a backend that can list the directory (DirReader). Turn it off
// when flufl.lock processes on other hosts may wait for the lock for longer
// than its lifetime plus the clock slop: flufl.lock dates a waiting claim
// only once, so such a wait looks like a dead one. The rules are in
// docs/algorithm.md, "Sweeping dead claimants' files".
func WithSweep(use bool) Option { return func(c *config) { c.noSweep = !use } }

// WithFairness sets whether waiters are served in order: a Lock that finds
// the lock busy takes a ticket, a file <path>.queue.<k>, and only the
// oldest live waiter tries to take the lock, so that no waiter is passed
// over for ever by others that happen to look at the right moment. A dead
// waiter holds up those behind it for at most its lifetime plus the clock
// slop. The default is false for a Lock, true for an RWLock's and a
// Semaphore's gate; it needs a backend that can list the directory
// (DirReader). Fairness is among the Locks on the path that use it: Locks
// without it, and flufl.lock processes, do not queue (they are as safe as
// ever, but may take the lock ahead of the queue). The rules are in
// docs/algorithm.md, "Waiters served in order".
func WithFairness(fair bool) Option { return func(c *config) { c.fair = fair } }

// fillIn sets the host name and pid that no option set to this process's,
// and returns the loopback name flufl.lock processes of this host write
// instead of the host name, if any (see hostNames).
func (c *config) fillIn() (loopbackFQDN string, err error) {
	if !c.hostnameSet {
		h, err := defaultHostname()
		if err != nil {
			return "", invalidf("cannot find this host's name (use WithHostname): %v", err)
		}
		c.hostname, loopbackFQDN = h.name, h.loopbackFQDN
	}
	if !c.pidSet {
		c.pid = os.Getpid()
	}
	return loopbackFQDN, nil
}

// validate refuses options and a lock path (as given, and made absolute)
// that New cannot use, with an error wrapping ErrInvalid.
func (c *config) validate(path, abs string) error {
	if err := checkSeparator(c.separator); err != nil {
		return err
	}
	switch {
	case strings.HasSuffix(path, "/") || strings.HasSuffix(path, string(filepath.Separator)):
		return invalidf("lock path names a directory")
	case strings.Contains(abs, c.separator):
		return invalidf("lock path contains the separator %q", c.separator)
	case c.hostname == "":
		return invalidf("empty host name")
	case strings.Contains(c.hostname, c.separator):
		return invalidf("host name %q contains the separator %q", c.hostname, c.separator)
	case strings.ContainsAny(c.hostname, `/\`):
		return invalidf("host name %q contains a path separator", c.hostname)
	case c.pid <= 0:
		return invalidf("pid %d is not positive", c.pid)
	case c.lifetime <= 0:
		return invalidf("lifetime %v is not positive", c.lifetime)
	case c.timeout < 0:
		return invalidf("timeout %v is negative", c.timeout)
	case c.slop < 0:
		return invalidf("clock slop %v is negative", c.slop)
	case c.minBackoff <= 0 || c.maxBackoff < c.minBackoff:
		return invalidf("backoff bounds %v..%v: need 0 < min <= max", c.minBackoff, c.maxBackoff)
	case c.clock == nil:
		return invalidf("nil clock")
	}
	return nil
}
