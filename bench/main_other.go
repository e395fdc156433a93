//go:build !linux

// Command bench runs nfslock's workloads side by side with a floor, the
// Python flufl.lock and flock(2). It runs on Linux only: it counts system
// calls with strace and waits with inotify. See docs/performance.md.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "bench: runs on Linux only (it needs strace, inotify and Linux's system calls)")
	os.Exit(2)
}
