package probe

import (
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// Latency is how long calls through a mount take.
type Latency struct {
	Stat Timing // a Stat of an existing file
	Link Timing // a Link onto a free name and the Remove of that name
}

// Timing sums up the durations of N calls alike.
type Timing struct {
	Median, Max time.Duration
	N           int
}

// PerCall is the median duration of one call: the slower of a Stat and half
// a link-and-remove round.
func (l Latency) PerCall() time.Duration { return max(l.Stat.Median, l.Link.Median/2) }

// How many calls Latency times: enough for a median that one slow call
// (a scheduling delay, a server's hiccup) does not move.
const (
	statSamples = 25
	linkSamples = 15
)

// MeasureLatency times calls of fsys in a fresh subdirectory of dir, as Probe
// does for Capabilities.Latency, and removes it: for a caller that needs the
// latency alone, which costs some forty calls.
func MeasureLatency(fsys locker.FS, dir string) (Latency, error) {
	sub, err := os.MkdirTemp(dir, "nfslock-latency-*")
	if err != nil {
		return Latency{}, fmt.Errorf("probe: %w", err)
	}
	defer os.RemoveAll(sub)
	p := prober{fsys: fsys, dir: sub, other: sub}
	var c Capabilities
	if err := p.latency(&c); err != nil {
		return c.Latency, fmt.Errorf("probe: %w", err)
	}
	return c.Latency, nil
}

func (p prober) latency(c *Capabilities) error {
	a := p.path("latency")
	if err := p.write(a, "a"); err != nil {
		return err
	}
	defer p.fsys.Remove(a)
	var stats []time.Duration
	for range statSamples {
		start := time.Now()
		if _, err := p.fsys.Stat(a); err != nil {
			return err
		}
		stats = append(stats, time.Since(start))
	}
	c.Latency.Stat = timing(stats)
	if c.LinkError != "" {
		return nil // no links to time
	}
	b := p.path("latency-link")
	var links []time.Duration
	for range linkSamples {
		start := time.Now()
		if err := p.link(a, b); err != nil {
			return fmt.Errorf("timing links: %w", err)
		}
		if err := p.remove(b); err != nil {
			return fmt.Errorf("timing links: %w", err)
		}
		links = append(links, time.Since(start))
	}
	c.Latency.Link = timing(links)
	return nil
}

// timing sums up samples (which it sorts).
func timing(samples []time.Duration) Timing {
	if len(samples) == 0 {
		return Timing{}
	}
	slices.Sort(samples)
	return Timing{Median: samples[len(samples)/2], Max: samples[len(samples)-1], N: len(samples)}
}
