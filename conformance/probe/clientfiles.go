package probe

import (
	"os"
	"slices"
	"strings"
	"time"
)

// clientPrefixes are the prefixes of names that clients give files removed
// while open: NFS's "silly rename", FUSE's hidden files, Samba's.
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

// lingerWait bounds how long clientNames waits for the client's names to go.
const lingerWait = 10 * time.Second

// clientNames removes a file while it is open and looks for the name the
// client keeps it under, then how long that name stays after the close.
func (p prober) clientNames(c *Capabilities) error {
	name := p.path("open-removed")
	before, err := listDir(p.dir)
	if err != nil {
		return err
	}
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	_, err = f.WriteString("open")
	if err != nil {
		f.Close()
		os.Remove(name)
		return err
	}
	rerr := os.Remove(name)
	if removeGone(name, rerr) {
		rerr = nil // done, its reply lost (see lost.go)
	}
	after, _ := listDir(p.dir)
	f.Close()
	if rerr != nil {
		c.RemoveOpenError = rerr.Error()
		os.Remove(name)
		return nil
	}
	for _, n := range after {
		if !slices.Contains(before, n) && n != "open-removed" {
			c.ClientNames = append(c.ClientNames, n)
		}
	}
	if len(c.ClientNames) == 0 {
		return nil
	}
	start := time.Now()
	for time.Since(start) < lingerWait {
		now, _ := listDir(p.dir)
		if !slices.ContainsFunc(c.ClientNames, func(n string) bool { return slices.Contains(now, n) }) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.ClientNamesLinger = time.Since(start)
	return nil
}

// listDir returns the names in dir.
func listDir(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	names := make([]string, len(ents))
	for i, e := range ents {
		names[i] = e.Name()
	}
	return names, err
}
