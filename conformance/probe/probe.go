package probe

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/nfslock/nfslock/locker"
)

// Capabilities is what Probe found that a filesystem does of what the lock
// relies on. A finding that could not be measured is left at its zero value,
// and Probe's error says why.
type Capabilities struct {
	Dir  string // the directory probed
	Dir2 string // the same directory through a second client, or ""

	// Latency is how long one call through the mount took while probing:
	// the median and the longest of several stats of a file, and of several
	// rounds of a link onto a free name and its removal. A lock attempt is a
	// handful of such calls, so a test on the real clock scales its margins
	// and backoffs from Latency.PerCall (about 2–4 ms on NFS over loopback,
	// microseconds on a local disk).
	Latency Latency

	// Granularity is how finely the filesystem stores a modification time
	// set with Chtimes (1ns on ext4 and tmpfs, 100ns on NTFS, 1s on sshfs),
	// -1 if the time read back is no usual truncation or rounding of it;
	// TimeSet is the time set and TimeRead what was read back.
	Granularity       time.Duration
	TimeSet, TimeRead time.Time
	// StampGranularity is the same for the time the server stamps on a file
	// it has just written (1s on sshfs, whose server may keep nanoseconds
	// but SFTP version 3 carries whole seconds), guessed from the trailing
	// zeros of a few such times.
	StampGranularity time.Duration
	// ClockOffset is the file server's clock minus this host's, judged from
	// the times the server stamps on files written through Dir, give or take
	// ClockUncertainty (the write's duration and the time granularity).
	ClockOffset      time.Duration
	ClockUncertainty time.Duration

	// LinkError is the error of a link to a free name, "" if it worked. The
	// lock cannot work without hard links; the other link findings are then
	// left unmeasured.
	LinkError string
	// LinkCounts reports whether a file with a second hard link shows two
	// links (false on sshfs: SFTP has no link count and every file shows 1);
	// LinksAfterLink is the count it showed.
	LinkCounts     bool
	LinksAfterLink uint64
	// LosingLink is the system's error (as ErrnoName gives it) of a link
	// onto an existing name, "ok" if it succeeded. LosingLinkExists reports
	// whether the backend's error for it satisfies fs.ErrExist, as the lock
	// requires; LosingLinkReplaced whether it changed what the name held.
	LosingLink         string
	LosingLinkExists   bool
	LosingLinkReplaced bool
	// LinkRace is what happened when racers linked their own files onto one
	// free name at once, round after round (half of them through Dir2, if
	// there is one).
	LinkRace LinkRace

	// RenameError is the error of a rename onto an existing name, "" if it
	// worked; RenameReplaces reports whether it left the name holding the
	// renamed file and the old name gone.
	RenameError    string
	RenameReplaces bool
	// RenameAtomic reports whether a name being replaced with rename was
	// always seen (through Dir2, or Dir) during RenameRounds replacements.
	RenameAtomic bool
	RenameRounds int

	// RemoveOpenError is the error of removing a file while it is open, ""
	// if that worked. ClientNames are the names the client gave such a file
	// (".nfsXXXX" on NFS, ".fuse_hiddenXXXX" on FUSE filesystems such as
	// sshfs; see IsClientFile); ClientNamesLinger how long they stayed after
	// the last close.
	RemoveOpenError   string
	ClientNames       []string
	ClientNamesLinger time.Duration

	// OtherClientDelay is how long a modification time set through Dir took
	// to show through Dir2, and ReverseDelay the same from Dir2 to Dir (0: at
	// once; negative: not within CacheWait). Attribute caches show here: a
	// waiter behind one sees the holder's refreshes late. Measured only with
	// a Dir2.
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

// TimeGranularity is the granularity of the times the lock reads back: the
// coarser of Granularity and StampGranularity.
func (c *Capabilities) TimeGranularity() time.Duration {
	return max(c.Granularity, c.StampGranularity)
}

// Probe finds out what the filesystem under dir does that the lock relies
// on, in a fresh subdirectory of dir that it removes afterwards. dir2, if not
// empty, is the same directory reached through another client (a second
// mount of the same export): link races and attribute caches are then
// probed across the two. fsys is the backend whose calls are measured, as
// the lock makes them; the filesystem's own answers (the errno of a losing
// link, the client's names for removed files) are seen through package os.
//
// A filesystem that does something the lock cannot live with is a finding,
// not an error: the error says why probing stopped (a file that cannot be
// written, stated or dated, or a dir2 that does not show dir's files), and
// the Capabilities then hold what was found before.
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
		if _, err := waitStat(other, showPatience); err != nil {
			return c, fmt.Errorf("probe: %s made through %s does not show through %s as %s; is that the same directory? %w", sub, dir, dir2, other, err)
		}
	}
	p := prober{fsys: fsys, dir: sub, other: other, twoClients: dir2 != ""}
	steps := []func(*Capabilities) error{p.times, p.links, p.latency, p.linkRace, p.rename, p.clientNames}
	if p.twoClients {
		steps = append(steps, p.otherClient)
	}
	for _, step := range steps {
		if err := step(c); err != nil {
			return c, fmt.Errorf("probe: %w", err)
		}
	}
	return c, nil
}

// A prober runs the steps of Probe, each filling in its findings.
type prober struct {
	fsys       locker.FS
	dir        string // a fresh directory
	other      string // dir through the second client, or dir itself
	twoClients bool
}

func (p prober) path(name string) string { return filepath.Join(p.dir, name) }

// showPatience bounds how long a file made through one client may take to
// show through the other.
const showPatience = 5 * time.Second

// waitStat stats name until it is there, for at most patience: a client
// may take a moment to see another's new file.
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
