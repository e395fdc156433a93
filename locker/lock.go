package locker

import (
	"errors"
	"io/fs"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// A Lock is one claimant of a lock file: a process (or a goroutine, or a
// simulated host in a test) that wants exclusive use of whatever the lock
// file guards. Each Lock has its own claim file, named once in New; two
// Lock values for the same path exclude each other even in one process.
//
// A Lock's methods may be called from several goroutines, but a Lock is one
// claimant, not a mutex between those goroutines: to make goroutines exclude
// each other, give each its own Lock.
type Lock struct {
	fsys  FS
	path  string // the lock file, absolute
	dir   string // its directory
	base  string // its base name
	claim string // the claim file; also its contents
	aside string // where this Lock moves a file it is about to remove
	// The break lock, which breakers take in turn (see break.go).
	breakPath  string
	breakBase  string
	breakClaim string
	// inBreak is set while this Lock runs an operation under the break
	// lock (see withBreakLock): its moves aside then first check that the
	// break lock is still its own.
	inBreak  atomic.Bool
	sep      string
	hostname string
	// loopbackFQDN is the loopback name flufl.lock processes of this host
	// write into their claims, when hostname is not it (see hostNames).
	loopbackFQDN string
	pid          int
	clock        Clock
	slop         time.Duration
	timeout      time.Duration
	minWait      time.Duration
	maxWait      time.Duration
	retry        []error
	log          *slog.Logger
	noWatch      bool
	noSweep      bool
	fencePath    string // the counter of fencing tokens, or "" (see fence.go)
	fair         bool   // waiters queue (see fair.go)

	mu         sync.Mutex
	lifetime   time.Duration
	held       bool       // this Lock took the lock and has not released it
	expiry     time.Time  // the expiry this Lock last gave its lock
	datedAt    time.Time  // when, by l.clock, it last dated its claim file
	keepAlive  *KeepAlive // refreshing in the background, or nil
	watch      *dirWatch  // the directory watch kept between waits, or nil (see wait.go)
	busyAt     time.Time  // when this Lock last found the lock held by another
	streak     int        // acquisitions in a row that did not find the lock busy
	releasedAt time.Time  // when this Lock last released the lock
	// The file server's clock (see skew.go).
	serverTime bool          // write and judge lock times in the server's frame
	offset     time.Duration // server clock minus ours
	measuredAt time.Time     // when offset was last estimated
	// gran is the filesystem's timestamp granularity as last measured
	// (whole seconds on sshfs; zero where finer, or not yet measured).
	gran       time.Duration
	warnedGran bool
	linksKnown bool // noLinks has been decided
	noLinks    bool // the filesystem does not report link counts

	// When this Lock last looked for dead claimants' files (see sweep.go).
	lastSweep time.Time
	token     uint64 // the fencing token of the latest acquisition (see fence.go)
}

// New returns a Lock for the lock file at path, using fsys for every file
// operation. It does not touch the lock; it only checks its arguments and
// that path is not a directory. A relative path is made absolute, so that
// the claim name written into the lock file names the same file from any
// working directory.
//
// New refuses bad input with an *Error wrapping ErrInvalid: an empty path, a
// path that is a directory or contains the separator, a separator that is a
// letter, digit, space or path separator, a non-positive lifetime or pid, a
// negative timeout or clock slop, and so on. A missing or unwritable
// directory is reported by the first attempt to take the lock.
func New(path string, fsys FS, opts ...Option) (*Lock, error) {
	c := config{
		lifetime:   DefaultLifetime,
		separator:  DefaultSeparator,
		clock:      RealClock{},
		slop:       DefaultClockSlop,
		minBackoff: DefaultMinBackoff,
		maxBackoff: DefaultMaxBackoff,
	}
	for _, o := range opts {
		o(&c)
	}
	fail := func(err error) (*Lock, error) {
		return nil, &Error{Op: "new", Path: path, Err: err}
	}
	if fsys == nil {
		return fail(invalidf("no filesystem backend"))
	}
	if path == "" {
		return fail(invalidf("empty lock path"))
	}
	loopbackFQDN, err := c.fillIn()
	if err != nil {
		return fail(err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return fail(invalidf("cannot make the path absolute: %v", err))
	}
	if err := c.validate(path, abs); err != nil {
		return fail(err)
	}
	if _, ok := fsys.(DirReader); c.fair && !ok {
		return fail(invalidf("WithFairness needs a backend that can list directories (DirReader)"))
	}
	if fi, err := fsys.Stat(abs); err == nil && fi.IsDir {
		return fail(invalidf("lock path is a directory"))
	}
	logger := c.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	random := rand.Int64N(math.MaxInt64)
	claim := claimName(abs, c.separator, c.hostname, c.pid, random)
	breakPath := abs + ".break"
	if n := len(claimName(breakPath, c.separator, c.hostname, c.pid, math.MaxInt64)); n > MaxClaimLen {
		return fail(invalidf("lock path too long: its claim names would be %d bytes, more than MaxClaimLen", n))
	}
	return &Lock{
		fsys:         fsys,
		path:         abs,
		dir:          filepath.Dir(abs),
		base:         filepath.Base(abs),
		claim:        claim,
		aside:        claim + ".moved",
		breakPath:    breakPath,
		breakBase:    filepath.Base(breakPath),
		breakClaim:   claimName(breakPath, c.separator, c.hostname, c.pid, random),
		sep:          c.separator,
		hostname:     c.hostname,
		loopbackFQDN: loopbackFQDN,
		pid:          c.pid,
		clock:        c.clock,
		slop:         c.slop,
		timeout:      c.timeout,
		minWait:      c.minBackoff,
		maxWait:      c.maxBackoff,
		retry:        c.retryErrs,
		noWatch:      c.noWatch,
		noSweep:      c.noSweep,
		fencePath:    fenceFile(abs, c.fencing),
		fair:         c.fair,
		serverTime:   !c.localTime,
		log:          logger.With("lock", abs),
		lifetime:     c.lifetime,
	}, nil
}

func checkSeparator(sep string) error {
	r, n := utf8.DecodeRuneInString(sep)
	switch {
	case n == 0 || n != len(sep):
		return invalidf("separator %q must be a single character", sep)
	case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || unicode.IsControl(r):
		return invalidf("separator %q must not be a letter, digit, space or control character", sep)
	case r == '/' || r == '\\' || r == '.' || r == '-':
		return invalidf("separator %q would be ambiguous in a file name", sep)
	}
	return nil
}

// LockFile returns the absolute path of the lock file.
func (l *Lock) LockFile() string { return l.path }

// ClaimFile returns the path of this Lock's claim file. It is fixed for the
// life of the Lock.
func (l *Lock) ClaimFile() string { return l.claim }

// Hostname returns the host name this Lock writes into its claim.
func (l *Lock) Hostname() string { return l.hostname }

// PID returns the process id this Lock writes into its claim.
func (l *Lock) PID() int { return l.pid }

// Lifetime returns how long the lock stays valid after each acquisition or
// refresh.
func (l *Lock) Lifetime() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lifetime
}

func (l *Lock) setHeld(v bool) {
	l.mu.Lock()
	l.held = v
	l.mu.Unlock()
}

func (l *Lock) isHeld() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held
}

// touch sets name's times to now plus the lifetime: on the claim file of a
// held lock this moves the lock's expiry.
func (l *Lock) touch(name string) error {
	now := l.clock.Now()
	l.mu.Lock()
	t := now.Add(l.offset).Add(l.lifetime) // in the server's frame (see skew.go)
	l.mu.Unlock()
	// Tried again if it fails for a moment: FUSE fails with EIO a call on
	// a name whose file was just replaced by one of another type.
	if err := l.retryErr(func(int) error { return l.fsys.Chtimes(name, t, t) }); err != nil {
		return err
	}
	if name == l.claim {
		l.mu.Lock()
		l.expiry = t
		l.datedAt = now
		l.mu.Unlock()
	}
	return nil
}

// mayBeBroken reports whether, by this Lock's clock, its lock has expired,
// so that a breaker may be at work on it: changing or removing the lock file
// must then be done under the break lock.
func (l *Lock) mayBeBroken() bool {
	now := l.serverNow()
	l.mu.Lock()
	defer l.mu.Unlock()
	return !now.Before(l.keptExpiry())
}

// keptExpiry is the expiry this Lock last gave its lock as the filesystem
// keeps it, and so as a breaker reads it: where file times are whole
// seconds, up to a second before the one written. Judged by the one
// written, a holder could start a refresh outside the break lock while
// breakers already count the slop from the one kept, and so lose up to a
// second of its slop. Called with l.mu held.
func (l *Lock) keptExpiry() time.Time {
	if l.gran > 0 {
		return l.expiry.Truncate(l.gran)
	}
	return l.expiry
}

// removeIfExists removes name, treating "already gone" as success. A
// transient error (ESTALE) is retried (see retry.go): given up at once, it
// would leave the file behind.
func (l *Lock) removeIfExists(name string) error {
	return l.retryErr(func(int) error {
		if err := l.fsys.Remove(name); !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	})
}

// removeOwn removes name, a file this Lock holds (its lock file, its break
// lock), which no one else removes or replaces while it is ours. A removal
// that fails for a moment (ESTALE) may have been done, its reply lost, and
// the free name taken since by another: so it is tried again only while
// stillOurs, a fresh look, says the file at name is still ours; once it is
// not, the removal was done, and removeOwn returns nil. "Already gone" is
// returned as fs.ErrNotExist: the caller decides what it means.
func (l *Lock) removeOwn(name string, stillOurs func() (bool, error)) error {
	var err error
	retry(func(try int) bool {
		if try > 0 {
			var ours bool
			if ours, err = stillOurs(); err != nil || !ours {
				return err == nil || !l.retryable(err) // not ours: the removal was done
			}
		}
		err = l.fsys.Remove(name)
		return err == nil || errors.Is(err, fs.ErrNotExist) || !l.retryable(err)
	})
	return err
}
