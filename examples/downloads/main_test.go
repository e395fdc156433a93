package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nfslock/nfslock"
	"github.com/nfslock/nfslock/locker"
)

// Ten jobs start at once, each with its own Semaphore and board, as
// processes of their own would have. Each download waits until as many
// jobs as there are slots are downloading, so that the slots fill up
// without a sleep: the board must then say that exactly that many were
// ever at work at once, and that none is at work at the end.
func TestAtMostSlotsJobsDownloadAtOnce(t *testing.T) {
	const jobs = 10
	for _, slots := range []int{1, 4} {
		t.Run(fmt.Sprintf("slots=%d", slots), func(t *testing.T) {
			dir := t.TempDir()
			var (
				downloading atomic.Int32
				full        = make(chan struct{})
				fullOnce    sync.Once
				wg          sync.WaitGroup
			)
			download := func(ctx context.Context) error {
				defer downloading.Add(-1)
				switch n := downloading.Add(1); {
				case int(n) > slots:
					t.Errorf("%d jobs download at once, want at most %d", n, slots)
				case int(n) == slots:
					fullOnce.Do(func() { close(full) })
				}
				select {
				case <-full:
					return nil
				case <-time.After(time.Minute):
					return fmt.Errorf("the %d slots were not all held at once within a minute", slots)
				}
			}
			for i := range jobs {
				sem, err := locker.NewSemaphore(filepath.Join(dir, "downloads.lock"), slots, nfslock.FS())
				if err != nil {
					t.Fatal(err)
				}
				b, err := newBoard(dir)
				if err != nil {
					t.Fatal(err)
				}
				wg.Go(func() {
					if err := job(context.Background(), sem, b, fmt.Sprintf("job %d", i), io.Discard, download); err != nil {
						t.Errorf("job %d: %v", i, err)
					}
				})
			}
			wg.Wait()
			b, err := newBoard(dir)
			if err != nil {
				t.Fatal(err)
			}
			working, most, err := b.read()
			if err != nil {
				t.Fatal(err)
			}
			if most != slots || len(working) != 0 {
				t.Errorf("the board says %d at most at work at once, and %q at work now; want %d, and none", most, working, slots)
			}
		})
	}
}
