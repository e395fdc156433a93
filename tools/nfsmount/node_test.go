//go:build linux

package main

import (
	"testing"
	"time"

	"github.com/nfslock/nfslock/tools/nfsmount/internal/nfs3"
)

func TestAttributeCacheTimes(t *testing.T) {
	o := defaultOptions()
	n := &node{}
	file := nfs3.Attr{Type: nfs3.TypeReg, Size: 1, Mtime: nfs3.Time{Sec: 100}}
	steps := []struct {
		what         string
		attr         nfs3.Attr
		revalidation bool
		want         time.Duration
	}{
		{"first attributes", file, false, 3 * time.Second},
		{"revalidated, unchanged", file, true, 6 * time.Second},
		{"revalidated, unchanged again", file, true, 12 * time.Second},
		{"the same attributes in a reply to another call", file, false, 12 * time.Second},
		{"revalidated, unchanged", file, true, 24 * time.Second},
		{"revalidated, unchanged", file, true, 48 * time.Second},
		{"revalidated, unchanged: at acregmax", file, true, 60 * time.Second},
		{"changed (mtime)", nfs3.Attr{Type: nfs3.TypeReg, Size: 1, Mtime: nfs3.Time{Sec: 101}}, true, 3 * time.Second},
	}
	for _, s := range steps {
		n.update(&o, s.attr, s.revalidation)
		if n.attrTimeo != s.want {
			t.Errorf("%s: attributes valid for %v, want %v", s.what, n.attrTimeo, s.want)
		}
	}
	if _, ok := n.cached(&o); !ok {
		t.Error("attributes just received are not cached")
	}
	n.invalidate()
	if _, ok := n.cached(&o); ok {
		t.Error("attributes still cached after invalidate")
	}

	noac := defaultOptions()
	parseOptions(&noac, "noac")
	m := &node{}
	m.update(&noac, file, false)
	if _, ok := m.cached(&noac); ok || m.remaining(&noac) != 0 {
		t.Errorf("noac: attributes cached (remaining %v), want never", m.remaining(&noac))
	}
}

func TestLookupCacheFollowsDirectory(t *testing.T) {
	o := defaultOptions()
	dirAt := func(mtime uint32) nfs3.Attr {
		return nfs3.Attr{Type: nfs3.TypeDir, Size: 4096, Mtime: nfs3.Time{Sec: mtime}, Ctime: nfs3.Time{Sec: mtime}}
	}
	wcc := func(before, after uint32) nfs3.Wcc {
		a := dirAt(after)
		return nfs3.Wcc{Before: &nfs3.WccAttr{Size: 4096, Mtime: nfs3.Time{Sec: before}, Ctime: nfs3.Time{Sec: before}}, After: &a}
	}
	d := &node{}
	d.update(&o, dirAt(1), false)
	d.setDent("lock", nfs3.FH{1})
	d.setDent("absent", nil)
	if fh, ok := d.dent("lock"); !ok || fh == nil {
		t.Fatalf("a name just cached: %v, %v", fh, ok)
	}

	// This client's own change (the directory was as cached before it):
	// the names stay, edited.
	d.changedDir(&o, wcc(1, 2), func(m map[string]nfs3.FH) { m["absent"] = nfs3.FH{2} })
	if fh, ok := d.dent("absent"); !ok || fh == nil {
		t.Errorf("after this client made it: %v, %v; want the new handle", fh, ok)
	}
	if _, ok := d.dent("lock"); !ok {
		t.Error("after this client's change, the other names are forgotten; want them kept")
	}

	// A change by another client shows in the directory's attributes:
	// the names go.
	d.update(&o, dirAt(5), true)
	if _, ok := d.dent("lock"); ok {
		t.Error("after another client changed the directory, a cached name is still used")
	}

	// Another client changed it before this client's change: the
	// before-attributes do not match, the names go.
	d.setDent("lock", nfs3.FH{1})
	d.changedDir(&o, wcc(6, 7), func(m map[string]nfs3.FH) {})
	if _, ok := d.dent("lock"); ok {
		t.Error("after a change this client did not see coming, a cached name is still used")
	}
}

func TestForcedLookup(t *testing.T) {
	d := &node{}
	if d.forced("x") {
		t.Error("a name the kernel was never told: forced, want not")
	}
	d.tell("x", time.Hour)
	if !d.forced("x") {
		t.Error("a lookup of a name the kernel may still use: not forced, want forced (O_EXCL, rename target, ESTALE retry)")
	}
	d.tell("x", 0)
	if d.forced("x") {
		t.Error("a name told with no timeout: forced, want not")
	}
	d.tell("y", time.Nanosecond)
	time.Sleep(time.Millisecond)
	if d.forced("y") {
		t.Error("a lookup after the kernel's entry expired: forced, want not")
	}
}
