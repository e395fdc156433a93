package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// misspelt returns the subcommand that arg, the first argument, looks like
// a misspelling of, or "" if it does not look like one. arg looks like one
// when it is a word as subcommands are (lower-case letters and '-'), is not
// the name of anything that exists, and is within 1 edit of a subcommand
// of up to 4 letters or 2 edits of a longer one: close enough to be a typo,
// far enough that a lock file named "lock.lock" or "x" is not taken for
// one. (A transposition counts as one edit.)
func (e *env) misspelt(arg string) string {
	if !isWord(arg) {
		return ""
	}
	if _, err := e.fsys.Stat(arg); err == nil {
		return ""
	}
	return nearest(arg)
}

// nearest returns the subcommand that word is a likely misspelling of, or
// "" (see misspelt).
func nearest(word string) string {
	best, bestDist := "", 3
	for _, sc := range subcommands() {
		max := 2
		if len(sc.name) <= 4 {
			max = 1
		}
		if d := editDistance(word, sc.name); d >= 1 && d <= max && d < bestDist {
			best, bestDist = sc.name, d
		}
	}
	return best
}

// isWord reports whether s is made of lower-case letters and '-' only.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '-' {
			return false
		}
	}
	return true
}

// editDistance is the optimal string alignment distance between a and b:
// the fewest insertions, deletions, substitutions and transpositions of
// adjacent letters that turn a into b.
func editDistance(a, b string) int {
	// d[i][j] is the distance between a[:i] and b[:j].
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// notFound is err, the failure to find the command to run, without
// os/exec's prefix and with a hint when the lock file argument lockArg is
// a word that names nothing: the user may have meant a subcommand that
// does not exist, and should learn that nfslock took it for a lock file.
func (e *env) notFound(lockArg string, err error) error {
	var ee *exec.Error
	if errors.As(err, &ee) {
		err = ee.Err
	}
	if !errors.Is(err, exec.ErrNotFound) || !isWord(lockArg) {
		return err
	}
	if _, serr := e.fsys.Stat(lockArg); serr == nil {
		return err
	}
	var names []string
	for _, sc := range subcommands() {
		names = append(names, sc.name)
	}
	return fmt.Errorf("%w (%s was taken for the lock file: it is not a subcommand, which are %s)", err, lockArg, strings.Join(names, ", "))
}
