//go:build linux || darwin || freebsd || netbsd || openbsd

package posix_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
)

// BenchmarkHandOff measures how late a waiting Lock takes a released lock:
// the time from just before the holder calls Unlock to the moment the
// waiter's Lock returns. Watcher lets the waiter use the backend's
// directory watch (inotify, on Linux); Polling makes it rely on its backoff
// alone (1 ms doubling to 100 ms, jittered). Both use the default backoff.
//
// Each iteration is one hand-off between two Locks of this process: the
// holder takes the lock, a waiter starts Lock, and once the waiter has found
// the lock busy the holder keeps it a random 0–5 ms more, so that releases
// fall at random points of the waiter's backoff. ns/op is the mean hand-off
// latency; p50-ns and p99-ns are its median and 99th percentile.
//
// The lock lives in /dev/shm, a tmpfs, where there is one, so that the
// figures are the locker's and not a disk's; the benchmark logs where.
func BenchmarkHandOff(b *testing.B) {
	b.Run("Watcher", func(b *testing.B) { benchHandOff(b, true) })
	b.Run("Polling", func(b *testing.B) { benchHandOff(b, false) })
}

// benchDir returns a new directory under /dev/shm if that exists, or
// b.TempDir() otherwise, and logs which.
func benchDir(b *testing.B) string {
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir, err := os.MkdirTemp("/dev/shm", "nfslock-bench")
		if err == nil {
			b.Cleanup(func() { os.RemoveAll(dir) })
			b.Logf("lock directory %s (/dev/shm)", dir)
			return dir
		}
		b.Logf("cannot use /dev/shm: %v", err)
	}
	dir := b.TempDir()
	b.Logf("lock directory %s (b.TempDir(); no usable /dev/shm)", dir)
	return dir
}

// busyFS is the posix backend, saying on busy when a Link fails: the Lock
// using it has found the lock held and is about to wait. Embedding *posix.FS
// keeps its Watch method, where it has one.
type busyFS struct {
	*posix.FS
	busy chan struct{}
}

func (f *busyFS) Link(oldname, newname string) error {
	err := f.FS.Link(oldname, newname)
	if err != nil {
		select {
		case f.busy <- struct{}{}:
		default:
		}
	}
	return err
}

type acquisition struct {
	at  time.Time
	err error
}

func benchHandOff(b *testing.B, watch bool) {
	fsys := &busyFS{FS: posix.New(), busy: make(chan struct{}, 1)}
	if _, ok := any(fsys).(locker.Watcher); watch && !ok {
		b.Skip("the posix backend cannot watch a directory on this system")
	}
	path := filepath.Join(benchDir(b), "handoff.lock")
	holder, err := locker.New(path, posix.New())
	if err != nil {
		b.Fatal(err)
	}
	waiter, err := locker.New(path, fsys, locker.WithWatcher(watch))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	acquired := make(chan acquisition, 1)
	var latencies []time.Duration
	for b.Loop() {
		if err := holder.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		select {
		case <-fsys.busy: // left over from the previous round
		default:
		}
		go func() {
			err := waiter.Lock(ctx)
			acquired <- acquisition{time.Now(), err}
		}()
		<-fsys.busy
		time.Sleep(time.Duration(rng.Int64N(int64(5 * time.Millisecond))))
		start := time.Now()
		if err := holder.Unlock(); err != nil {
			b.Fatal(err)
		}
		a := <-acquired
		if a.err != nil {
			b.Fatal(a.err)
		}
		latencies = append(latencies, a.at.Sub(start))
		if err := waiter.Unlock(); err != nil {
			b.Fatal(err)
		}
	}
	slices.Sort(latencies)
	var sum time.Duration
	for _, d := range latencies {
		sum += d
	}
	b.ReportMetric(float64(sum.Nanoseconds())/float64(len(latencies)), "ns/op")
	b.ReportMetric(float64(percentile(latencies, 50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(percentile(latencies, 99).Nanoseconds()), "p99-ns")
}

// percentile returns the p-th percentile of the sorted durations d, by the
// nearest-rank method.
func percentile(d []time.Duration, p int) time.Duration {
	rank := (len(d)*p + 99) / 100 // ceil(len(d) * p / 100)
	return d[max(rank, 1)-1]
}
