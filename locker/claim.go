package locker

import (
	"strconv"
	"strings"
)

// A claim name is flufl.lock's: the lock path, the host name, the pid and a
// random integer, joined by the separator. The claim file lives at that name
// and contains exactly that name, so the lock file (a hard link to the
// holder's claim file) tells who holds it.

// claimName builds the claim name for lockPath.
func claimName(lockPath, sep, host string, pid int, random int64) string {
	return strings.Join([]string{lockPath, host, strconv.Itoa(pid), strconv.FormatInt(random, 10)}, sep)
}

// claim is a parsed claim name.
type claim struct {
	name     string // the whole name, as read
	lockFile string // the lock path as the claimant spelled it
	host     string
	pid      int
}

// parseClaim parses the contents of a lock file. It accepts only a name that
// could have been written for a lock file with the base name base: four
// fields, a non-empty host with no path separator in it, a positive pid and
// a non-negative random number. Anything else is not a lock and must never
// be broken. (A slash in the host would make the claim file's base name,
// which a breaker removes, something other than a claim of this lock.)
func parseClaim(contents, sep, base string) (claim, bool) {
	name := strings.TrimSpace(contents)
	parts := strings.Split(name, sep)
	if len(parts) != 4 || parts[1] == "" || strings.ContainsAny(parts[1], `/\`) {
		return claim{}, false
	}
	if baseName(parts[0]) != base {
		return claim{}, false
	}
	pid, err := strconv.Atoi(parts[2])
	if err != nil || pid <= 0 {
		return claim{}, false
	}
	if r, err := strconv.ParseInt(parts[3], 10, 64); err != nil || r < 0 {
		return claim{}, false
	}
	return claim{name: name, lockFile: parts[0], host: parts[1], pid: pid}, true
}

// baseName is the last element of a path written by any platform: a claim
// may come from a Windows host (backslashes) or a POSIX one (slashes), and
// from a client that mounts the shared directory somewhere else.
func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
