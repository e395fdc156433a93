package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/nfslock/nfslock/locker"
	"golang.org/x/term"
)

// signalled is the cause of a wait that a signal ended.
type signalled struct{ sig os.Signal }

func (s signalled) Error() string { return "interrupted by " + s.sig.String() }

// signalStatus is the exit status of a process that a signal ended.
func signalStatus(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 128 + int(syscall.SIGTERM)
}

// acquire takes h as the options say: one attempt with -n (or -w 0),
// otherwise waiting, for at most -w, until a signal arrives on sigs. With
// -v it shows who holds the lock while it waits. It reports whether the
// lock is held, and if not the exit status, after saying why.
func (e *env) acquire(h *holding, o *options, sigs <-chan os.Signal) (bool, int) {
	l := h.gate
	start := time.Now()
	var err error
	if o.nonblock {
		err = h.try()
	} else {
		ctx, cancel := context.WithCancelCause(context.Background())
		defer cancel(nil)
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case s := <-sigs:
					if waitGoesOn(s) {
						continue
					}
					cancel(signalled{s})
				case <-done:
				}
				return
			}
		}()
		if o.verbose {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e.showWait(h, done)
			}()
		}
		err = h.lock(ctx)
		close(done)
		wg.Wait()
		var sig signalled
		if errors.As(context.Cause(ctx), &sig) {
			if err == nil {
				h.release()
			}
			if !o.quiet {
				e.say("stopped waiting for %s: %v", h.name(), sig)
			}
			return false, signalStatus(sig.sig)
		}
	}
	if err == nil {
		if o.verbose {
			e.say("took %s in %s", h.name(), human(time.Since(start)))
		}
		return true, exitOK
	}
	code := e.code(err, o.conflict)
	var le *locker.Error
	switch {
	case errors.Is(err, locker.ErrBusy) && errors.As(err, &le) && le.Holder != nil:
		switch {
		case !o.sayBusy():
		case o.mode() == modeSemaphore:
			e.say("every slot of %s is held, and %s waits for one", l.LockFile(), holderText(*le.Holder, l.ClockOffset(), o.slop))
		default:
			e.say("%s is held by %s", l.LockFile(), holderText(*le.Holder, l.ClockOffset(), o.slop))
		}
	case errors.Is(err, locker.ErrTimeout) && errors.As(err, &le):
		if o.sayBusy() {
			who := "someone else"
			if le.Holder != nil {
				who = holderText(*le.Holder, l.ClockOffset(), o.slop)
			}
			e.say("timed out after %v waiting for %s, held by %s", o.timeout, h.name(), who)
		}
	case code == o.conflict && o.sayBusy(), code != o.conflict:
		e.fail(code, "cannot take the lock "+h.name(), err)
	}
	return false, code
}

// holderText describes the holder of a lock: host, pid and when the lock
// expires, in the file server's clock (offset is the server's minus ours).
func holderText(d locker.Details, offset, slop time.Duration) string {
	left := d.Expires.Sub(time.Now().Add(offset))
	s := fmt.Sprintf("host %s pid %d, ", d.Hostname, d.PID)
	switch {
	case left >= 0:
		s += "expires in " + human(left)
	case left+slop >= 0:
		s += fmt.Sprintf("expired %s ago, breakable in %s", human(-left), human(left+slop))
	default:
		s += fmt.Sprintf("expired %s ago, breakable", human(-left))
	}
	return s
}

// showWait shows what h waits for while it is being taken, until done is
// closed: on a terminal one line updated in place, elsewhere a line when
// the wait begins, when the holders change, and every ten seconds.
func (e *env) showWait(h *holding, done <-chan struct{}) {
	tty := e.stderrFile != nil && term.IsTerminal(int(e.stderrFile.Fd()))
	every := 10 * time.Second
	if tty {
		every = 250 * time.Millisecond
	}
	// An uncontended lock is taken at once: say nothing then.
	first := time.NewTimer(100 * time.Millisecond)
	defer first.Stop()
	select {
	case <-done:
		return
	case <-first.C:
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var lastHolder string
	var lastShown time.Time
	shown := false
	for {
		holder, what := h.waitingFor()
		line := "waiting for " + h.name() + ": " + what
		switch {
		case tty:
			fmt.Fprintf(e.stderr, "\r\x1b[K%s", line)
			shown = true
		case holder != lastHolder || time.Since(lastShown) >= every:
			e.say("%s", line)
			lastShown = time.Now()
		}
		lastHolder = holder
		select {
		case <-done:
			if shown {
				fmt.Fprint(e.stderr, "\r\x1b[K")
			}
			return
		case <-tick.C:
		}
	}
}
