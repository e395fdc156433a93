//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// A worker is one process of a workload: this program started again with
// the argument "worker" and a spec in JSON, or the Python script for
// flufl.lock, which takes the same spec and answers in the same way. It
// prints "ready" once it has set up, waits for a line on its standard
// input with the start time (Unix nanoseconds), runs, and prints its
// result as one line of JSON.
type spec struct {
	Contender string `json:"contender"`
	Mode      string `json:"mode"` // cycle, contend, handoff, wait; read, write, sem (shared.go)
	Lock      string `json:"lock"`
	Counter   string `json:"counter,omitempty"`  // contend
	N         int    `json:"n,omitempty"`        // cycle: cycles; handoff: rounds
	Warm      int    `json:"warm,omitempty"`     // cycle: cycles before the timed ones
	Hold      int64  `json:"hold_ns,omitempty"`  // contend: ns the lock is held per cycle
	Span      int64  `json:"span_ns,omitempty"`  // contend: ns to run; wait: ns to wait
	First     bool   `json:"first,omitempty"`    // handoff: this process takes the lock first
	Slots     int    `json:"slots,omitempty"`    // sem: a Semaphore of this many slots; 0: an exclusive lock
	Marker    string `json:"marker,omitempty"`   // read, write, sem: the file that says who is inside
	Pause     int64  `json:"pause_ns,omitempty"` // write: ns between two writes
	Wait      int64  `json:"wait_ns,omitempty"`  // handoff: the waiter waits this long to twice this
}

type result struct {
	Cycles   int     `json:"cycles"`
	NS       int64   `json:"ns"`                 // cycle: time of the timed cycles
	Mallocs  uint64  `json:"mallocs,omitempty"`  // cycle: heap allocations in them
	Bytes    uint64  `json:"bytes,omitempty"`    // cycle: bytes allocated in them
	MaxWait  int64   `json:"max_wait_ns"`        // contend: longest time in lock()
	Quick    int     `json:"quick,omitempty"`    // contend: cycles whose lock() took less than 50 µs
	Releases []int64 `json:"releases,omitempty"` // handoff: Unix ns just before each unlock
	Acquires []int64 `json:"acquires,omitempty"` // handoff: Unix ns just after each lock
	Waits    []int64 `json:"waits,omitempty"`    // write: ns of each lock()
	Overlaps int     `json:"overlaps,omitempty"` // read, write, sem: others found inside
	Err      string  `json:"err,omitempty"`

	CPU time.Duration `json:"-"` // user and system time of the process, filled in by its parent
}

// workerMain runs a worker for the spec in arg and prints its result.
func workerMain(arg string) {
	var s spec
	var r result
	if err := json.Unmarshal([]byte(arg), &s); err != nil {
		r.Err = fmt.Sprintf("bad spec %q: %v", arg, err)
	} else if err := runWorker(s, &r); err != nil {
		r.Err = err.Error()
	}
	out, _ := json.Marshal(r)
	fmt.Printf("%s\n", out)
}

func runWorker(s spec, r *result) error {
	if s.Mode == "read" || s.Mode == "write" || s.Mode == "sem" {
		return sharedWorker(s, r)
	}
	m, err := newMutex(s.Contender, s.Lock)
	if err != nil {
		return err
	}
	ctx := context.Background()
	fmt.Println("ready")
	start, err := readStart()
	if err != nil {
		return err
	}
	time.Sleep(time.Until(start))
	switch s.Mode {
	case "cycle":
		return cycle(ctx, m, s, r)
	case "contend":
		return contend(ctx, m, s, start, r)
	case "handoff":
		return handoff(ctx, m, s, r)
	case "wait":
		ctx, cancel := context.WithTimeout(ctx, time.Duration(s.Span))
		defer cancel()
		if err := m.lock(ctx); err == nil {
			return errors.New("the waiter took a lock that was held")
		}
		return nil
	}
	return fmt.Errorf("unknown mode %q", s.Mode)
}

// readStart reads the start time from standard input.
func readStart() (time.Time, error) {
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the start time: %w", err)
	}
	ns, err := strconv.ParseInt(line[:len(line)-1], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("start time %q: %w", line, err)
	}
	return time.Unix(0, ns), nil
}

// cycle locks and unlocks s.Warm times, then s.N times timed.
func cycle(ctx context.Context, m mutex, s spec, r *result) error {
	one := func() error {
		if err := m.lock(ctx); err != nil {
			return err
		}
		return m.unlock()
	}
	for range s.Warm {
		if err := one(); err != nil {
			return err
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	for range s.N {
		if err := one(); err != nil {
			return err
		}
	}
	r.NS = time.Since(t0).Nanoseconds()
	runtime.ReadMemStats(&after)
	r.Cycles = s.N
	r.Mallocs = after.Mallocs - before.Mallocs
	r.Bytes = after.TotalAlloc - before.TotalAlloc
	return nil
}

// contend takes the lock over and over until the span is over: under the
// lock it reads the shared counter, holds the lock s.Hold, and writes the
// counter plus one. A lost update shows as a counter below the sum of the
// cycles.
func contend(ctx context.Context, m mutex, s spec, start time.Time, r *result) error {
	end := start.Add(time.Duration(s.Span))
	hold := unix.NsecToTimespec(s.Hold)
	for time.Now().Before(end) {
		t0 := time.Now()
		if err := m.lock(ctx); err != nil {
			return err
		}
		waited := time.Since(t0)
		r.MaxWait = max(r.MaxWait, waited.Nanoseconds())
		if waited < 50*time.Microsecond {
			r.Quick++
		}
		n, err := readCounter(s.Counter)
		if err == nil {
			unix.Nanosleep(&hold, nil) // a nanosleep sleeps 100 µs, a Go timer at least 1 ms
			err = writeCounter(s.Counter, n+1)
		}
		if uerr := m.unlock(); err == nil {
			err = uerr
		}
		if err != nil {
			return err
		}
		r.Cycles++
	}
	return nil
}

// The counter is a decimal number at the start of a file, opened for each
// access so that a network filesystem's client sees other clients' writes.
// It is read and written with bare system calls, as flufl_worker.py does
// with os.open, so that the package os's descriptor bookkeeping does not
// weigh on every cycle.
func readCounter(path string) (int64, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 32)
	n, err := unix.Read(fd, buf)
	if err != nil {
		return 0, &os.PathError{Op: "read", Path: path, Err: err}
	}
	return parseCounter(buf[:n])
}

func parseCounter(data []byte) (int64, error) {
	i := 0
	for i < len(data) && data[i] >= '0' && data[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("counter file holds %q, not a number", data)
	}
	return strconv.ParseInt(string(data[:i]), 10, 64)
}

func writeCounter(path string, n int64) error {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	// Fixed width, so that no shorter write leaves digits behind.
	_, werr := unix.Write(fd, fmt.Appendf(nil, "%020d\n", n))
	cerr := unix.Close(fd) // on NFS, where the write reaches the server
	if werr != nil || cerr != nil {
		return &os.PathError{Op: "write", Path: path, Err: errors.Join(werr, cerr)}
	}
	return nil
}

// handoff passes the lock back and forth with its peer, s.N times each way.
// The peer's messages come on descriptor 3 and go out on descriptor 4:
// 'w' says "I am about to wait for the lock", 'a' "I have taken it". The
// holder, told that the peer waits, keeps the lock a random s.Wait to
// 2 × s.Wait more (so that releases fall at random points of the waiter's
// polling, whose backoff has grown with the wait), notes the time and
// releases; the waiter notes the time at which its lock returned. The
// times are wall-clock, the system clock both processes read.
func handoff(ctx context.Context, m mutex, s spec, r *result) error {
	in, out := os.NewFile(3, "from-peer"), os.NewFile(4, "to-peer")
	msg := make([]byte, 1)
	send := func(b byte) error { msg[0] = b; _, err := out.Write(msg); return err }
	expect := func(want byte) error {
		if _, err := io.ReadFull(in, msg); err != nil {
			return fmt.Errorf("waiting for %q from the peer: %w", want, err)
		}
		if msg[0] != want {
			return fmt.Errorf("peer sent %q, want %q", msg[0], want)
		}
		return nil
	}
	hold := func() error {
		if err := expect('w'); err != nil {
			return err
		}
		time.Sleep(time.Duration(s.Wait) + rand.N(time.Duration(s.Wait)+1))
		r.Releases = append(r.Releases, time.Now().UnixNano())
		if err := m.unlock(); err != nil {
			return err
		}
		return expect('a')
	}
	wait := func() error {
		if err := send('w'); err != nil {
			return err
		}
		if err := m.lock(ctx); err != nil {
			return err
		}
		r.Acquires = append(r.Acquires, time.Now().UnixNano())
		return send('a')
	}
	turns := []func() error{wait, hold}
	if s.First {
		if err := m.lock(ctx); err != nil {
			return err
		}
		if err := send('a'); err != nil {
			return err
		}
		turns = []func() error{hold, wait}
	} else if err := expect('a'); err != nil {
		return err
	}
	for range s.N {
		for _, turn := range turns {
			if err := turn(); err != nil {
				return err
			}
		}
	}
	if s.First {
		return m.unlock() // it took the lock last
	}
	return nil
}
