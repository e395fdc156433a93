//go:build linux || darwin || freebsd || netbsd || openbsd

// Command handoff measures how late a waiting process takes a lock that
// another process releases: the time from just before the holder calls
// Unlock to the moment the waiter's Lock returns, in a separate process.
// It is BenchmarkHandOff across two real processes.
//
//	go run ./backend-posix/bench/handoff [-dir /dev/shm] [-n 200] [-watch both]
//
// The program holds the lock itself and starts a copy of itself as the
// waiter, which it drives through pipes. In each round the waiter starts
// Lock; once it has found the lock busy, the holder keeps it a random 0–5
// ms more, so that releases fall at random points of the waiter's backoff,
// then releases it. The waiter reports the wall-clock time at which its Lock
// returned, releases the lock in turn, and the next round begins. It runs
// the rounds twice, with the waiter using the backend's directory watch
// (inotify, on Linux; -watch=true) and without it (polling alone;
// -watch=false), both with the default backoff, and prints the median, 90th
// and 99th percentiles and the maximum of each.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
)

// The waiter is this program, started with these variables set.
const (
	waiterEnv = "NFSLOCK_HANDOFF_WAITER" // the lock path
	watchEnv  = "NFSLOCK_HANDOFF_WATCH"  // "true" or "false"
)

var ctx = context.Background()

func main() {
	log.SetFlags(0)
	if path := os.Getenv(waiterEnv); path != "" {
		if err := wait(path, os.Getenv(watchEnv) == "true"); err != nil {
			log.Fatalf("waiter: %v", err)
		}
		return
	}
	dir := flag.String("dir", defaultDir(), "directory in which to make the lock file")
	n := flag.Int("n", 200, "hand-offs to measure in each mode")
	watch := flag.String("watch", "both", "whether the waiter uses the directory watch: true, false or both")
	flag.Parse()
	var modes []bool
	switch *watch {
	case "both":
		modes = []bool{true, false}
	case "true", "false":
		modes = []bool{*watch == "true"}
	default:
		log.Fatalf("-watch=%s: want true, false or both", *watch)
	}
	if *n < 1 {
		log.Fatal("-n must be at least 1")
	}
	if err := run(*dir, *n, modes); err != nil {
		log.Fatal(err)
	}
}

// defaultDir is /dev/shm, a tmpfs on Linux, if it exists, so that the
// figures are the locker's and not a disk's; otherwise os.TempDir().
func defaultDir() string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

func run(dir string, n int, modes []bool) error {
	tmp, err := os.MkdirTemp(dir, "handoff")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, "handoff.lock")

	fmt.Printf("hand-off latency: from just before the holder's Unlock to the return of Lock in another process\n")
	fmt.Printf("lock directory %s; %d rounds per row; default backoff (%v doubling to %v, jittered)\n",
		tmp, n, locker.DefaultMinBackoff, locker.DefaultMaxBackoff)
	if _, ok := any(posix.New()).(locker.Watcher); !ok {
		fmt.Println("the posix backend cannot watch a directory on this system: both rows poll")
	}
	fmt.Printf("%-13s %9s %9s %9s %9s\n", "waiter", "p50", "p90", "p99", "max")
	for _, watch := range modes {
		lat, err := measure(path, watch, n)
		if err != nil {
			return fmt.Errorf("-watch=%v: %w", watch, err)
		}
		slices.Sort(lat)
		fmt.Printf("%-13s %9v %9v %9v %9v\n", fmt.Sprintf("-watch=%v", watch),
			us(percentile(lat, 50)), us(percentile(lat, 90)), us(percentile(lat, 99)), us(lat[len(lat)-1]))
	}
	return nil
}

// us rounds d to the microsecond.
func us(d time.Duration) time.Duration { return d.Round(time.Microsecond) }

// measure starts a waiter process and times n hand-offs to it, after one
// that warms both processes up.
func measure(path string, watch bool, n int) (latencies []time.Duration, err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), waiterEnv+"="+path, watchEnv+"="+strconv.FormatBool(watch))
	cmd.Stderr = os.Stderr
	toWaiter, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	fromWaiter, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		toWaiter.Close() // the waiter's cue to exit
		if werr := cmd.Wait(); werr != nil && err == nil {
			err = fmt.Errorf("waiter: %w", werr)
		}
	}()
	lines := bufio.NewScanner(fromWaiter)
	expect := func(prefix string) (string, error) {
		if !lines.Scan() {
			return "", fmt.Errorf("waiter stopped before saying %q: %w", prefix, errors.Join(lines.Err(), io.ErrUnexpectedEOF))
		}
		rest, ok := strings.CutPrefix(lines.Text(), prefix)
		if !ok {
			return "", fmt.Errorf("waiter said %q, want %q", lines.Text(), prefix)
		}
		return rest, nil
	}

	holder, err := locker.New(path, posix.New())
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for round := range n + 1 {
		if err := holder.Lock(ctx); err != nil {
			return nil, err
		}
		if _, err := fmt.Fprintln(toWaiter, "lock"); err != nil {
			return nil, err
		}
		if _, err := expect("busy"); err != nil {
			return nil, err
		}
		time.Sleep(time.Duration(rng.Int64N(int64(5 * time.Millisecond))))
		start := time.Now()
		if err := holder.Unlock(); err != nil {
			return nil, err
		}
		at, err := expect("acquired ")
		if err != nil {
			return nil, err
		}
		ns, err := strconv.ParseInt(at, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("waiter's time %q: %w", at, err)
		}
		// The processes share no monotonic clock, so this is wall-clock
		// time, the same system clock read in both.
		if round > 0 {
			latencies = append(latencies, time.Unix(0, ns).Sub(start))
		}
	}
	return latencies, nil
}

// wait is the waiter: for each line on its standard input it takes the
// lock, says "busy" when its first attempt finds it held, and once Lock
// returns releases it and says "acquired" and when Lock returned, in
// nanoseconds since 1970.
func wait(path string, watch bool) error {
	fsys := &busyFS{FS: posix.New()}
	l, err := locker.New(path, fsys, locker.WithWatcher(watch))
	if err != nil {
		return err
	}
	cmds := bufio.NewScanner(os.Stdin)
	for cmds.Scan() {
		fsys.said = false
		if err := l.Lock(ctx); err != nil {
			return err
		}
		at := time.Now().UnixNano()
		if err := l.Unlock(); err != nil {
			return err
		}
		if _, err := fmt.Printf("acquired %d\n", at); err != nil {
			return err
		}
	}
	return cmds.Err()
}

// busyFS is the posix backend, saying "busy" on standard output the first
// time a Link fails after said is reset. Embedding *posix.FS keeps its
// Watch method, where it has one.
type busyFS struct {
	*posix.FS
	said bool
}

func (f *busyFS) Link(oldname, newname string) error {
	err := f.FS.Link(oldname, newname)
	if err != nil && !f.said {
		f.said = true
		fmt.Println("busy")
	}
	return err
}

// percentile returns the p-th percentile of the sorted durations d, by the
// nearest-rank method.
func percentile(d []time.Duration, p int) time.Duration {
	rank := (len(d)*p + 99) / 100 // ceil(len(d) * p / 100)
	return d[max(rank, 1)-1]
}
