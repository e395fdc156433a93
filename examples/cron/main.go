// Command cron is a cron-style job guarded by a lock on a shared directory:
// run it from cron on every host, and at most one run works at a time.
//
// It takes the lock with nfslock.Do, which keeps the lock alive while the
// job works and releases it however the job ends. If another run holds the
// lock, this one skips its turn (exit status 0). If the lock is lost while
// the job works (the process was paused for longer than the lock's lifetime
// plus the slop, and another run broke the lock), the job stops before its
// next write and exits with status 75 (EX_TEMPFAIL), so that the next run
// starts over.
//
// Run it from the repository root; twice at once, the second run skips its
// turn (the job takes 2.5 s, and a run waits at most 1 s for the lock):
//
//	go build -o /tmp/cron ./examples/cron
//	/tmp/cron -dir /tmp/cron-demo & /tmp/cron -dir /tmp/cron-demo
//
// In a crontab, every host sharing /shared/jobs:
//
//	*/5 * * * * /usr/local/bin/cron -dir /shared/jobs
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/nfslock/nfslock"
	"github.com/nfslock/nfslock/locker"
)

// Exit statuses.
const (
	exitOK       = 0
	exitFailed   = 1
	exitLockLost = 75 // EX_TEMPFAIL: the lock was lost; the next run starts over
)

func main() {
	dir := flag.String("dir", "", "the shared directory of the job's lock and output (default: a fresh temporary directory)")
	steps := flag.Int("steps", 5, "how many steps the job works")
	step := flag.Duration("step", 500*time.Millisecond, "how long each step takes")
	flag.Parse()
	log.SetFlags(0)

	if *dir == "" {
		d, err := os.MkdirTemp("", "nfslock-cron-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		*dir = d
	} else if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	j := &job{
		out:   filepath.Join(*dir, "report.txt"),
		steps: *steps,
		step: func(ctx context.Context, i int) error {
			return locker.RealClock{}.Sleep(ctx, *step) // stands for the step's real work
		},
		log: os.Stdout,
	}
	code := run(ctx, j, func(ctx context.Context, work func(context.Context) error) error {
		return nfslock.Do(ctx, filepath.Join(*dir, "job.lock"), work,
			locker.WithLifetime(30*time.Second), // refreshed every 10 s while the job works
			locker.WithTimeout(time.Second))     // another run holds it: skip this turn
	})
	stop()
	os.Exit(code)
}

// A job works a number of steps, each writing a line to its output file.
type job struct {
	out   string                                 // the file it writes, in the shared directory
	steps int                                    // how many steps
	step  func(ctx context.Context, i int) error // the work of step i, before its line is written
	log   io.Writer                              // where it says what it does
}

// work is the job: it runs under the lock, and stops as soon as ctx is
// done, which it is when the lock is lost.
func (j *job) work(ctx context.Context) error {
	f, err := os.OpenFile(j.out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for i := 1; i <= j.steps; i++ {
		if err := j.step(ctx, i); err != nil {
			return err
		}
		// Check the lock just before each write: a write after the lock
		// was lost could interleave with the next holder's.
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, err := fmt.Fprintf(f, "pid %d: step %d of %d\n", os.Getpid(), i, j.steps); err != nil {
			return err
		}
		fmt.Fprintf(j.log, "step %d of %d done\n", i, j.steps)
	}
	return nil
}

// run runs j under the lock that do takes (nfslock.Do, or in tests a
// locker.Lock's Do on the in-memory backend), and returns the exit status.
func run(ctx context.Context, j *job, do func(context.Context, func(context.Context) error) error) int {
	err := do(ctx, j.work)
	switch {
	case err == nil:
		fmt.Fprintln(j.log, "job done")
		return exitOK
	case errors.Is(err, locker.ErrTimeout):
		// The error names the holder: host and pid.
		fmt.Fprintf(j.log, "another run holds the lock; skipping this turn: %v\n", err)
		return exitOK
	case errors.Is(err, locker.ErrLost):
		fmt.Fprintf(j.log, "lock lost; stopped before the next write: %v\n", err)
		return exitLockLost
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(j.log, "interrupted; lock released")
		return exitFailed
	default:
		fmt.Fprintf(j.log, "job failed: %v\n", err)
		return exitFailed
	}
}
