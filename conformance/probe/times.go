package probe

import (
	"fmt"
	"slices"
	"time"
)

// times measures the granularity of times set and stamped, and the file
// server's clock offset from the stamps.
func (p prober) times(c *Capabilities) error {
	name := p.path("granularity")
	if err := p.write(name, "t"); err != nil {
		return err
	}
	defer p.fsys.Remove(name)
	// Every digit down to the nanosecond, an hour ahead as a lock's expiry.
	want := time.Unix(time.Now().Unix()+3600, 987654321)
	if err := p.fsys.Chtimes(name, want, want); err != nil {
		return err
	}
	fi, err := p.fsys.Stat(name)
	if err != nil {
		return err
	}
	c.TimeSet, c.TimeRead = want, fi.ModTime
	c.Granularity = granularityOf(fi.ModTime, want)

	// Fresh files, each timed: the server stamps a time within the write,
	// truncated to its granularity. Several, since a stamp can land on a
	// whole second by chance, and for the median offset.
	const samples = 5
	var stamps []time.Time
	var mids, halves []time.Duration
	for i := range samples {
		n := p.path(fmt.Sprint("stamp", i))
		t0 := time.Now()
		if err := p.write(n, "s"); err != nil {
			return err
		}
		t1 := time.Now()
		fi, err := p.fsys.Stat(n)
		p.fsys.Remove(n)
		if err != nil {
			return err
		}
		stamps = append(stamps, fi.ModTime)
		mid := t0.Add(t1.Sub(t0) / 2)
		mids = append(mids, fi.ModTime.Sub(mid))
		halves = append(halves, t1.Sub(t0)/2)
	}
	c.StampGranularity = time.Second
	for _, s := range stamps {
		c.StampGranularity = min(c.StampGranularity, stampGranularity(s))
	}
	gran := max(c.TimeGranularity(), 1)
	offsets := make([]time.Duration, len(mids))
	for i, m := range mids {
		offsets[i] = m + gran/2 // a truncated stamp is half a granule early on average
	}
	slices.Sort(offsets)
	c.ClockOffset = offsets[len(offsets)/2]
	// Local filesystems stamp files with the kernel's coarse clock, a tick
	// (a few ms) behind: the samples' spread shows that too.
	c.ClockUncertainty = max(slices.Max(halves)+gran/2, (offsets[len(offsets)-1]-offsets[0])/2)
	return nil
}

// granularities are the usual steps in which filesystems keep times, finest
// first.
var granularities = []time.Duration{
	time.Nanosecond, 10 * time.Nanosecond, 100 * time.Nanosecond,
	time.Microsecond, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond,
	time.Second, 2 * time.Second,
}

// granularityOf returns the finest of the usual granularities to which got
// is want truncated or rounded, or -1.
func granularityOf(got, want time.Time) time.Duration {
	for _, g := range granularities {
		if got.Equal(want.Truncate(g)) || got.Equal(want.Round(g)) {
			return g
		}
	}
	return -1
}

// stampGranularity guesses the granularity of a time stamped by the server
// from its trailing zeros: at most a second.
func stampGranularity(t time.Time) time.Duration {
	ns := t.Nanosecond()
	g := time.Duration(1)
	for g < time.Second && ns%10 == 0 {
		ns /= 10
		g *= 10
	}
	return g
}
