//go:build linux || darwin || freebsd || netbsd || openbsd

package probe_test

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	posix "github.com/nfslock/nfslock/backend-posix"
	"github.com/nfslock/nfslock/conformance/probe"
	"github.com/nfslock/nfslock/locker/faultfs"
)

// TestProbeLocalDirectory probes a fresh local directory, alone and as its
// own second client, and checks what any local filesystem does.
func TestProbeLocalDirectory(t *testing.T) {
	for _, two := range []bool{false, true} {
		dir := t.TempDir()
		dir2 := ""
		if two {
			dir2 = dir // the same directory through the same client
		}
		c, err := probe.Probe(posix.New(), dir, dir2)
		if err != nil {
			t.Fatalf("Probe(%q, %q): %v", dir, dir2, err)
		}
		t.Logf("%v", c)
		if c.LinkError != "" || !c.LinkCounts || c.LinksAfterLink != 2 {
			t.Errorf("links: error %q, counts reported %v, %d after a link; want links made, reported, 2", c.LinkError, c.LinkCounts, c.LinksAfterLink)
		}
		if !strings.HasPrefix(c.LosingLink, "EEXIST") || !c.LosingLinkExists || c.LosingLinkReplaced {
			t.Errorf("losing link: %q, taken as exists %v, replaced %v; want EEXIST, taken as exists, not replaced", c.LosingLink, c.LosingLinkExists, c.LosingLinkReplaced)
		}
		if r := c.LinkRace; !r.Exclusive() || r.Rounds == 0 || len(r.Mixups) > 0 || len(r.Errors) != 1 || !strings.HasPrefix(r.Errors[0], "EEXIST") {
			t.Errorf("link race: %+v; want one winner a round, the losers failing with EEXIST", r)
		}
		if c.RenameError != "" || !c.RenameReplaces || !c.RenameAtomic || c.RenameRounds == 0 {
			t.Errorf("rename: error %q, replaces %v, atomic %v in %d rounds; want an atomic replacement", c.RenameError, c.RenameReplaces, c.RenameAtomic, c.RenameRounds)
		}
		if c.RemoveOpenError != "" || len(c.ClientNames) > 0 {
			t.Errorf("a file removed while open: error %q, client names %q; want it gone, no names left", c.RemoveOpenError, c.ClientNames)
		}
		if c.Granularity <= 0 || c.StampGranularity <= 0 || !c.TimeRead.Equal(c.TimeSet.Truncate(c.Granularity)) && !c.TimeRead.Equal(c.TimeSet.Round(c.Granularity)) {
			t.Errorf("granularity %v set (%v read back as %v), %v stamped; want known steps", c.Granularity, c.TimeSet, c.TimeRead, c.StampGranularity)
		}
		if c.ClockOffset.Abs() > time.Second+c.TimeGranularity() {
			t.Errorf("the clock of a local filesystem is %v ± %v from this host's; want within a second and a granule", c.ClockOffset, c.ClockUncertainty)
		}
		for _, tm := range []struct {
			name string
			t    probe.Timing
		}{{"stat", c.Latency.Stat}, {"link and remove", c.Latency.Link}} {
			if tm.t.N == 0 || tm.t.Median <= 0 || tm.t.Max < tm.t.Median {
				t.Errorf("latency of a %s: %+v; want samples, a positive median, a longest at least the median", tm.name, tm.t)
			}
		}
		if c.Latency.PerCall() <= 0 {
			t.Errorf("latency per call %v; want positive", c.Latency.PerCall())
		}
		if two && (c.OtherClientDelay != 0 || c.ReverseDelay != 0 || c.OtherClientReadDelay != 0 || c.ReverseReadDelay != 0) {
			t.Errorf("a change seen through the same directory after %v, %v, %v, %v; want at once", c.OtherClientDelay, c.ReverseDelay, c.OtherClientReadDelay, c.ReverseReadDelay)
		}
		if left, _ := os.ReadDir(dir); len(left) > 0 {
			t.Errorf("Probe left %d entries in %s, first %s; want none", len(left), dir, left[0].Name())
		}
	}
}

// TestProbeLostReplies probes through a backend that loses every third
// reply of a link, remove, rename and create after doing the call, answering
// as a server does the call sent again (EEXIST, ENOENT): the probe takes its
// own calls for done, and finds what it finds without lost replies.
func TestProbeLostReplies(t *testing.T) {
	dir := t.TempDir()
	fsys := faultfs.New(posix.New())
	answers := map[faultfs.Op]error{
		faultfs.OpLink:      syscall.EEXIST,
		faultfs.OpRemove:    syscall.ENOENT,
		faultfs.OpRename:    syscall.ENOENT,
		faultfs.OpWriteFile: syscall.EEXIST,
	}
	fsys.SetHook(func(op faultfs.Op, _ ...string) {
		if answer, ok := answers[op]; ok && (fsys.Calls(op)+1)%3 == 0 {
			fsys.LoseReply(op, fsys.Calls(op)+1, answer)
		}
	})
	c, err := probe.Probe(fsys, dir, "")
	if err != nil {
		t.Fatalf("Probe through lost replies: %v", err)
	}
	lost := 0
	for op := range answers {
		lost += fsys.Calls(op) / 3
	}
	t.Logf("%d replies lost; %v", lost, c)
	if lost == 0 {
		t.Fatalf("no reply was lost; the test lost its point")
	}
	if c.LinkError != "" || !c.LinkCounts || !c.LosingLinkExists || c.RenameError != "" || !c.RenameReplaces || !c.RenameAtomic {
		t.Errorf("links: error %q, counts %v, losing link exists %v; rename: error %q, replaces %v, atomic %v; want what a local directory shows", c.LinkError, c.LinkCounts, c.LosingLinkExists, c.RenameError, c.RenameReplaces, c.RenameAtomic)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("Probe left %d entries in %s, first %s; want none", len(left), dir, left[0].Name())
	}
}

func TestMeasureLatency(t *testing.T) {
	dir := t.TempDir()
	l, err := probe.MeasureLatency(posix.New(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if l.Stat.N == 0 || l.Link.N == 0 || l.PerCall() <= 0 {
		t.Errorf("MeasureLatency: %+v; want stats and links timed", l)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("MeasureLatency left %d entries in %s, first %s; want none", len(left), dir, left[0].Name())
	}
}

func TestProbeMissingDirectory(t *testing.T) {
	dir := t.TempDir() + "/missing"
	if c, err := probe.Probe(posix.New(), dir, ""); err == nil || !os.IsNotExist(err) && !strings.Contains(err.Error(), "no such") {
		t.Errorf("Probe of a missing directory: %v, %v; want an error saying it does not exist", c, err)
	}
}
