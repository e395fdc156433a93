package probe

import (
	"fmt"
	"strings"
	"time"
)

// String is the capability report, one capability a line.
func (c *Capabilities) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "filesystem capabilities of %s", c.Dir)
	if c.Dir2 != "" {
		fmt.Fprintf(&b, " (second client: %s)", c.Dir2)
	}
	b.WriteString(":\n")
	row := func(k, format string, args ...any) { fmt.Fprintf(&b, "  %-28s %s\n", k, fmt.Sprintf(format, args...)) }
	row("latency", "%s", c.Latency)
	row("timestamp granularity", "%v set, %v stamped by the server on writes", showGranularity(c.Granularity), showGranularity(c.StampGranularity))
	sign := "+"
	if c.ClockOffset < 0 {
		sign = ""
	}
	row("server clock", "%s%v ± %v from this host's", sign, round(c.ClockOffset), round(c.ClockUncertainty))
	if c.LinkError != "" {
		row("hard links", "NOT made: %s", c.LinkError)
		return b.String()
	}
	if c.LinkCounts {
		row("link counts", "reported (a file with a second link shows 2)")
	} else {
		row("link counts", "NOT reported (a file with a second link shows %d): ownership is decided by the claim name alone", c.LinksAfterLink)
	}
	losing := c.LosingLink
	switch {
	case c.LosingLinkReplaced:
		losing += ", and it REPLACED the name"
	case !c.LosingLinkExists:
		losing += `, NOT taken as "exists" by the backend`
	}
	row("losing link", "%s", losing)
	r := c.LinkRace
	race := fmt.Sprintf("%d racers × %d rounds", r.Racers, r.Rounds)
	if c.Dir2 != "" {
		race += " (half through each client)"
	}
	if r.Exclusive() {
		race += ": one winner each"
	} else {
		race += fmt.Sprintf(": %d to %d winners a round (NOT EXCLUSIVE)", r.MinWinners, r.MaxWinners)
	}
	row("link race", "%s; losers saw %s", race, strings.Join(r.Errors, ", "))
	for _, m := range r.Mixups {
		row("", "%s", m)
	}
	switch {
	case c.RenameError != "":
		row("rename over a name", "FAILS: %s", c.RenameError)
	case !c.RenameReplaces:
		row("rename over a name", "does NOT replace it")
	case c.RenameAtomic:
		row("rename over a name", "atomic (the name never went missing in %d replacements)", c.RenameRounds)
	default:
		row("rename over a name", "NOT atomic: the name went missing during %d replacements", c.RenameRounds)
	}
	switch {
	case c.RemoveOpenError != "":
		row("removed while open", "NOT removed: %s", c.RemoveOpenError)
	case len(c.ClientNames) == 0:
		row("removed while open", "no client-side name left")
	default:
		row("removed while open", "the client keeps it as %q until the last close (gone %v after it)", c.ClientNames, round(c.ClientNamesLinger))
	}
	if c.Dir2 != "" {
		row("mtime change, -dir to -dir2", "stat: %s; read, then stat: %s", showDelay(c.OtherClientDelay), showDelay(c.OtherClientReadDelay))
		row("mtime change, -dir2 to -dir", "stat: %s; read, then stat: %s", showDelay(c.ReverseDelay), showDelay(c.ReverseReadDelay))
	}
	return b.String()
}

// String describes the latency on one line.
func (l Latency) String() string {
	return fmt.Sprintf("stat %v (longest %v), link and remove %v (longest %v): medians of %d and %d",
		round(l.Stat.Median), round(l.Stat.Max), round(l.Link.Median), round(l.Link.Max), l.Stat.N, l.Link.N)
}

func showDelay(d time.Duration) string {
	switch {
	case d == 0:
		return "seen at once"
	case d < 0:
		return fmt.Sprintf("NOT seen within %v", CacheWait)
	}
	return fmt.Sprintf("seen after %v", round(d))
}

func showGranularity(g time.Duration) string {
	if g < 0 {
		return "unknown"
	}
	return g.String()
}

// round rounds d to three significant digits, for a report.
func round(d time.Duration) time.Duration {
	unit := time.Duration(1)
	for unit*100 <= d.Abs()/10 {
		unit *= 10
	}
	return d.Round(unit)
}
