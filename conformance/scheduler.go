package conformance

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	memfs "github.com/nfslock/nfslock/backend-memfs"
	"github.com/nfslock/nfslock/locker"
	"pgregory.net/rapid"
)

// scheduler runs several actors (goroutines, each driving one lock) one at a
// time. Every backend call an actor makes is a scheduling point: the actor
// stops there until the scheduler lets it go on, and rapid chooses which of
// the stopped actors goes next. Since only one actor runs at a time and they
// interact only through the backend, a sequence of choices determines the
// whole run, and rapid can shrink a failing one to a minimal trace.
type scheduler struct {
	events chan event
	trace  *trace

	mu   sync.Mutex
	free bool // not scheduling (before start and after run): points do not stop
}

type event struct {
	actor int
	desc  string    // the call about to be made; "" when the actor is done
	goOn  chan bool // receives, when the actor may go on, whether every other actor is between operations
}

func newScheduler(tr *trace) *scheduler {
	return &scheduler{events: make(chan event), trace: tr, free: true}
}

// start makes points stop from now on, until run returns.
func (s *scheduler) start() {
	s.mu.Lock()
	s.free = false
	s.mu.Unlock()
}

// point stops actor until the scheduler chooses it. desc describes the call
// it is about to make. It returns whether every other actor was between
// operations (or done) when this one was let go.
func (s *scheduler) point(actor int, desc string) (othersIdle bool) {
	s.mu.Lock()
	free := s.free
	s.mu.Unlock()
	if free {
		return true
	}
	goOn := make(chan bool, 1)
	s.events <- event{actor: actor, desc: desc, goOn: goOn}
	return <-goOn
}

// done tells the scheduler that actor has finished.
func (s *scheduler) done(actor int) { s.events <- event{actor: actor} }

// run schedules n actors, already started, until all are done. Before each
// choice it calls check with the descriptions of the stopped actors' next
// steps; check may fail t. extras names further choices
// besides the stopped actors (such as advancing the clock); choosing extra
// choice k calls onExtra(k).
func (s *scheduler) run(t *rapid.T, n int, check func(stopped []string), extras func() []string, onExtra func(k int)) {
	stopped := map[int]event{}
	running := n
	for {
		for running > 0 {
			select {
			case e := <-s.events:
				running--
				if e.desc != "" {
					stopped[e.actor] = e
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("an actor neither reached a backend call nor finished within 10s: a lock is blocked outside the backend\n%s", s.trace)
			}
		}
		ids := slices.Sorted(maps.Keys(stopped))
		var next []string
		for _, id := range ids {
			next = append(next, stopped[id].desc)
		}
		check(next)
		if len(stopped) == 0 {
			break
		}
		ex := extras()
		k := rapid.IntRange(0, len(ids)+len(ex)-1).Draw(t, "next")
		if k >= len(ids) {
			onExtra(k - len(ids))
			continue
		}
		e := stopped[ids[k]]
		delete(stopped, e.actor)
		running++
		othersIdle := true
		for _, o := range stopped {
			othersIdle = othersIdle && strings.HasPrefix(o.desc, opStart)
		}
		e.goOn <- othersIdle
	}
	s.mu.Lock()
	s.free = true
	s.mu.Unlock()
}

// trace is the numbered log of a run: every backend call with its result,
// every lock operation and every clock change, in the order they happened.
type trace struct {
	mu    sync.Mutex
	dir   string
	start time.Time
	lines []string
	steps map[string][]int // each actor's steps, by line number
}

func (tr *trace) add(format string, args ...any) { tr.addBy("", format, args...) }

// addBy adds a line about actor's doing.
func (tr *trace) addBy(actor, format string, args ...any) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	if actor != "" {
		line = "[" + actor + "] " + line
		if tr.steps == nil {
			tr.steps = map[string][]int{}
		}
		tr.steps[actor] = append(tr.steps[actor], len(tr.lines)+1)
	}
	tr.lines = append(tr.lines, line)
}

// short makes the names in s relative to the lock directory.
func (tr *trace) short(s string) string {
	return strings.ReplaceAll(s, tr.dir+string(filepath.Separator), "")
}

func (tr *trace) String() string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var b strings.Builder
	for i, l := range tr.lines {
		fmt.Fprintf(&b, "%4d. %s\n", i+1, l)
	}
	for _, actor := range slices.Sorted(maps.Keys(tr.steps)) {
		fmt.Fprintf(&b, "      %s's steps: %v\n", actor, tr.steps[actor])
	}
	return b.String()
}

// scheduledFS makes each call of one actor a scheduling point, and logs it.
type scheduledFS struct {
	inner locker.FS
	s     *scheduler
	tr    *trace
	actor int
	name  string
}

func (f *scheduledFS) call(desc string, op func() error) error {
	return f.callShow(desc, op, func() string { return "ok" })
}

// callShow is call, with show describing a successful result.
func (f *scheduledFS) callShow(desc string, op func() error, show func() string) error {
	desc = f.tr.short(desc)
	f.s.point(f.actor, desc)
	err := op()
	res := "error: "
	if err != nil {
		res += f.tr.short(err.Error())
	} else {
		res = show()
	}
	f.tr.addBy(f.name, "%s = %s", desc, res)
	return err
}

func (f *scheduledFS) WriteFile(name string, data []byte, perm fs.FileMode) error {
	return f.call(fmt.Sprintf("WriteFile(%s)", name), func() error { return f.inner.WriteFile(name, data, perm) })
}

func (f *scheduledFS) ReadFile(name string) (data []byte, err error) {
	err = f.callShow(fmt.Sprintf("ReadFile(%s)", name), func() error {
		data, err = f.inner.ReadFile(name)
		return err
	}, func() string { return fmt.Sprintf("%q", f.tr.short(string(data))) })
	return data, err
}

func (f *scheduledFS) Link(oldname, newname string) error {
	return f.call(fmt.Sprintf("Link(%s, %s)", oldname, newname), func() error { return f.inner.Link(oldname, newname) })
}

func (f *scheduledFS) Stat(name string) (fi locker.FileInfo, err error) {
	err = f.callShow(fmt.Sprintf("Stat(%s)", name), func() error {
		fi, err = f.inner.Stat(name)
		return err
	}, func() string { return fmt.Sprintf("links %d, mtime %v", fi.Links, fi.ModTime.Sub(f.tr.start)) })
	return fi, err
}

func (f *scheduledFS) Chtimes(name string, atime, mtime time.Time) error {
	return f.call(fmt.Sprintf("Chtimes(%s, %s)", name, mtime.Sub(f.tr.start)), func() error { return f.inner.Chtimes(name, atime, mtime) })
}

func (f *scheduledFS) Rename(oldname, newname string) error {
	return f.call(fmt.Sprintf("Rename(%s, %s)", oldname, newname), func() error { return f.inner.Rename(oldname, newname) })
}

func (f *scheduledFS) Remove(name string) error {
	return f.call(fmt.Sprintf("Remove(%s)", name), func() error { return f.inner.Remove(name) })
}

// scheduledClock is an actor's clock. Its Sleep is a scheduling point; the
// virtual time moves on by the sleep only if every other actor is between
// operations, so that no actor is stalled inside an operation for longer
// than the interleaving property allows.
type scheduledClock struct {
	clk   *memfs.Clock
	s     *scheduler
	tr    *trace
	actor int
	name  string
}

func (c *scheduledClock) Now() time.Time { return c.clk.Now() }

func (c *scheduledClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.s.point(c.actor, fmt.Sprintf("Sleep(%v)", d)) {
		c.clk.Advance(d)
		c.tr.addBy(c.name, "slept %v; clock %v", d, c.clk.Now().Sub(c.tr.start))
	} else {
		c.tr.addBy(c.name, "slept %v while others were busy; the clock stays at %v", d, c.clk.Now().Sub(c.tr.start))
	}
	return ctx.Err()
}

// ProcessAlive is not a scheduling point: it changes nothing.
func (f *scheduledFS) ProcessAlive(host string, pid int) (bool, error) {
	if pc, ok := f.inner.(locker.ProcessChecker); ok {
		return pc.ProcessAlive(host, pid)
	}
	return true, nil
}
