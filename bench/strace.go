//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// syscallCounts maps a system call's name to how many times it was made.
type syscallCounts map[string]float64

// runtimeCalls are the system calls of a language runtime rather than of
// the lock: Go's scheduler and timers (futex, nanosleep, epoll_pwait,
// sched_yield), its preemption signals (getpid, tgkill, rt_sigreturn),
// memory management, threads. The table shows them apart. The contenders'
// own sleeps are among them: a waiter's nanosleep or clock_nanosleep is
// not a file operation.
var runtimeCalls = map[string]bool{
	"futex": true, "nanosleep": true, "clock_nanosleep": true, "epoll_pwait": true,
	"epoll_pwait2": true, "epoll_wait": true, "sched_yield": true, "getpid": true,
	"gettid": true, "tgkill": true, "rt_sigreturn": true, "rt_sigprocmask": true,
	"rt_sigaction": true, "sigaltstack": true, "mmap": true, "munmap": true,
	"madvise": true, "mprotect": true, "brk": true, "clone": true, "clone3": true,
	"set_robust_list": true, "rseq": true, "exit": true, "exit_group": true,
	"getrandom": true, "sched_getaffinity": true, "prlimit64": true,
	"clock_gettime": true, "gettimeofday": true, "select": true, "pselect6": true,
	"poll": true, "ppoll": true, "epoll_create1": true, "eventfd2": true,
}

// split returns the total of the lock's own calls and of the runtime's.
func (c syscallCounts) split() (own, rt float64) {
	for name, n := range c {
		if runtimeCalls[name] || strings.HasPrefix(name, "runtime:") {
			rt += n
		} else {
			own += n
		}
	}
	return own, rt
}

// sub returns c - d, per call.
func (c syscallCounts) sub(d syscallCounts) syscallCounts {
	out := syscallCounts{}
	for name, n := range c {
		out[name] = n - d[name]
	}
	for name, n := range d {
		if _, ok := c[name]; !ok {
			out[name] = -n
		}
	}
	return out
}

// scale returns c times f.
func (c syscallCounts) scale(f float64) syscallCounts {
	out := syscallCounts{}
	for name, n := range c {
		out[name] = n * f
	}
	return out
}

// String lists the calls made at least 0.05 times, most frequent first.
func (c syscallCounts) String() string {
	type kv struct {
		name string
		n    float64
	}
	var kvs []kv
	for name, n := range c {
		if n >= 0.05 || n <= -0.05 {
			kvs = append(kvs, kv{name, n})
		}
	}
	for i := range kvs {
		for j := i + 1; j < len(kvs); j++ {
			if kvs[j].n > kvs[i].n || kvs[j].n == kvs[i].n && kvs[j].name < kvs[i].name {
				kvs[i], kvs[j] = kvs[j], kvs[i]
			}
		}
	}
	var b strings.Builder
	for i, x := range kvs {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %.1f", x.name, x.n)
	}
	return b.String()
}

// parseStraceLog counts the calls in the log strace -f -y writes, one call
// a line, each after its thread's id, descriptors followed by what they
// are in angle brackets:
//
//	4242  linkat(AT_FDCWD, "/dev/shm/x|h|1|2", AT_FDCWD, "/dev/shm/x", 0) = 0
//	4243  read(7<anon_inode:[eventfd]>, "\1\0\0\0\0\0\0\0", 8) = 8
//	4242  futex(0xc000080958, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>
//	4242  <... futex resumed>)              = 0
//
// A call interrupted by another thread's is counted once, where it
// starts. Calls on the runtime's own descriptors (its poller's eventfd and
// epoll instance) and on /proc and /sys (Go reads its cgroup's CPU limit)
// are counted under the name "runtime:" + the call's name, so that split
// counts them as the runtime's.
func parseStraceLog(text string) syscallCounts {
	c := syscallCounts{}
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.IndexByte(line, ' '); i > 0 && isDigits(line[:i]) {
			line = strings.TrimSpace(line[i:])
		}
		i := strings.IndexByte(line, '(')
		if i <= 0 || strings.HasPrefix(line, "<...") || strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---") {
			continue
		}
		name, args := line[:i], line[i:]
		if strings.Contains(args, "<anon_inode:[eventfd]>") || strings.Contains(args, "<anon_inode:[eventpoll]>") ||
			strings.Contains(args, "</proc/") || strings.Contains(args, "</sys/") ||
			strings.Contains(args, "\"/proc/") || strings.Contains(args, "\"/sys/") {
			name = "runtime:" + name
		}
		c[name]++
	}
	return c
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// straced runs one worker of contender for s under strace -f -y and
// returns its system calls, all threads together. strace's log goes to
// the local scratch directory, not to a network mount under test.
func (e *env) straced(contender string, s spec) (syscallCounts, error) {
	out := filepath.Join(e.scratch, "strace.out")
	defer os.Remove(out)
	p, err := e.start(contender, s, nil, e.strace, "-f", "-y", "-qq", "-o", out)
	if err != nil {
		return nil, err
	}
	if _, err := run([]*proc{p}); err != nil {
		return nil, err
	}
	text, err := os.ReadFile(out)
	if err != nil {
		return nil, err
	}
	return parseStraceLog(string(text)), nil
}
