//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The workloads across two clients of one network filesystem: the
// processes alternate between two mounts of one export, each mount its own
// client, as processes on two hosts would. The repository's rigs
// (scripts/sshfs-rig.sh, scripts/nfs-rig.sh) make such mounts on this
// machine and print where they are as environment variables.

// A rig is a pair of mounts of one export.
type rig struct {
	name  string // the workload's name for -run: sshfs, nfs
	title string // what the table's heading says about it
	a, b  string // the two mounts, "" if the rig is not up
	vars  string // the variables that name them, for the note when they are unset
	up    string // the command that starts the rig
	state string // NFS: the rig's directory, where each client's counts are
}

// rigs returns the rigs the environment names.
func rigs() []rig {
	return []rig{{
		name:  "sshfs",
		title: "Across two sshfs clients of one export (processes alternate between the two mounts; caching off; `scripts/sshfs-rig.sh`)",
		a:     os.Getenv("NFSLOCK_SSHFS_A"), b: os.Getenv("NFSLOCK_SSHFS_B"),
		vars: "NFSLOCK_SSHFS_A and NFSLOCK_SSHFS_B", up: "scripts/sshfs-rig.sh up",
	}, {
		name:  "nfs",
		title: "Across two NFS clients of one export (NFS-Ganesha over NFSv3, two `tools/nfsmount` clients, caching off; processes alternate between the two mounts; `scripts/nfs-rig.sh`)",
		a:     os.Getenv("NFSLOCK_NFS_A"), b: os.Getenv("NFSLOCK_NFS_B"),
		vars: "NFSLOCK_NFS_A and NFSLOCK_NFS_B", up: "scripts/nfs-rig.sh up",
		state: os.Getenv("NFSLOCK_NFS_STATE"),
	}}
}

// The workloads that can run across clients, for -across.
var acrossWorkloads = []string{"strace", "contend", "handoff", "wait", "rw", "sem"}

// acrossContenders are the contenders that can run across clients:
// flufl.lock cannot release a lock on sshfs, which reports no link counts,
// and flock is local to one client.
var acrossContenders = []string{cFloor, cCFloor, cNfslock, cNoWatch, cFair}

// across is what one rig measured.
type across struct {
	rig       rig
	calls     map[string]syscallCounts // per uncontended cycle, through mount A
	ops       map[string]float64       // the client's operations per uncontended cycle (NFS)
	contend   map[string]map[int]contended
	handoff   map[string]map[time.Duration][]time.Duration
	waitOps   map[string]float64 // system calls per second of a waiter on mount B
	waitCalls map[string]syscallCounts
	waitRPCs  map[string]float64 // its client's operations per second (NFS)
	rw        map[string]rwRun
	sem       map[string]contended
}

// measureAcross runs the workloads of set.across on the rig g, which is up.
func measureAcross(e *env, set settings, g rig, fail func(what, c string, err error)) *across {
	x := &across{rig: g,
		calls: map[string]syscallCounts{}, ops: map[string]float64{},
		contend: map[string]map[int]contended{}, handoff: map[string]map[time.Duration][]time.Duration{},
		waitOps: map[string]float64{}, waitCalls: map[string]syscallCounts{}, waitRPCs: map[string]float64{},
		rw: map[string]rwRun{}, sem: map[string]contended{},
	}
	dirA, err := os.MkdirTemp(g.a, "nfslock-bench-")
	if err != nil {
		fail(g.name, "setup", err)
		return x
	}
	defer os.RemoveAll(dirA)
	dirB := filepath.Join(g.b, filepath.Base(dirA))
	dirs := []string{dirA, dirB}
	doing := func(w string) bool { return slices.Contains(set.across, w) }
	var on []string
	for _, c := range acrossContenders {
		if slices.Contains(set.contendersOn, c) {
			on = append(on, c)
		}
	}
	countA, countB := g.counter("a"), g.counter("b")
	what := func(w string) string { return g.name + " " + w }

	if e.strace != "" && doing("strace") {
		for _, c := range on {
			progress("%s, one client: system calls per uncontended cycle, %s", g.name, c)
			calls, ops, err := e.cycleCalls(c, dirA, set.acrossStraceN[0], set.acrossStraceN[1], countA)
			if err != nil {
				fail(what("strace"), c, err)
				continue
			}
			x.calls[c], x.ops[c] = calls, ops
			detail("%s: %v; the client's operations %.1f per cycle", c, calls, ops)
		}
	}

	for pass := range set.passes {
		order := slices.Clone(on)
		if pass%2 == 1 {
			slices.Reverse(order)
		}
		for _, p := range set.acrossProcs {
			for _, c := range order {
				if !doing("contend") {
					break
				}
				progress("%s, two clients: contended, %s, P = %d, %v (pass %d of %d)", g.name, c, p, set.acrossSpan, pass+1, set.passes)
				res, err := e.contend(c, dirs, p, set.acrossSpan, set.hold)
				if err != nil {
					fail(what("contended"), c, err)
					continue
				}
				if x.contend[c] == nil {
					x.contend[c] = map[int]contended{}
				}
				x.contend[c][p] = x.contend[c][p].merge(res)
				detail("%s, P = %d: %.0f/s, counts %v (quick %v), longest wait %v, lost %d, CPU %v per cycle", c, p, res.perSecond(), res.counts, res.quick, res.maxWait, res.lost, res.cpu/time.Duration(max(res.total(), 1)))
			}
		}
	}

	for i, wait := range set.handoffWaits {
		for _, c := range on {
			if !doing("handoff") {
				break
			}
			progress("%s, two clients: hand-off, %s, %d rounds, waits of %v to %v", g.name, c, set.acrossRounds[i], wait, 2*wait)
			lat, err := e.handoff(c, dirs, set.acrossRounds[i], wait)
			if err != nil {
				fail(what("hand-off"), c, err)
				continue
			}
			if x.handoff[c] == nil {
				x.handoff[c] = map[time.Duration][]time.Duration{}
			}
			x.handoff[c][wait] = lat
			detail("%s: %v", c, lat)
		}
	}

	if e.strace != "" && doing("wait") {
		for _, c := range on {
			progress("%s, two clients: a waiter's file operations, %s", g.name, c)
			ops, calls, rpcs, err := e.waitOps(c, dirA, dirB, set.wait[0], set.wait[1], countB)
			if err != nil {
				fail(what("waiter's file operations"), c, err)
				continue
			}
			x.waitOps[c], x.waitCalls[c], x.waitRPCs[c] = ops, calls, rpcs
			detail("%s: %v; the client's operations %.1f per second", c, calls, rpcs)
		}
	}

	if slices.Contains(on, cNfslock) {
		for pass := range set.passes {
			kinds := []string{semOne, semMany}
			if pass%2 == 1 {
				slices.Reverse(kinds)
			}
			if doing("rw") {
				progress("%s, two clients: shared lock, %d readers and a writer, %v (pass %d of %d)", g.name, set.rwReaders, set.acrossSpan, pass+1, set.passes)
				res, err := e.rw(cNfslock, dirs, set.rwReaders, set.acrossSpan, set.hold, set.rwPause)
				if err != nil {
					fail(what("shared lock"), cNfslock, err)
				} else {
					x.rw[cNfslock] = x.rw[cNfslock].merge(res)
					detail("%.0f reads/s, %d writes, writer's wait p50 %v, longest %v; overlaps %d", float64(res.reads)/res.span.Seconds(), len(res.waits), percentileOr0(res.waits, 50), percentileOr0(res.waits, 100), res.overlaps)
				}
			}
			for _, k := range kinds {
				if !doing("sem") {
					break
				}
				progress("%s, two clients: semaphore, %s, %d processes, %d slots, %v (pass %d of %d)", g.name, k, set.semProcs, set.semSlots, set.acrossSpan, pass+1, set.passes)
				res, err := e.sem(k, dirs, set.semProcs, set.semSlots, set.acrossSpan, set.hold)
				if err != nil {
					fail(what("semaphore"), k, err)
					continue
				}
				x.sem[k] = x.sem[k].merge(res)
				detail("%s: %.0f/s, counts %v, longest wait %v, overlaps %d", k, res.perSecond(), res.counts, res.maxWait, res.lost)
			}
		}
	}
	return x
}

// counter returns what counts the operations that mount "a" or "b" of the
// rig sends its server, or nil if the rig does not count them. The NFS
// rig's clients (tools/nfsmount) write their counts to stats-a.json and
// stats-b.json in the rig's directory when sent SIGUSR1.
func (g rig) counter(mount string) opCounter {
	if g.state == "" {
		return nil
	}
	pidFile := filepath.Join(g.state, "nfsmount-"+mount+".pid")
	stats := filepath.Join(g.state, "stats-"+mount+".json")
	if _, err := os.Stat(pidFile); err != nil {
		return nil
	}
	return func() (float64, error) {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return 0, err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return 0, fmt.Errorf("%s: %w", pidFile, err)
		}
		before, _ := os.Stat(stats)
		if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
			return 0, fmt.Errorf("asking the NFS client (pid %d) for its counts: %w", pid, err)
		}
		// The client writes a new file and renames it over the old one.
		for deadline := time.Now().Add(3 * time.Second); ; {
			after, err := os.Stat(stats)
			if err == nil && (before == nil || !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime())) {
				break
			}
			if time.Now().After(deadline) {
				return 0, errors.New("the NFS client did not write its counts to " + stats)
			}
			time.Sleep(10 * time.Millisecond)
		}
		b, err = os.ReadFile(stats)
		if err != nil {
			return 0, err
		}
		var st struct {
			Calls map[string]float64 `json:"calls"`
		}
		if err := json.Unmarshal(b, &st); err != nil {
			return 0, fmt.Errorf("%s: %w", stats, err)
		}
		var n float64
		for _, c := range st.Calls {
			n += c
		}
		return n, nil
	}
}

// markdown renders what the rig measured, or "" if it did not run.
func (x *across) markdown(r *results) string {
	if len(x.calls)+len(x.contend)+len(x.handoff)+len(x.waitOps)+len(x.rw)+len(x.sem) == 0 {
		return ""
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	var cols []string // the contenders that ran
	for _, c := range acrossContenders {
		if slices.Contains(r.set.contendersOn, c) {
			cols = append(cols, c)
		}
	}
	w("\n%s:\n\n|  |", x.rig.title)
	for _, c := range cols {
		w(" %s |", r.columnTitle(c))
	}
	w("\n|---|%s\n", strings.Repeat("---|", len(cols)))
	row := func(title string, cell func(c string) string) {
		w("| %s |", title)
		for _, c := range cols {
			v := cell(c)
			if v == "" {
				v = "–"
			}
			w(" %s |", v)
		}
		w("\n")
	}
	nfs := x.rig.state != ""
	if len(x.calls) > 0 {
		row("system calls per uncontended cycle, one client", func(c string) string {
			calls, ok := x.calls[c]
			if !ok {
				return ""
			}
			own, _ := calls.split()
			return num(own)
		})
		if nfs {
			row("NFS calls per uncontended cycle, one client (the client's count)", func(c string) string { return numOK(x.ops, c) })
		}
	}
	ps := r.set.acrossProcs
	pt := joinInts(ps, " / ")
	if len(x.contend) > 0 {
		for _, fl := range []string{cFloor, cCFloor} {
			if len(x.contend[fl]) == 0 {
				continue
			}
			row(fmt.Sprintf("contended throughput, P = %s (× %s)", pt, r.floorName(fl)), func(c string) string {
				var cells []string
				for _, p := range ps {
					cells = append(cells, ratioTo(x.contend, c, p, fl))
				}
				return strings.Join(cells, " / ")
			})
		}
		row("lost updates, all contended runs", func(c string) string { return lost(x.contend[c]) })
		row(fmt.Sprintf("fairness, P = %s: slowest / fastest process", pt), func(c string) string {
			return perP(x.contend[c], ps, func(res contended) string { return fmt.Sprintf("%.2f", res.spread()) })
		})
		row(fmt.Sprintf("longest wait, P = %s", pt), func(c string) string {
			return perP(x.contend[c], ps, func(res contended) string { return dur(res.maxWait) })
		})
	}
	for _, wait := range r.set.handoffWaits {
		if len(x.handoff) == 0 {
			break
		}
		row(fmt.Sprintf("hand-off between the clients after waits of %s, p50 / p99 (p50 × floor, × C floor)", waitRange(wait)), func(c string) string {
			return handoffCell(x.handoff, c, wait)
		})
	}
	if len(x.waitOps) > 0 {
		row("a waiting process's system calls per second, the lock held through the other client", func(c string) string {
			if v, ok := x.waitOps[c]; ok {
				return fmt.Sprintf("%.0f", math.Max(v, 0))
			}
			return ""
		})
		if nfs {
			row("its NFS calls per second (the client's count)", func(c string) string { return numOK(x.waitRPCs, c) })
		}
	}
	if len(x.rw)+len(x.sem) > 0 {
		w("%s", sharedMarkdown(r.set, r.set.acrossSpan, x.rw, x.sem, []string{cNfslock}))
	}
	return b.String()
}

// numOK is m[c] as num writes it, or "" if it is missing or NaN.
func numOK(m map[string]float64, c string) string {
	v, ok := m[c]
	if !ok || math.IsNaN(v) {
		return ""
	}
	return num(math.Max(v, 0))
}

// perP joins f of the runs at each P, "?" for a missing one.
func perP(runs map[int]contended, ps []int, f func(contended) string) string {
	if len(runs) == 0 {
		return ""
	}
	var cells []string
	for _, p := range ps {
		if res, ok := runs[p]; ok {
			cells = append(cells, f(res))
		} else {
			cells = append(cells, "?")
		}
	}
	return strings.Join(cells, " / ")
}

func joinInts(ns []int, sep string) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, sep)
}
