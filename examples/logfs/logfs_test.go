//go:build unix

package logfs_test

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/conformance"
	"github.com/nfslock/nfslock/examples/logfs"
	"github.com/nfslock/nfslock/locker"
)

var (
	dirFlag = flag.String("dir", "", "run the suite in fresh subdirectories of this `directory`, such as a mount of the filesystem to check, instead of temporary directories")
	logFlag = flag.Bool("log", false, "print every call of the backend to standard error")
)

// TestConformance runs the whole conformance suite on logfs over
// backend-posix: the scenarios, the state machine, the interleavings,
// fencing, and the multi-process stress tests (which re-run this test
// binary as workers).
func TestConformance(t *testing.T) {
	calls := &lineCounter{}
	var out io.Writer = calls
	if *logFlag {
		out = io.MultiWriter(calls, os.Stderr)
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	open := func() locker.FS { return logfs.New(posix.New(), logger) }

	conformance.Run(t, conformance.OnDisk("logfs over posix", open, newDir))

	if !conformance.IsWorker() {
		if calls.n() == 0 {
			t.Error("the suite made no call through logfs: it did not test this backend")
		}
		t.Logf("the suite made %d calls through logfs in this process", calls.n())
	}
}

// newDir returns a fresh directory for one test, removed after it: under
// -dir if given, else a temporary one.
func newDir(t testing.TB) string {
	if *dirFlag == "" {
		return t.TempDir()
	}
	d, err := os.MkdirTemp(*dirFlag, "logfs-conformance-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// lineCounter counts the lines written to it: one a logged call.
type lineCounter struct {
	mu    sync.Mutex
	lines int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.lines += bytes.Count(p, []byte("\n"))
	c.mu.Unlock()
	return len(p), nil
}

func (c *lineCounter) n() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lines
}
