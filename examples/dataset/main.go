// Command dataset is a dataset in a shared directory that many jobs read
// while one job refreshes it now and then, guarded by a shared lock
// (locker.RWLock): readers read it under RDo, many at once; the writer
// rewrites it under Do, alone, once the readers inside have left and while
// new ones wait. No reader ever sees it half-written.
//
// The dataset, dataset.txt, is a version line, rows that name the version,
// and a last line with the SHA-256 of everything before it. The writer
// rewrites the file in place, a piece at a time, as a large file gets
// written: without the lock, a reader could read it half-written, and its
// checksum would not match.
//
// Run it from the repository root; a writer making 20 versions while two
// readers read 200 times each (a reader exits with status 1 if it ever
// read an inconsistent dataset):
//
//	go build -o /tmp/dataset ./examples/dataset
//	/tmp/dataset -dir /tmp/dataset-demo -role writer -n 20 &
//	/tmp/dataset -dir /tmp/dataset-demo -role reader -n 200 &
//	/tmp/dataset -dir /tmp/dataset-demo -role reader -n 200; wait
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/nfslock/nfslock"
	"github.com/nfslock/nfslock/locker"
)

func main() {
	dir := flag.String("dir", "", "the shared directory of the dataset and its lock (required)")
	role := flag.String("role", "reader", "reader or writer")
	n := flag.Int("n", 10, "how many times to read, or how many new versions to write")
	flag.Parse()
	log.SetFlags(0)
	if *dir == "" || (*role != "reader" && *role != "writer") {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	// A lifetime of 30 s, refreshed while the lock is held: a job that
	// dies holding it stops the others for that long, plus the clock slop.
	rw, err := locker.NewRWLock(filepath.Join(*dir, "dataset.lock"), nfslock.FS(), locker.WithLifetime(30*time.Second))
	if err == nil {
		err = os.MkdirAll(*dir, 0o755)
	}
	if err != nil {
		log.Fatal(err)
	}
	d := dataset{path: filepath.Join(*dir, "dataset.txt"), lock: rw}
	for i := 0; i < *n; i++ {
		var v int
		if *role == "writer" {
			v, err = d.refresh(ctx)
		} else {
			v, err = d.read(ctx)
		}
		if err != nil {
			log.Fatalf("%s: %v", *role, err)
		}
		fmt.Printf("%s: version %d\n", *role, v)
	}
}

// A dataset is the shared file and the lock that guards it.
type dataset struct {
	path string
	lock *locker.RWLock // one per goroutine: an RWLock value is one holder
}

const rows = 2000 // of a version: enough that writing one takes many writes

// read reads the dataset under the shared lock and checks it; it returns
// its version, 0 if none has been written yet.
func (d *dataset) read(ctx context.Context) (version int, err error) {
	err = d.lock.RDo(ctx, func(ctx context.Context) error {
		data, err := os.ReadFile(d.path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // none written yet
		} else if err == nil {
			version, err = check(data)
		}
		return err
	})
	return version, err
}

// refresh writes the next version under the writer's lock, and returns it.
func (d *dataset) refresh(ctx context.Context) (version int, err error) {
	err = d.lock.Do(ctx, func(ctx context.Context) error {
		data, err := os.ReadFile(d.path)
		if err == nil {
			if version, err = check(data); err != nil {
				return fmt.Errorf("the dataset before this refresh: %w", err)
			}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		version++
		return write(ctx, d.path, render(version))
	})
	return version, err
}

// render returns the contents of version v.
func render(v int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "version %d\n", v)
	for i := range rows {
		fmt.Fprintf(&b, "row %d of version %d\n", i, v)
	}
	fmt.Fprintf(&b, "sha256 %x\n", sha256.Sum256(b.Bytes()))
	return b.Bytes()
}

// check returns the version of a dataset, or an error if its checksum
// line is missing or does not match what comes before it: it was read
// half-written.
func check(data []byte) (int, error) {
	const sumPrefix = "\nsha256 "
	i := bytes.LastIndex(data, []byte(sumPrefix))
	if i < 0 || data[len(data)-1] != '\n' {
		return 0, fmt.Errorf("inconsistent dataset (%d bytes): no checksum line", len(data))
	}
	body, sum := data[:i+1], string(data[i+len(sumPrefix):len(data)-1])
	if got := fmt.Sprintf("%x", sha256.Sum256(body)); got != sum {
		return 0, fmt.Errorf("inconsistent dataset (%d bytes): checksum %.12s..., its contents %.12s...", len(data), sum, got)
	}
	var v int
	if _, err := fmt.Sscanf(string(body), "version %d\n", &v); err != nil {
		return 0, fmt.Errorf("dataset without a version line: %v", err)
	}
	return v, nil
}

// write rewrites the file at path in place, 4 KiB at a time, checking
// before each piece that the lock is still held (ctx is done once it is
// lost).
func write(ctx context.Context, path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	for len(data) > 0 && err == nil {
		if err = ctx.Err(); err == nil {
			n := min(len(data), 4096)
			_, err = f.Write(data[:n])
			data = data[n:]
		}
	}
	return errors.Join(err, f.Close())
}
