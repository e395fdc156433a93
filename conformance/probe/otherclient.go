package probe

import (
	"os"
	"path/filepath"
	"time"
)

// CacheWait bounds how long Probe waits for a change made through one
// client to show through the other.
const CacheWait = 30 * time.Second

// otherClient measures, both ways, how long a modification time set through
// one client takes to show through the other.
func (p prober) otherClient(c *Capabilities) (err error) {
	for _, m := range []struct {
		from, to, name string
		read           bool
		d              *time.Duration
	}{
		{p.dir, p.other, "cache-forward", false, &c.OtherClientDelay},
		{p.dir, p.other, "cache-forward-read", true, &c.OtherClientReadDelay},
		{p.other, p.dir, "cache-reverse", false, &c.ReverseDelay},
		{p.other, p.dir, "cache-reverse-read", true, &c.ReverseReadDelay},
	} {
		if *m.d, err = cacheDelay(m.from, m.to, m.name, m.read); err != nil {
			return err
		}
	}
	return nil
}

// cacheDelay sets the modification time of a file through from and returns
// how long it takes to show through to: 0 for at once, -1 for not within
// CacheWait. The file is first looked at through to, as a waiter would, so
// that a cache there holds the old time. Plain os calls, not the backend's,
// so that what a client caches shows.
func cacheDelay(from, to, base string, read bool) (time.Duration, error) {
	// A name of its own: a client that caches entries may still believe
	// in a name the other client removed.
	name := filepath.Join(from, base)
	if err := os.WriteFile(name, []byte("x"), 0o666); err != nil {
		return 0, err
	}
	defer os.Remove(name)
	seen := filepath.Join(to, base)
	before, err := waitStat(seen, showPatience)
	if err != nil {
		return 0, err
	}
	want := before.ModTime().Add(time.Hour).Truncate(time.Second)
	if err := os.Chtimes(name, want, want); err != nil {
		return 0, err
	}
	start := time.Now()
	for {
		if read {
			os.ReadFile(seen)
		}
		fi, err := os.Stat(seen)
		if err == nil && fi.ModTime().Equal(want) {
			if d := time.Since(start); d >= 5*time.Millisecond {
				return d, nil
			}
			return 0, nil
		}
		if time.Since(start) > CacheWait {
			return -1, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}
