//go:build linux || darwin || freebsd || netbsd || openbsd

package posix_test

import (
	"path/filepath"
	"testing"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/locker"
)

// BenchmarkWatch measures starting and stopping one directory watch.
func BenchmarkWatch(b *testing.B) {
	w, ok := any(posix.New()).(locker.Watcher)
	if !ok {
		b.Skip("the posix backend cannot watch a directory on this system")
	}
	dir := benchDir(b)
	for b.Loop() {
		_, stop, err := w.Watch(dir)
		if err != nil {
			b.Fatal(err)
		}
		if err := stop(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLockUncontended measures Lock and Unlock of a free lock, with
// and without the directory watch, which Lock starts before its first
// attempt and stops before it returns, whether it waited or not.
func BenchmarkLockUncontended(b *testing.B) {
	for _, watch := range []bool{true, false} {
		name := map[bool]string{true: "Watcher", false: "Polling"}[watch]
		b.Run(name, func(b *testing.B) {
			if _, ok := any(posix.New()).(locker.Watcher); watch && !ok {
				b.Skip("the posix backend cannot watch a directory on this system")
			}
			l, err := locker.New(filepath.Join(benchDir(b), "x.lock"), posix.New(), locker.WithWatcher(watch))
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := l.Lock(ctx); err != nil {
					b.Fatal(err)
				}
				if err := l.Unlock(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
