package conformance

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// Capabilities is what Probe found that a filesystem does of what the lock
// relies on. The suite adapts to it: lifetimes scale with the timestamp
// granularity, the ownership rule falls back to the claim name where link
// counts are missing, files the filesystem's client makes are told apart from
// the lock's, and checks that cannot apply are skipped naming the capability.
type Capabilities struct {
	Dir  string // the directory probed
	Dir2 string // the same directory through a second client, or ""

	// Granularity is how finely the filesystem stores a modification time
	// set with Chtimes (1ns on ext4 and tmpfs, 100ns on NTFS, 1s on sshfs).
	Granularity time.Duration
	// StampGranularity is the same for the time the server stamps on a file
	// it has just written (1s on sshfs, whose server may keep nanoseconds
	// but SFTP version 3 carries whole seconds).
	StampGranularity time.Duration
	// LinkCounts reports whether a file with a second hard link shows two
	// links (false on sshfs: SFTP has no link count and every file shows 1).
	LinkCounts bool
	// LosingLink is the error of a link onto an existing name made through
	// one client; LosingLinkRace the set of errors seen when two clients
	// (Dir and Dir2) race to link onto one free name (sshfs: EPERM
	// instead of EEXIST, as SFTP version 3 has no "file exists").
	LosingLink     string
	LosingLinkRace []string
	// RenameAtomic reports whether a name being replaced with rename was
	// always seen (through Dir2, or Dir) during RenameRounds replacements.
	RenameAtomic bool
	RenameRounds int
	// ClientNames are the names the client gave files removed while still
	// open (".nfs" on NFS, ".fuse_hidden" on FUSE filesystems such as
	// sshfs); ClientNamesLinger how long they stayed after the last close.
	ClientNames       []string
	ClientNamesLinger time.Duration
	// OtherClientDelay is how long a modification time set through Dir took
	// to show through Dir2, and ReverseDelay the same from Dir2 to Dir (0: at
	// once; negative: not within ProbeCacheWait). Attribute caches show
	// here: a waiter behind one sees the holder's refreshes late.
	OtherClientDelay time.Duration
	ReverseDelay     time.Duration
	// OtherClientReadDelay and ReverseReadDelay are the same delays when
	// the file is opened and read before each stat, as the lock reads a
	// lock file before it looks at its expiry (opening a file revalidates
	// some clients' caches: NFS's close-to-open consistency, sshfs's own
	// cache).
	OtherClientReadDelay time.Duration
	ReverseReadDelay     time.Duration
}

// ProbeCacheWait bounds how long Probe waits for a change made through one
// client to show through the other.
const ProbeCacheWait = 30 * time.Second

// clientPrefixes are the prefixes of names that clients give files removed
// while open: NFS's "silly rename" and FUSE's hidden files.
var clientPrefixes = []string{".nfs", ".fuse_hidden", ".smbdeleteAAA"}

// IsClientFile reports whether name (a base name) has the form a network
// filesystem's client gives a file removed while still open. Such files are
// the client's, not the lock's: they go when the last handle closes.
func IsClientFile(name string) bool {
	for _, p := range clientPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// Probe finds out what the filesystem under dir does that the lock relies
// on, in a fresh subdirectory of dir that it removes afterwards. dir2, if not
// empty, is the same directory reached through another client (a second
// mount of the same export): link races and attribute caches are probed
// across the two. fsys is the backend used to set and read times.
func Probe(fsys locker.FS, dir, dir2 string) (*Capabilities, error) {
	sub, err := os.MkdirTemp(dir, "nfslock-probe-*")
	if err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	defer os.RemoveAll(sub)
	c := &Capabilities{Dir: dir, Dir2: dir2}
	other := sub
	if dir2 != "" {
		other = filepath.Join(dir2, filepath.Base(sub))
		if _, err := waitStat(other, 5*time.Second); err != nil {
			return nil, fmt.Errorf("probe: %s made through -dir is not visible through -dir2 as %s: is -dir2 the same directory? %w", sub, other, err)
		}
	}
	p := prober{fsys: fsys, dir: sub, other: other}
	steps := []func(*Capabilities) error{p.granularity, p.links, p.rename, p.clientNames}
	if dir2 != "" {
		steps = append(steps, p.linkRace, p.otherClient)
	}
	for _, step := range steps {
		if err := step(c); err != nil {
			return c, fmt.Errorf("probe: %w", err)
		}
	}
	return c, nil
}

type prober struct {
	fsys  locker.FS
	dir   string // a fresh directory
	other string // dir through the second client, or dir itself
}

func (p prober) path(name string) string { return filepath.Join(p.dir, name) }

func (p prober) granularity(c *Capabilities) error {
	name := p.path("granularity")
	if err := p.fsys.WriteFile(name, nil, 0o666); err != nil {
		return err
	}
	defer os.Remove(name)
	want := time.Unix(time.Now().Unix()+3600, 987654321)
	if err := p.fsys.Chtimes(name, want, want); err != nil {
		return err
	}
	fi, err := p.fsys.Stat(name)
	if err != nil {
		return err
	}
	c.Granularity = granularityOf(fi.ModTime, want)
	// What the server stamps on fresh writes: a few files, since a stamp
	// can land on a whole second by chance.
	finest := time.Duration(0)
	for i := range 3 {
		n := p.path(fmt.Sprint("stamp", i))
		if err := p.fsys.WriteFile(n, []byte("x"), 0o666); err != nil {
			return err
		}
		fi, err := p.fsys.Stat(n)
		os.Remove(n)
		if err != nil {
			return err
		}
		g := stampGranularity(fi.ModTime)
		if finest == 0 || g < finest {
			finest = g
		}
	}
	c.StampGranularity = finest
	return nil
}

// granularityOf returns the coarsest of the usual granularities to which
// got is want truncated or rounded.
func granularityOf(got, want time.Time) time.Duration {
	for _, g := range []time.Duration{1, time.Microsecond, 100, time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, time.Second, 2 * time.Second} {
		if got.Equal(want.Truncate(g)) || got.Equal(want.Round(g)) {
			return g
		}
	}
	return -1
}

// stampGranularity guesses the granularity of a time stamped by the server
// from its trailing zeros.
func stampGranularity(t time.Time) time.Duration {
	ns := t.Nanosecond()
	g := time.Duration(1)
	for g < time.Second && ns%10 == 0 {
		ns /= 10
		g *= 10
	}
	return g
}

func (p prober) links(c *Capabilities) error {
	a, b := p.path("link-a"), p.path("link-b")
	if err := os.WriteFile(a, []byte("a"), 0o666); err != nil {
		return err
	}
	defer os.Remove(a)
	if err := os.Link(a, b); err != nil {
		return fmt.Errorf("the filesystem cannot make hard links, which the lock needs: %w", err)
	}
	defer os.Remove(b)
	fi, err := p.fsys.Stat(a)
	if err != nil {
		return err
	}
	c.LinkCounts = fi.Links == 2
	x := p.path("link-x")
	if err := os.WriteFile(x, []byte("x"), 0o666); err != nil {
		return err
	}
	defer os.Remove(x)
	c.LosingLink = errnoName(os.Link(x, b))
	return nil
}

// linkRace links two files onto one free name at once, one through each
// client, and records the losers' errors.
func (p prober) linkRace(c *Capabilities) error {
	const rounds = 40
	a, b := p.path("race-a"), filepath.Join(p.other, "race-b")
	if err := os.WriteFile(a, []byte("a"), 0o666); err != nil {
		return err
	}
	defer os.Remove(a)
	if err := os.WriteFile(p.path("race-b"), []byte("b"), 0o666); err != nil {
		return err
	}
	defer os.Remove(p.path("race-b"))
	seen := map[string]bool{}
	for i := range rounds {
		target := fmt.Sprint("race-", i)
		var ea, eb error
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Add(2)
		go func() { defer wg.Done(); <-start; ea = os.Link(a, p.path(target)) }()
		go func() { defer wg.Done(); <-start; eb = os.Link(b, filepath.Join(p.other, target)) }()
		close(start)
		wg.Wait()
		os.Remove(p.path(target))
		switch {
		case ea == nil && eb == nil:
			return fmt.Errorf("two links onto one name both succeeded in round %d: the filesystem's link is not exclusive, and no lock built on it can be", i)
		case ea != nil && eb != nil:
			seen["both failed: "+errnoName(ea)+", "+errnoName(eb)] = true
		case ea != nil:
			seen[errnoName(ea)] = true
		default:
			seen[errnoName(eb)] = true
		}
	}
	for k := range seen {
		c.LosingLinkRace = append(c.LosingLinkRace, k)
	}
	slices.Sort(c.LosingLinkRace)
	return nil
}

// rename replaces a name again and again through Dir while watching it
// through Dir2 (or Dir): an atomic rename never lets the name go missing.
func (p prober) rename(c *Capabilities) error {
	const rounds = 200
	target := p.path("rename-target")
	if err := os.WriteFile(target, []byte("0"), 0o666); err != nil {
		return err
	}
	defer os.Remove(target)
	watched := filepath.Join(p.other, "rename-target")
	stop := make(chan struct{})
	missing := make(chan bool, 1)
	go func() {
		gap := false
		for {
			select {
			case <-stop:
				missing <- gap
				return
			default:
			}
			if _, err := os.Stat(watched); errors.Is(err, os.ErrNotExist) {
				gap = true
			}
		}
	}()
	var err error
	for i := range rounds {
		tmp := p.path(fmt.Sprint("rename-", i))
		if err = os.WriteFile(tmp, []byte(fmt.Sprint(i)), 0o666); err != nil {
			break
		}
		if err = os.Rename(tmp, target); err != nil {
			os.Remove(tmp)
			break
		}
	}
	close(stop)
	gap := <-missing
	if err != nil {
		return fmt.Errorf("rename over an existing name: %w", err)
	}
	c.RenameRounds = rounds
	c.RenameAtomic = !gap
	return nil
}

// clientNames removes a file while it is open and looks for the name the
// client keeps it under, then how long that name stays after the close.
func (p prober) clientNames(c *Capabilities) error {
	name := p.path("open-removed")
	if err := os.WriteFile(name, []byte("x"), 0o666); err != nil {
		return err
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	before, _ := listDir(p.dir)
	rerr := os.Remove(name)
	after, _ := listDir(p.dir)
	f.Close()
	if rerr != nil {
		return fmt.Errorf("removing a file that is open: %w", rerr)
	}
	for _, n := range after {
		if !slices.Contains(before, n) {
			c.ClientNames = append(c.ClientNames, n)
		}
	}
	if len(c.ClientNames) == 0 {
		return nil
	}
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		now, _ := listDir(p.dir)
		if !slices.ContainsFunc(c.ClientNames, func(n string) bool { return slices.Contains(now, n) }) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.ClientNamesLinger = time.Since(start)
	return nil
}

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
// ProbeCacheWait. The file is first looked at through to, as a waiter
// would, so that a cache there holds the old time.
func cacheDelay(from, to, base string, read bool) (time.Duration, error) {
	// A name of its own: a client that caches entries may still believe
	// in a name the other client removed.
	name := filepath.Join(from, base)
	if err := os.WriteFile(name, []byte("x"), 0o666); err != nil {
		return 0, err
	}
	defer os.Remove(name)
	seen := filepath.Join(to, filepath.Base(name))
	before, err := waitStat(seen, 5*time.Second)
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
		if time.Since(start) > ProbeCacheWait {
			return -1, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func waitStat(name string, patience time.Duration) (os.FileInfo, error) {
	start := time.Now()
	for {
		fi, err := os.Stat(name)
		if err == nil || time.Since(start) > patience {
			return fi, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// errnoName names the system error in err, "ok" for nil.
func errnoName(err error) string {
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		if n := errnoNames[errno]; n != "" {
			return n
		}
		return fmt.Sprintf("errno %d (%v)", int(errno), errno)
	}
	return err.Error()
}

var errnoNames = map[syscall.Errno]string{
	syscall.EEXIST: "EEXIST",
	syscall.EPERM:  "EPERM",
	syscall.EACCES: "EACCES",
	syscall.ENOENT: "ENOENT",
	syscall.EIO:    "EIO",
	syscall.ENOSYS: "ENOSYS",
}

// String is the capability report, one capability a line.
func (c *Capabilities) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "filesystem capabilities of %s", c.Dir)
	if c.Dir2 != "" {
		fmt.Fprintf(&b, " (second client: %s)", c.Dir2)
	}
	b.WriteString(":\n")
	row := func(k, format string, args ...any) { fmt.Fprintf(&b, "  %-28s %s\n", k, fmt.Sprintf(format, args...)) }
	row("timestamp granularity", "%v set, %v stamped by the server on writes", showGran(c.Granularity), showGran(c.StampGranularity))
	if c.LinkCounts {
		row("link counts", "reported (a file with a second link shows 2)")
	} else {
		row("link counts", "NOT reported (every file shows 1): ownership is decided by the claim name alone")
	}
	row("losing link (one client)", "%s", c.LosingLink)
	if c.Dir2 != "" {
		row("losing link (two clients)", "%s", strings.Join(c.LosingLinkRace, ", "))
	}
	if c.RenameAtomic {
		row("rename over a name", "atomic (the name never went missing in %d replacements)", c.RenameRounds)
	} else {
		row("rename over a name", "NOT atomic: the name went missing during %d replacements", c.RenameRounds)
	}
	if len(c.ClientNames) == 0 {
		row("removed while open", "no client-side name left")
	} else {
		row("removed while open", "the client keeps it as %q until the last close (gone %v after it)", c.ClientNames, round(c.ClientNamesLinger))
	}
	if c.Dir2 != "" {
		row("mtime change, -dir to -dir2", "stat: %s; read, then stat: %s", showDelay(c.OtherClientDelay), showDelay(c.OtherClientReadDelay))
		row("mtime change, -dir2 to -dir", "stat: %s; read, then stat: %s", showDelay(c.ReverseDelay), showDelay(c.ReverseReadDelay))
	}
	return b.String()
}

func showDelay(d time.Duration) string {
	switch {
	case d == 0:
		return "seen at once"
	case d < 0:
		return fmt.Sprintf("NOT seen within %v", ProbeCacheWait)
	}
	return fmt.Sprintf("seen after %v", round(d))
}

func showGran(g time.Duration) string {
	if g < 0 {
		return "unknown"
	}
	return g.String()
}
