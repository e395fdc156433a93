// Command downloads is a job that downloads, of which at most 4 (-slots)
// download at once across all the hosts sharing a directory: the job takes
// a slot of a semaphore (locker.Semaphore) before it downloads, and lets it
// go after. Jobs that find every slot held wait, and are served in about
// the order they came.
//
// While it downloads, a job notes itself on a board in the shared
// directory, board.txt: a line per job at work, and a line with the most
// jobs that were ever at work at once. Jobs on several hosts change the
// board, so it is changed under an exclusive lock of its own, board.lock.
//
// Run it from the repository root; ten jobs at once, of which four
// download at a time (each for 2 s), then the board:
//
//	go build -o /tmp/downloads ./examples/downloads
//	for i in $(seq 10); do /tmp/downloads -dir /tmp/downloads-demo & done; wait
//	cat /tmp/downloads-demo/board.txt
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/nfslock/nfslock"
	"github.com/nfslock/nfslock/locker"
)

func main() {
	dir := flag.String("dir", "", "the shared directory of the semaphore and the board (required)")
	slots := flag.Int("slots", 4, "how many jobs may download at once (the same for every job)")
	took := flag.Duration("for", 2*time.Second, "how long the download takes")
	flag.Parse()
	log.SetFlags(0)
	if *dir == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// Each slot is a lock with a lifetime of 30 s, kept alive while the
	// job holds it: a job that dies frees its slot after that long, plus
	// the clock slop.
	sem, err := locker.NewSemaphore(filepath.Join(*dir, "downloads.lock"), *slots, nfslock.FS(), locker.WithLifetime(30*time.Second))
	if err != nil {
		log.Fatal(err)
	}
	host, _ := os.Hostname()
	who := fmt.Sprintf("%s:%d", host, os.Getpid())
	b, err := newBoard(*dir)
	if err != nil {
		log.Fatal(err)
	}
	err = job(ctx, sem, b, who, os.Stdout, func(ctx context.Context) error {
		return locker.RealClock{}.Sleep(ctx, *took) // stands for the download
	})
	if err != nil {
		log.Fatalf("%s: %v", who, err)
	}
}

// job waits for a slot, and downloads while it holds it, noted on the
// board as who; it says what it does on out.
func job(ctx context.Context, sem *locker.Semaphore, b *board, who string, out io.Writer, download func(context.Context) error) error {
	return sem.Do(ctx, func(ctx context.Context, slot locker.Slot) (err error) {
		name := fmt.Sprintf("%s in slot %d", who, slot.Index)
		working, err := b.change(ctx, func(working []string) []string { return append(working, name) })
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: downloading, %d at work\n", name, working)
		defer func() {
			// Off the board even if the slot was lost (ctx is done then).
			_, berr := b.change(context.WithoutCancel(ctx), func(working []string) []string {
				return slices.DeleteFunc(working, func(w string) bool { return w == name })
			})
			err = errors.Join(err, berr)
		}()
		return download(ctx)
	})
}

// A board is the file on which jobs note that they work, and the lock
// under which they change it.
type board struct {
	path string
	lock *locker.Lock
}

// newBoard returns the board in dir, for one job: a Lock value is one
// holder.
func newBoard(dir string) (*board, error) {
	l, err := nfslock.New(filepath.Join(dir, "board.lock"))
	if err != nil {
		return nil, err
	}
	return &board{path: filepath.Join(dir, "board.txt"), lock: l}, nil
}

// change replaces the jobs at work by edit's, under the board's lock, and
// raises the most at work at once if need be. It returns how many are at
// work now.
func (b *board) change(ctx context.Context, edit func(working []string) []string) (n int, err error) {
	err = b.lock.Do(ctx, func(ctx context.Context) error {
		working, most, err := b.read()
		if err != nil {
			return err
		}
		working = edit(working)
		n, most = len(working), max(most, len(working))
		var s strings.Builder
		fmt.Fprintf(&s, "most at work at once: %d\n", most)
		for _, w := range working {
			fmt.Fprintf(&s, "at work: %s\n", w)
		}
		return os.WriteFile(b.path, []byte(s.String()), 0o644)
	})
	return n, err
}

// read returns the jobs at work and the most that were at work at once.
func (b *board) read() (working []string, most int, err error) {
	data, err := os.ReadFile(b.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, err
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if w, ok := strings.CutPrefix(line, "at work: "); ok {
			working = append(working, w)
		} else if _, err := fmt.Sscanf(line, "most at work at once: %d", &most); err != nil {
			return nil, 0, fmt.Errorf("%s: line %q: %v", b.path, line, err)
		}
	}
	return working, most, nil
}
