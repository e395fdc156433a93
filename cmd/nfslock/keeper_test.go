//go:build unix

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestKeepTwiceStartsOneKeeper: nfslock keep run again for the same lock
// and pid finds the keeper that runs, and starts no second one.
func TestKeepTwiceStartsOneKeeper(t *testing.T) {
	dir, runtime := t.TempDir(), t.TempDir()
	r := bash(t, dir, `
		"$NFSLOCK" lock -l 2s lock.lock || exit
		"$NFSLOCK" keep -v -l 2s lock.lock || exit
		"$NFSLOCK" keep -v -l 2s lock.lock || exit
		"$NFSLOCK" keep --foreground -l 2s lock.lock; echo "foreground $?"
		"$NFSLOCK" unlock --pid $$ lock.lock`, "XDG_RUNTIME_DIR="+runtime)
	if r.code != 0 || !strings.Contains(r.stdout, "foreground 0") {
		t.Fatalf("lock, keep twice, keep --foreground, unlock: %v", r)
	}
	started := regexp.MustCompile(`keeping .* \(keeper pid (\d+)\)`).FindAllStringSubmatch(r.stderr, -1)
	found := regexp.MustCompile(`kept alive for pid \d+ already, by keeper pid (\d+)`).FindAllStringSubmatch(r.stderr, -1)
	if len(started) != 1 || len(found) != 2 || found[0][1] != started[0][1] || found[1][1] != started[0][1] {
		t.Fatalf("want one keeper started, and the second keep and keep --foreground to find it; got %v", r)
	}
	keeper, _ := strconv.Atoi(started[0][1])
	waitUntil(t, "the keeper to stop after unlock", 10*time.Second, func() bool { return !processAlive(keeper) })
	if left, _ := os.ReadDir(filepath.Join(runtime, "nfslock")); len(left) != 0 {
		t.Errorf("the keeper left %d files in its runtime directory", len(left))
	}
	wantFiles(t, dir)
}
