//go:build linux

package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// columnTitle is each contender's heading.
func (r *results) columnTitle(c string) string {
	switch c {
	case cFloor:
		return "floor (Go)"
	case cCFloor:
		return "floor (C)"
	case cNfslock:
		return "nfslock defaults"
	case cNoWatch:
		return "nfslock, `WithWatcher(false)`"
	case cFair:
		return "nfslock, `WithFairness(true)`"
	case cFlufl:
		if r.fluflVersion != "" {
			return "flufl.lock " + r.fluflVersion
		}
		return "flufl.lock"
	case cFlock:
		return "flock(2)"
	}
	return c
}

// markdown renders the results as docs/performance.md shows
// them.
func (r *results) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("Measured with `%s` (%s run, %v) on %s: Go %s, %s/%s, %d CPUs; lock files on %s (%s); load average %s before, %s after.\n\n",
		r.command, r.mode, r.took.Round(time.Second), time.Now().UTC().Format("2006-01-02"),
		strings.TrimPrefix(runtime.Version(), "go"), runtime.GOOS, runtime.GOARCH, r.cpus, r.fsType, r.dir, r.loads[0], r.loads[1])

	cols := contenders
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
	// The main table, unless only the shared workloads ran.
	mainTable := slices.ContainsFunc(r.set.workloads, func(w string) bool { return w != "rw" && w != "sem" && w != "sshfs" && w != "nfs" })
	if mainTable {
		w("|  |")
		for _, c := range cols {
			w(" %s |", r.columnTitle(c))
		}
		w("\n|---|%s\n", strings.Repeat("---|", len(cols)))

		floor := r.cycle[cFloor]
		row("uncontended lock + unlock (× floor)", func(c string) string {
			d, ok := r.cycle[c]
			if !ok {
				return ""
			}
			if floor == 0 {
				return us(d)
			}
			return fmt.Sprintf("%s (%.2f×)", us(d), float64(d)/float64(floor))
		})
		row("system calls per uncontended cycle (+ the runtime's)", func(c string) string {
			calls, ok := r.calls[c]
			if !ok {
				return ""
			}
			own, rt := calls.split()
			return fmt.Sprintf("%s (+%.1f)", num(own), math.Max(rt, 0))
		})
		row("allocations per uncontended cycle", func(c string) string {
			a, ok := r.allocs[c]
			if !ok || c == cFlufl || c == cCFloor {
				return ""
			}
			return fmt.Sprintf("%s (%s B)", num(a[0]), num(a[1]))
		})
		ps := make([]string, len(r.set.procs))
		for i, p := range r.set.procs {
			ps[i] = fmt.Sprint(p)
		}
		for _, fl := range []string{cFloor, cCFloor} {
			row(fmt.Sprintf("contended throughput, P = %s (× %s)", strings.Join(ps, " / "), r.floorName(fl)), func(c string) string {
				var cells []string
				for _, p := range r.set.procs {
					cells = append(cells, ratioTo(r.contend, c, p, fl))
				}
				return strings.Join(cells, " / ")
			})
		}
		row("lost updates, all contended runs", func(c string) string { return lost(r.contend[c]) })
		fa := r.set.fairnessAt
		row(fmt.Sprintf("fairness, P = %d, %v: slowest / fastest process", fa, r.set.span), func(c string) string {
			return fairness(r.contend[c], fa)
		})
		row(fmt.Sprintf("longest wait, P = %d", fa), func(c string) string {
			if res, ok := r.contend[c][fa]; ok {
				return dur(res.maxWait)
			}
			return ""
		})
		for _, wait := range r.set.handoffWaits {
			if len(r.handoff) == 0 {
				break
			}
			row(fmt.Sprintf("hand-off after waits of %s, p50 / p99 (p50 × floor, × C floor)", waitRange(wait)), func(c string) string {
				return handoffCell(r.handoff, c, wait)
			})
		}
		row("a waiting process's file operations per second", func(c string) string {
			if v, ok := r.waitOps[c]; ok {
				return fmt.Sprintf("%.0f", math.Max(v, 0))
			}
			return ""
		})
	}

	var rest strings.Builder
	for _, x := range r.across {
		rest.WriteString(x.markdown(r))
	}
	rest.WriteString(sharedMarkdown(r.set, r.set.span, r.rw, r.sem, []string{cNfslock, cFlock}))
	if mainTable {
		w("%s\n", rest.String())
	} else {
		w("%s\n", strings.TrimPrefix(rest.String(), "\n")) // right under the first line
	}
	if mainTable {
		w("* floor: the algorithm as bare `golang.org/x/sys/unix` calls with no checks (write the claim, date it, link; unlink twice), polling a busy lock every %v with nanosleep. C floor: the same system calls from C (`bench/csrc/cfloor.c`, compiled with gcc -O2), without a language runtime.\n", floorPoll)
		w("* Uncontended: one process locks and unlocks in a loop; the median of %d rounds that interleave the contenders. System calls: `strace -f` of %d cycles less %d, per cycle; in brackets the Go or Python runtime's own (futex, nanosleep, signals, memory, the poller).\n",
			r.set.cycleRounds, r.set.straceN[1], r.set.straceN[0])
		w("* Contended: P processes on one lock for %v, %s; under the lock a process reads a shared counter, holds the lock %v and writes the counter plus one. Throughput is cycles per second over the floor's at the same P (floor: %s). Fairness and the longest wait are those of the less fair run. Lost updates: the processes' cycles less the final counter.\n",
			r.set.span, passesText(r.set.passes), r.set.hold, r.floorRates())
		w("* Hand-off: two processes pass the lock back and forth; the holder, once the other is waiting, keeps it a random time in the range named (the other's wait) more, then releases it. From just before the release to the return of the other's lock; %s hand-offs after each wait (flufl.lock: at most %d).\n",
			joinInts(handoffCounts(r.set.handoffRounds), " / "), 2*(r.set.fluflRounds-1))
		w("* A waiting process's file operations: the system calls, other than the runtime's, of a process waiting for a lock that another host holds, per second (`strace -f` of a wait of %v less one of %v).\n",
			r.set.wait[1], r.set.wait[0])
	}
	for _, n := range r.notes {
		w("* %s\n", n)
	}
	return b.String()
}

// passesText says how many contended runs each contender had.
func passesText(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times (the runs of all contenders in turn, then again in the reverse order)", n)
}

// floorRates gives the floor's cycles per second at each P.
func (r *results) floorRates() string {
	var cells []string
	for _, p := range r.set.procs {
		if res, ok := r.contend[cFloor][p]; ok {
			cells = append(cells, fmt.Sprintf("%.0f", res.perSecond()))
		} else {
			cells = append(cells, "?")
		}
	}
	return strings.Join(cells, " / ") + " per second"
}

// floorName is how the rows' titles name the floor fl.
func (r *results) floorName(fl string) string {
	if fl == cCFloor {
		return "C floor"
	}
	return "floor"
}

// ratioTo is contender c's throughput at P = p over the floor fl's.
func ratioTo(m map[string]map[int]contended, c string, p int, fl string) string {
	res, ok := m[c][p]
	if !ok {
		return "?"
	}
	f, ok := m[fl][p]
	if !ok || f.total() == 0 {
		return fmt.Sprintf("%.0f/s", res.perSecond())
	}
	return fmt.Sprintf("%.2f", res.perSecond()/f.perSecond())
}

// handoffCell is c's hand-off p50 / p99 after waits of wait, with its p50
// over each floor's.
func handoffCell(m map[string]map[time.Duration][]time.Duration, c string, wait time.Duration) string {
	lat := m[c][wait]
	if len(lat) == 0 {
		return ""
	}
	var ratios []string
	for _, fl := range []string{cFloor, cCFloor} {
		if f := m[fl][wait]; len(f) > 0 {
			ratios = append(ratios, times(float64(percentile(lat, 50))/float64(percentile(f, 50))))
		} else {
			ratios = append(ratios, "?")
		}
	}
	return fmt.Sprintf("%s (%s)", p50p99(lat), strings.Join(ratios, ", "))
}

// times writes a ratio with two decimals, or three digits if it is 10 or
// more.
func times(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// waitRange names the range of a hand-off's waits, wait to 2 × wait.
func waitRange(wait time.Duration) string {
	a, b := dur(wait), dur(2*wait)
	if i := strings.IndexByte(a, ' '); i > 0 && strings.HasSuffix(b, a[i:]) {
		a = a[:i] // "1–2 ms", not "1 ms–2 ms"
	}
	return a + "–" + b
}

// handoffCounts is how many hand-offs are measured in rounds (the first
// round's two are left out).
func handoffCounts(rounds []int) []int {
	n := make([]int, len(rounds))
	for i, r := range rounds {
		n[i] = 2 * (r - 1)
	}
	return n
}

func lost(runs map[int]contended) string {
	if len(runs) == 0 {
		return ""
	}
	var n int64
	for _, res := range runs {
		n += res.lost
	}
	return fmt.Sprint(n)
}

func fairness(runs map[int]contended, p int) string {
	res, ok := runs[p]
	if !ok || len(res.counts) == 0 {
		return ""
	}
	lo, hi := slices.Min(res.counts), slices.Max(res.counts)
	if hi == 0 {
		return "0 / 0"
	}
	return fmt.Sprintf("%d / %d (%.2f)", lo, hi, float64(lo)/float64(hi))
}

func p50p99(lat []time.Duration) string {
	if len(lat) == 0 {
		return ""
	}
	return dur(percentile(lat, 50)) + " / " + dur(percentile(lat, 99))
}

// percentile returns the p-th percentile of the sorted durations d, by the
// nearest-rank method.
func percentile(d []time.Duration, p int) time.Duration {
	rank := (len(d)*p + 99) / 100
	return d[max(rank, 1)-1]
}

// dur writes d with three significant digits at most.
func dur(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return us(d)
	case d < time.Second:
		return fmt.Sprintf("%.3g ms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3g s", d.Seconds())
}

func us(d time.Duration) string { return fmt.Sprintf("%.3g µs", float64(d)/1e3) }

// num writes n with one decimal, or none if it is whole to within 0.05.
func num(n float64) string {
	if math.Abs(n-math.Round(n)) < 0.05 {
		return fmt.Sprintf("%.0f", n)
	}
	return fmt.Sprintf("%.1f", n)
}

// The targets of issues 12 and 23, checked for the maintainers on
// standard error. waitOpsBefore is what a waiting process made per second
// with the default backoff before issue 12 (1 ms doubling to 100 ms, each
// poll a link, a read and a stat of the lock file), as this program
// measured it on the code of main before the change: the bound for
// WithWatcher(false).
const waitOpsBefore = 96

// waitOpsIssue23 is a waiter's file operations per second, with
// WithWatcher(false), in the table of docs/performance.md when issue 23
// was filed: its bound for the waiters across clients.
const waitOpsIssue23 = 32

func (r *results) targets() string {
	var b, section strings.Builder
	var title string
	measured := false
	// A section is written out only if one of its checks could be made.
	flush := func() {
		if measured {
			b.WriteString(title)
			b.WriteString(section.String())
		}
		section.Reset()
		measured = false
	}
	begin := func(t string) { flush(); title = t }
	check := func(ok, known bool, what string) {
		mark := "ok  "
		switch {
		case !known:
			mark = "??  "
		case !ok:
			mark = "MISS"
		}
		measured = measured || known
		fmt.Fprintf(&section, "  %s %s\n", mark, what)
	}
	p50 := func(m map[string]map[time.Duration][]time.Duration, c string, wait time.Duration) (time.Duration, bool) {
		lat := m[c][wait]
		if len(lat) == 0 {
			return 0, false
		}
		return percentile(lat, 50), true
	}
	var short time.Duration // the shortest wait of the hand-offs, issue 12's
	if len(r.set.handoffWaits) > 0 {
		short = r.set.handoffWaits[0]
	}
	begin("targets of issue 12:\n")
	calls, known := r.calls[cNfslock]
	own, _ := calls.split()
	check(own <= 9, known, fmt.Sprintf("uncontended system calls %.1f <= 9", own))
	fl, nf := r.cycle[cFloor], r.cycle[cNfslock]
	check(float64(nf) <= 1.15*float64(fl), fl > 0 && nf > 0, fmt.Sprintf("uncontended time %v <= 1.15 × floor %v", nf, fl))
	for _, p := range r.set.procs {
		res, ok1 := r.contend[cNfslock][p]
		f, ok2 := r.contend[cFloor][p]
		ratio := res.perSecond() / f.perSecond()
		check(ratio >= 0.9, ok1 && ok2, fmt.Sprintf("defaults, P = %d: throughput %.2f >= 0.9 × floor", p, ratio))
	}
	fair := func(c string, want float64) {
		res, ok := r.contend[c][r.set.fairnessAt]
		v := res.spread()
		check(v >= want, ok && len(res.counts) > 0, fmt.Sprintf("%s, P = %d: slowest/fastest %.2f >= %.2f", c, r.set.fairnessAt, v, want))
	}
	fair(cNfslock, 0.67)
	handoff := func(c string, limit time.Duration) {
		d, ok := p50(r.handoff, c, short)
		check(d <= limit, ok, fmt.Sprintf("%s: hand-off p50 %v <= %v, waits of %s", c, d, limit, waitRange(short)))
	}
	handoff(cNfslock, 100*time.Microsecond)
	fair(cNoWatch, 0.25)
	res, ok := r.contend[cNoWatch][r.set.fairnessAt]
	check(res.maxWait <= time.Second, ok, fmt.Sprintf("%s, P = %d: longest wait %v <= 1s", cNoWatch, r.set.fairnessAt, res.maxWait))
	handoff(cNoWatch, 2*time.Millisecond)
	ops, ok := r.waitOps[cNoWatch]
	check(ops <= waitOpsBefore, ok, fmt.Sprintf("%s: a waiter's file operations %.0f/s <= %d/s (the default backoff before issue 12)", cNoWatch, ops, waitOpsBefore))
	var lostAll int64
	runs := 0
	for _, m := range r.contend {
		for _, res := range m {
			lostAll += res.lost
			runs++
		}
	}
	check(lostAll == 0, runs > 0, fmt.Sprintf("lost updates %d == 0", lostAll))

	begin("targets of issue 23 (one host):\n")
	for _, wait := range r.set.handoffWaits {
		d, ok1 := p50(r.handoff, cNfslock, wait)
		for _, f := range []string{cFloor, cCFloor} {
			fd, ok2 := p50(r.handoff, f, wait)
			check(d <= 2*fd, ok1 && ok2, fmt.Sprintf("defaults: hand-off p50 %v <= 2 × %s's %v, waits of %s", d, r.floorName(f), fd, waitRange(wait)))
		}
	}
	for _, x := range r.across {
		begin(fmt.Sprintf("targets of issue 23 (two %s clients):\n", x.rig.name))
		lostAll, runs = 0, 0
		for _, m := range x.contend {
			for _, res := range m {
				lostAll += res.lost
				runs++
			}
		}
		check(lostAll == 0, runs > 0, fmt.Sprintf("lost updates %d == 0", lostAll))
		for _, c := range []string{cNfslock, cNoWatch, cFair} {
			for _, p := range r.set.acrossProcs {
				res, ok1 := x.contend[c][p]
				f, ok2 := x.contend[cFloor][p]
				ratio := res.perSecond() / f.perSecond()
				check(ratio >= 0.8, ok1 && ok2, fmt.Sprintf("%s, P = %d: throughput %.2f >= 0.8 × floor", c, p, ratio))
				if want := 0.5; p >= 4 {
					if c == cFair {
						want = 0.8
					}
					check(res.spread() >= want, ok1, fmt.Sprintf("%s, P = %d: slowest/fastest %.2f >= %.1f", c, p, res.spread(), want))
				}
				check(res.maxWait <= 3*f.maxWait, ok1 && ok2, fmt.Sprintf("%s, P = %d: longest wait %v <= 3 × floor's %v", c, p, res.maxWait, f.maxWait))
			}
			for _, wait := range r.set.handoffWaits {
				d, ok1 := p50(x.handoff, c, wait)
				fd, ok2 := p50(x.handoff, cFloor, wait)
				check(d <= 2*fd, ok1 && ok2, fmt.Sprintf("%s: hand-off p50 %v <= 2 × floor's %v, waits of %s", c, d, fd, waitRange(wait)))
			}
		}
		ops, ok := x.waitOps[cNoWatch]
		check(ops <= waitOpsIssue23, ok, fmt.Sprintf("%s: a waiter's system calls %.0f/s <= %d/s (on tmpfs when issue 23 was filed)", cNoWatch, ops, waitOpsIssue23))
	}
	flush()
	return b.String()
}
