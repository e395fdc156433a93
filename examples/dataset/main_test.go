package main

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"github.com/nfslock/nfslock"
	"github.com/nfslock/nfslock/locker"
)

// open returns the dataset in dir as a new job sees it: with its own
// RWLock, as a process of its own would have.
func open(t *testing.T, dir string) *dataset {
	t.Helper()
	rw, err := locker.NewRWLock(filepath.Join(dir, "dataset.lock"), nfslock.FS())
	if err != nil {
		t.Fatal(err)
	}
	return &dataset{path: filepath.Join(dir, "dataset.txt"), lock: rw}
}

// Four readers read the dataset over and over while a writer writes ten
// versions: no reader may read a half-written one, nor a version older
// than one it read before.
func TestReadersNeverSeeAHalfWrittenDataset(t *testing.T) {
	const readers, reads, versions = 4, 40, 10
	dir := t.TempDir()
	ctx := context.Background()
	var wg sync.WaitGroup
	for r := range readers {
		d := open(t, dir)
		wg.Go(func() {
			last := 0
			for i := range reads {
				v, err := d.read(ctx)
				if err != nil {
					t.Errorf("reader %d, read %d: %v", r, i, err)
					return
				}
				if v < last {
					t.Errorf("reader %d, read %d: version %d after version %d", r, i, v, last)
				}
				last = v
			}
		})
	}
	w := open(t, dir)
	wg.Go(func() {
		for i := range versions {
			v, err := w.refresh(ctx)
			if err != nil {
				t.Errorf("writer, refresh %d: %v", i, err)
				return
			}
			if v != i+1 {
				t.Errorf("writer, refresh %d wrote version %d, want %d", i, v, i+1)
			}
		}
	})
	wg.Wait()
	if v, err := open(t, dir).read(ctx); err != nil || v != versions {
		t.Errorf("after the writer: version %d, %v; want version %d, nil", v, err, versions)
	}
}

// check must tell a half-written dataset, or one of two versions mixed,
// from a whole one: otherwise the test above could not fail.
func TestCheckFindsHalfWrittenDatasets(t *testing.T) {
	whole := render(7)
	if v, err := check(whole); v != 7 || err != nil {
		t.Fatalf("check(render(7)) = %d, %v; want 7, nil", v, err)
	}
	for n := 0; n < len(whole); n += 997 {
		if v, err := check(whole[:n]); err == nil {
			t.Errorf("check of the first %d of %d bytes = version %d, nil; want an error", n, len(whole), v)
		}
	}
	mixed := append(render(8)[:len(whole)/2], whole[len(whole)/2:]...)
	if v, err := check(mixed); err == nil {
		t.Errorf("check of version 8's first half and version 7's second = version %d, nil; want an error", v)
	}
}
