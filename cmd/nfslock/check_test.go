//go:build unix

package main

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// runCheck runs check --json on dir and parses its report.
func runCheckJSON(t *testing.T, dir string) (checkReport, result) {
	t.Helper()
	r := run(t, dir, "check", "--json", "--procs", "3", "--cycles", "20", dir)
	var rep checkReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("check --json output does not parse: %v\n%v", err, r)
	}
	return rep, r
}

func TestCheckLocalDirectory(t *testing.T) {
	dir := t.TempDir()
	rep, r := runCheckJSON(t, dir)
	if r.code != 0 || rep.Verdict != "ok" {
		t.Errorf("check of a local directory: want verdict ok, exit 0; got %q, %v\nproblems: %q", rep.Verdict, r, rep.Problems)
	}
	if !rep.Link.Works || !rep.Link.Atomic || !rep.Link.SeenAsExist || rep.Link.Replaced {
		t.Errorf("link on a local filesystem: %+v; want working, atomic, a losing link seen as \"exists\"", rep.Link)
	}
	if !rep.LinkCounts.Reported || rep.LinkCounts.AfterLink != 2 {
		t.Errorf("link counts on a local filesystem: %+v; want reported, 2 after a link", rep.LinkCounts)
	}
	if rep.Times.SetGranularity != 1 {
		t.Errorf("file times set on %s keep steps of %v; want nanoseconds (a local filesystem such as ext4 or tmpfs)", dir, time.Duration(rep.Times.SetGranularity))
	}
	if !rep.Rename.Replaces {
		t.Errorf("rename onto an existing name: %+v; want it replaced", rep.Rename)
	}
	c := rep.Contention
	if c.Expected != 60 || c.Counter != 60 || c.LostUpdates != 0 || len(c.Errors) > 0 || len(c.Leftover) > 0 {
		t.Errorf("contention run: %+v; want 3 × 20 = 60 increments, none lost, no errors, nothing left behind", c)
	}
	if rep.LifetimeSeconds < 15 || rep.SlopSeconds < 10 {
		t.Errorf("recommended lifetime %vs, slop %vs; want at least the defaults", rep.LifetimeSeconds, rep.SlopSeconds)
	}
	wantFiles(t, dir) // check cleaned up after itself
	if r := run(t, dir, "check", dir+"/missing"); r.code != exitNoInput {
		t.Errorf("check of a missing directory: want exit %d; got %v", exitNoInput, r)
	}
}

// TestCheckSSHFS runs check on a caching-off sshfs mount, which the sshfs
// rig of this repository sets up and names in NFSLOCK_SSHFS_A.
func TestCheckSSHFS(t *testing.T) {
	dir := os.Getenv("NFSLOCK_SSHFS_A")
	if fi, err := os.Stat(dir); dir == "" || err != nil || !fi.IsDir() {
		t.Skip("NFSLOCK_SSHFS_A does not name a directory: to check sshfs, start the rig (bash scripts/sshfs-rig.sh up; needs openssh-server sshfs fuse3) and export what bash scripts/sshfs-rig.sh env prints")
	}
	before := files(t, dir)
	rep, r := runCheckJSON(t, dir)
	if r.code != 0 || rep.Verdict != "ok" {
		t.Errorf("check of sshfs: want verdict ok, exit 0; got %q, %v\nproblems: %q", rep.Verdict, r, rep.Problems)
	}
	if rep.LinkCounts.Reported {
		t.Errorf("link counts on sshfs: %+v; want not reported (SFTP has no link count)", rep.LinkCounts)
	}
	if rep.Times.GranularityNS != int64(time.Second) {
		t.Errorf("file times on sshfs: steps of %v; want whole seconds", time.Duration(rep.Times.GranularityNS))
	}
	if !rep.Link.Atomic || !rep.Link.SeenAsExist {
		t.Errorf("link on sshfs: %+v; want atomic, a losing link seen as \"exists\"", rep.Link)
	}
	if c := rep.Contention; c.Counter != c.Expected || c.LostUpdates != 0 {
		t.Errorf("contention run on sshfs: %+v; want no lost update", c)
	}
	t.Logf("check of sshfs: link counts %+v, times %+v, clock %+v, notes %q", rep.LinkCounts, rep.Times, rep.Clock, rep.Notes)
	after := files(t, dir)
	for _, n := range after {
		found := false
		for _, b := range before {
			found = found || b == n
		}
		if !found && len(n) > len(".nfslock-check") && n[:len(".nfslock-check")] == ".nfslock-check" {
			t.Errorf("check left its work directory %s behind", n)
		}
	}
}

// TestCheckNFS runs check on a caching-off NFS mount, which the NFS rig of
// this repository sets up and names in NFSLOCK_NFS_A.
func TestCheckNFS(t *testing.T) {
	dir := os.Getenv("NFSLOCK_NFS_A")
	if fi, err := os.Stat(dir); dir == "" || err != nil || !fi.IsDir() {
		t.Skip("NFSLOCK_NFS_A does not name a directory: to check NFS, start the rig (bash scripts/nfs-rig.sh up, as root; installs nfs-ganesha) and export what it prints")
	}
	before := files(t, dir)
	rep, r := runCheckJSON(t, dir)
	if r.code != 0 || rep.Verdict != "ok" {
		t.Errorf("check of NFS: want verdict ok, exit 0; got %q, %v\nproblems: %q", rep.Verdict, r, rep.Problems)
	}
	if !rep.LinkCounts.Reported || rep.LinkCounts.AfterLink != 2 {
		t.Errorf("link counts on NFS: %+v; want reported, 2 after a link", rep.LinkCounts)
	}
	if !rep.Link.Works || !rep.Link.Atomic || !rep.Link.SeenAsExist || rep.Link.Replaced {
		t.Errorf("link on NFS: %+v; want working, atomic, a losing link seen as \"exists\"", rep.Link)
	}
	if !rep.Rename.Replaces {
		t.Errorf("rename onto an existing name on NFS: %+v; want it replaced", rep.Rename)
	}
	if c := rep.Contention; c.Counter != c.Expected || c.LostUpdates != 0 || len(c.Leftover) > 0 {
		t.Errorf("contention run on NFS: %+v; want no lost update, nothing left behind", c)
	}
	t.Logf("check of NFS: link counts %+v, times %+v, clock %+v, notes %q", rep.LinkCounts, rep.Times, rep.Clock, rep.Notes)
	for _, n := range files(t, dir) {
		if strings.HasPrefix(n, ".nfslock-check") && !slices.Contains(before, n) {
			t.Errorf("check left its work directory %s behind", n)
		}
	}
}
