package probe

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
)

// links: a link to a free name works and shows in the link counts; a link
// onto an existing name fails, with an error the backend reports as
// "exists", and leaves the name alone.
func (p prober) links(c *Capabilities) error {
	a, b, lock := p.path("link-a"), p.path("link-b"), p.path("link")
	if err := p.write(a, "a"); err != nil {
		return err
	}
	defer p.fsys.Remove(a)
	if err := p.write(b, "b"); err != nil {
		return err
	}
	defer p.fsys.Remove(b)
	if err := p.link(a, lock); err != nil {
		c.LinkError = err.Error()
		return nil
	}
	defer p.fsys.Remove(lock)
	fi, err := p.fsys.Stat(a)
	if err != nil {
		return err
	}
	c.LinksAfterLink = fi.Links
	c.LinkCounts = fi.Links == 2
	// The filesystem's own answer, then the backend's reading of it.
	raw := os.Link(b, lock)
	c.LosingLink = ErrnoName(raw)
	if raw == nil {
		c.LosingLinkReplaced = true
		return nil
	}
	c.LosingLinkExists = errors.Is(p.fsys.Link(b, lock), fs.ErrExist)
	if data, err := p.fsys.ReadFile(lock); err != nil || string(data) != "a" {
		c.LosingLinkReplaced = true
	}
	return nil
}

// LinkRace is what happened when Racers linked their own files onto one
// free name at once, in each of Rounds rounds.
type LinkRace struct {
	Rounds, Racers int
	// MinWinners and MaxWinners are the fewest and most racers whose link
	// succeeded in a round: both 1 where link is exclusive.
	MinWinners, MaxWinners int
	// Errors are the losers' errors, each once, as ErrnoName gives them
	// (sshfs: EPERM across clients instead of EEXIST, as SFTP version 3
	// has no "file exists").
	Errors []string
	// Mixups are the rounds in which the name did not hold the file of the
	// racer whose link succeeded, each described.
	Mixups []string
}

// linkRace races a few racers onto one free name, round after round,
// half of them through the second client if there is one. The links are
// the system's own (os.Link), so that the losers' errors are what the
// filesystem answers.
func (p prober) linkRace(c *Capabilities) error {
	const rounds, racers = 30, 4
	if c.LinkError != "" {
		return nil
	}
	r := &c.LinkRace
	r.Rounds, r.Racers, r.MinWinners = rounds, racers, racers
	// Racer i works through dirs[i%2].
	dirs := [2]string{p.dir, p.other}
	src := func(i int) string { return filepath.Join(dirs[i%2], "racer"+strconv.Itoa(i)) }
	for i := range racers {
		if err := p.write(p.path("racer"+strconv.Itoa(i)), strconv.Itoa(i)); err != nil {
			return err
		}
		defer p.fsys.Remove(p.path("racer" + strconv.Itoa(i)))
	}
	if p.twoClients {
		for i := range racers {
			if _, err := waitStat(src(i), showPatience); err != nil {
				return err
			}
		}
	}
	seen := map[string]bool{}
	for round := range rounds {
		target := "race" + strconv.Itoa(round)
		errs := make([]error, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Go(func() {
				<-start
				errs[i] = os.Link(src(i), filepath.Join(dirs[i%2], target))
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i, err := range errs {
			at := filepath.Join(dirs[i%2], target)
			if err != nil && !(errors.Is(err, fs.ErrExist) && p.holds(at, strconv.Itoa(i))) {
				seen[ErrnoName(err)] = true
				continue
			}
			// A winner, or one whose reply was lost: the name holds its
			// file (its own contents).
			winners++
			if data, err := p.fsys.ReadFile(at); err != nil || string(data) != strconv.Itoa(i) {
				r.Mixups = append(r.Mixups, fmt.Sprintf("round %d: racer %d won, but %s holds %q (%v)", round, i, at, data, err))
			}
		}
		r.MinWinners = min(r.MinWinners, winners)
		r.MaxWinners = max(r.MaxWinners, winners)
		p.fsys.Remove(p.path(target))
	}
	for e := range seen {
		r.Errors = append(r.Errors, e)
	}
	slices.Sort(r.Errors)
	return nil
}

// holds reports whether name can be read and holds contents.
func (p prober) holds(name, contents string) bool {
	data, err := p.fsys.ReadFile(name)
	return err == nil && string(data) == contents
}

// Exclusive reports whether exactly one racer won every round.
func (r LinkRace) Exclusive() bool {
	return r.Rounds > 0 && r.MinWinners == 1 && r.MaxWinners == 1
}
