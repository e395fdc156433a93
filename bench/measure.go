//go:build linux

package main

import (
	"fmt"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// results are everything one run measured; a missing entry is an empty
// cell.
type results struct {
	command, mode, fluflVersion, fsType, dir string
	loads                                    [2]string
	took                                     time.Duration
	cpus                                     int
	set                                      settings
	notes                                    []string

	cycle     map[string]time.Duration // median time of one uncontended cycle
	cycleSpan map[string][2]time.Duration
	allocs    map[string][2]float64 // mallocs and bytes per cycle
	calls     map[string]syscallCounts
	contend   map[string]map[int]contended
	handoff   map[string]map[time.Duration][]time.Duration // by the waiter's wait
	waitOps   map[string]float64
	waitCalls map[string]syscallCounts

	rw  map[string]rwRun     // by contender: nfslock, flock
	sem map[string]contended // semOne, semMany; lost counts overlaps

	across []*across // the workloads across two clients, one per rig
}

// measure runs every workload of every contender in set.
func measure(e *env, set settings, work string, notes []string) *results {
	r := &results{
		set: set, notes: notes,
		cycle: map[string]time.Duration{}, cycleSpan: map[string][2]time.Duration{},
		allocs: map[string][2]float64{}, calls: map[string]syscallCounts{},
		contend: map[string]map[int]contended{}, handoff: map[string]map[time.Duration][]time.Duration{},
		waitOps: map[string]float64{}, waitCalls: map[string]syscallCounts{},
		rw: map[string]rwRun{}, sem: map[string]contended{},
	}
	on := set.contendersOn
	fail := func(what, c string, err error) {
		progress("%s, %s: %v", what, c, err)
		r.notes = append(r.notes, what+", "+c+": "+err.Error())
	}

	// The uncontended cycle, in rounds that interleave the contenders, so
	// that a noisy neighbour slows them all alike; the median round counts.
	doing := func(w string) bool { return slices.Contains(set.workloads, w) }
	times := map[string][]time.Duration{}
	for round := range set.cycleRounds {
		if !doing("cycle") {
			break
		}
		progress("uncontended cycle: round %d of %d", round+1, set.cycleRounds)
		for _, c := range on {
			u, err := e.cycleOnce(c, work, set.cycleN[c], set.cycleN[c]/10)
			if err != nil {
				fail("uncontended cycle", c, err)
				continue
			}
			times[c] = append(times[c], u.perCycle)
			if round == 0 {
				r.allocs[c] = [2]float64{u.mallocs, u.bytes}
			}
		}
	}
	for c, ts := range times {
		slices.Sort(ts)
		r.cycle[c] = ts[len(ts)/2]
		r.cycleSpan[c] = [2]time.Duration{ts[0], ts[len(ts)-1]}
	}

	if e.strace != "" && doing("strace") {
		progress("system calls per uncontended cycle (strace -f)")
		for _, c := range on {
			calls, _, err := e.cycleCalls(c, work, set.straceN[0], set.straceN[1], nil)
			if err != nil {
				fail("strace", c, err)
				continue
			}
			r.calls[c] = calls
			detail("%s: %v", c, calls)
		}
	}

	// The contended runs in passes, the second in the reverse order, so
	// that a neighbour's burst of work does not fall on one contender
	// alone; each contender's passes are merged.
	for pass := range set.passes {
		order := slices.Clone(on)
		if pass%2 == 1 {
			slices.Reverse(order)
		}
		for _, p := range set.procs {
			for _, c := range order {
				if !doing("contend") {
					break
				}
				progress("contended: %s, P = %d, %v (pass %d of %d)", c, p, set.span, pass+1, set.passes)
				res, err := e.contend(c, []string{work}, p, set.span, set.hold)
				if err != nil {
					fail("contended", c, err)
					continue
				}
				if r.contend[c] == nil {
					r.contend[c] = map[int]contended{}
				}
				r.contend[c][p] = r.contend[c][p].merge(res)
				detail("%s, P = %d: %.0f/s, counts %v (quick %v), longest wait %v, lost %d, CPU %v per cycle", c, p, res.perSecond(), res.counts, res.quick, res.maxWait, res.lost, res.cpu/time.Duration(max(res.total(), 1)))
			}
		}
	}

	for i, wait := range set.handoffWaits {
		for _, c := range on {
			if !doing("handoff") {
				break
			}
			rounds := set.handoffRounds[i]
			if c == cFlufl {
				rounds = min(rounds, set.fluflRounds)
			}
			progress("hand-off: %s, %d rounds, waits of %v to %v", c, rounds, wait, 2*wait)
			lat, err := e.handoff(c, []string{work}, rounds, wait)
			if err != nil {
				fail("hand-off", c, err)
				continue
			}
			if r.handoff[c] == nil {
				r.handoff[c] = map[time.Duration][]time.Duration{}
			}
			r.handoff[c][wait] = lat
			detail("%s: %v", c, lat)
		}
	}

	if e.strace != "" && doing("wait") {
		for _, c := range on {
			progress("a waiter's file operations: %s", c)
			ops, calls, _, err := e.waitOps(c, work, work, set.wait[0], set.wait[1], nil)
			if err != nil {
				fail("waiter's file operations", c, err)
				continue
			}
			r.waitOps[c], r.waitCalls[c] = ops, calls
			detail("%s: %v", c, calls)
		}
	}

	measureShared(e, set, work, r, fail)
	for _, g := range rigs() {
		switch {
		case !doing(g.name):
		case g.a == "" || g.b == "":
			r.notes = append(r.notes, fmt.Sprintf("No %s rig (%s unset): the table across two %s clients is not made. Start the rig with `set -a; eval \"$(bash %s)\"; set +a`.", g.name, g.vars, g.name, g.up))
		default:
			r.across = append(r.across, measureAcross(e, set, g, fail))
		}
	}
	return r
}

// fsType names the filesystem of dir, as far as this program knows them.
func fsType(dir string) string {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return "?"
	}
	switch st.Type {
	case unix.TMPFS_MAGIC:
		return "tmpfs"
	case unix.EXT4_SUPER_MAGIC:
		return "ext4"
	case unix.XFS_SUPER_MAGIC:
		return "xfs"
	case unix.BTRFS_SUPER_MAGIC:
		return "btrfs"
	case unix.NFS_SUPER_MAGIC:
		return "nfs"
	case unix.OVERLAYFS_SUPER_MAGIC:
		return "overlayfs"
	case unix.FUSE_SUPER_MAGIC:
		return "fuse"
	}
	return "?"
}
