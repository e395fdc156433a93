//go:build unix

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestScriptLockTouchUnlock: a bash script takes the lock in its own name,
// refreshes it and releases it in separate runs of nfslock.
func TestScriptLockTouchUnlock(t *testing.T) {
	dir := t.TempDir()
	r := bash(t, dir, `set -e
		"$NFSLOCK" lock lock.lock
		echo "shell=$$"
		echo "contents=$(cat lock.lock)"
		"$NFSLOCK" status lock.lock && exit 90 || echo "status=$?"
		if "$NFSLOCK" lock -n lock.lock; then exit 91; fi
		"$NFSLOCK" touch -l 60 lock.lock
		"$NFSLOCK" status --json lock.lock > status.json || true
		"$NFSLOCK" unlock lock.lock
		echo "after unlock: $(ls)"
		if "$NFSLOCK" unlock lock.lock; then exit 92; fi
		if "$NFSLOCK" touch lock.lock; then exit 93; fi
		echo done`)
	if r.code != 0 || !strings.Contains(r.stdout, "done") {
		t.Fatalf("script: %v", r)
	}
	shell := regexp.MustCompile(`shell=(\d+)`).FindStringSubmatch(r.stdout)
	if shell == nil || !strings.Contains(r.stdout, "|"+shell[1]+"|") {
		t.Errorf("the claim does not name the calling shell's pid:\n%s", r.stdout)
	}
	if !strings.Contains(r.stdout, "status=1") {
		t.Errorf("status of a held lock: want exit 1:\n%s", r.stdout)
	}
	st := readFile(t, filepath.Join(dir, "status.json"))
	if !strings.Contains(st, `"state": "ours"`) {
		t.Errorf("status --json from the locking shell: want state ours:\n%s", st)
	}
	left := regexp.MustCompile(`"expires_in_seconds": ([0-9.]+)`).FindStringSubmatch(st)
	if left == nil {
		t.Fatalf("no expires_in_seconds in %s", st)
	}
	if s, _ := strconv.ParseFloat(left[1], 64); s <= 15 {
		t.Errorf("after touch -l 60 the lock expires in %vs; want more than the default 15s (touch did not refresh with its lifetime)", s)
	}
	if !strings.Contains(r.stdout, "after unlock: status.json\n") {
		t.Errorf("unlock left files behind:\n%s", r.stdout)
	}
}

// TestUnlockRefusesAnotherPIDsLock: unlock and touch never act on a lock
// whose claim names another process.
func TestUnlockRefusesAnotherPIDsLock(t *testing.T) {
	dir := t.TempDir()
	other := exec.Command("sleep", "60")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { other.Process.Kill(); other.Wait() }()
	pid := strconv.Itoa(other.Process.Pid)
	if r := run(t, dir, "lock", "--pid", pid, "lock.lock"); r.code != 0 {
		t.Fatalf("lock --pid %s: %v", pid, r)
	}
	before := files(t, dir)
	r := bash(t, dir, `"$NFSLOCK" unlock lock.lock; echo "unlock=$?"; "$NFSLOCK" touch lock.lock; echo "touch=$?"`)
	if !strings.Contains(r.stdout, "unlock=1") || !strings.Contains(r.stdout, "touch=1") || !strings.Contains(r.stderr, "pid "+pid) {
		t.Errorf("unlock and touch of a lock held by pid %s, from another shell: want exit 1 naming the holder; got %v", pid, r)
	}
	wantFiles(t, dir, before...)
	if r := run(t, dir, "lock", "--pid", strconv.Itoa(deadPID(t)), "lock.lock"); r.code != exitUsage {
		t.Errorf("lock --pid of no process: want exit %d; got %v", exitUsage, r)
	}
	if r := run(t, dir, "unlock", "--pid", pid, "lock.lock"); r.code != 0 {
		t.Errorf("unlock --pid %s: %v", pid, r)
	}
	wantFiles(t, dir)
}

// TestKeep: keep refreshes a script's lock in the background until unlock,
// and stops when the script's shell exits.
func TestKeep(t *testing.T) {
	dir := t.TempDir()
	r := bash(t, dir, `set -e
		"$NFSLOCK" lock -l 2s lock.lock
		"$NFSLOCK" keep -v -l 2s lock.lock
		sleep 3.5  # longer than the lifetime: only the keeper keeps it
		"$NFSLOCK" status --json lock.lock > status.json || true
		"$NFSLOCK" unlock lock.lock
		echo done # bash -c runs a last command with exec: its parent would not be this shell`)
	if r.code != 0 {
		t.Fatalf("script: %v", r)
	}
	st := readFile(t, filepath.Join(dir, "status.json"))
	if !strings.Contains(st, `"state": "ours"`) {
		t.Errorf("3.5s after lock -l 2s with a keeper: want the lock still ours (refreshed); got\n%s", st)
	}
	m := regexp.MustCompile(`keeper pid (\d+)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("keep -v did not name the keeper's pid: %v", r)
	}
	keeper, _ := strconv.Atoi(m[1])
	waitUntil(t, "the keeper to stop after unlock", 10*time.Second, func() bool { return !processAlive(keeper) })
	wantFiles(t, dir, "status.json")

	// The shell that took the lock exits without unlocking: the keeper
	// stops, and the lock is left to expire.
	os.Remove(filepath.Join(dir, "status.json"))
	r = bash(t, dir, `"$NFSLOCK" lock -l 3s lock.lock && "$NFSLOCK" keep -v -l 3s lock.lock; echo done`)
	if r.code != 0 {
		t.Fatalf("script: %v", r)
	}
	m = regexp.MustCompile(`keeper pid (\d+)`).FindStringSubmatch(r.stderr)
	if m == nil {
		t.Fatalf("keep -v did not name the keeper's pid: %v", r)
	}
	keeper, _ = strconv.Atoi(m[1])
	waitUntil(t, "the keeper to stop after its shell exited", 10*time.Second, func() bool { return !processAlive(keeper) })
	if r := run(t, dir, "status", "lock.lock"); r.code != 1 || !strings.Contains(r.stdout, "stale") {
		t.Errorf("status of a lock whose shell exited: want held, stale; got %v", r)
	}
	if r := run(t, dir, "keep", "lock.lock"); r.code != 1 {
		t.Errorf("keep of a lock held in another pid's name: want exit 1; got %v", r)
	}
}
