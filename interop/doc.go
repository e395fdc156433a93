// Package interop tests nfslock against the real Python flufl.lock: a Go
// process and flufl.lock processes share lock files in a temporary
// directory, see each other's locks, break each other's expired locks and
// contend for one lock without losing an update.
//
// The tests need /usr/bin/python3 with flufl.lock (on Debian and Ubuntu:
// apt-get install python3-flufl.lock). Without it they fail, saying how to
// install it, unless NFSLOCK_SKIP_PYTHON=1 is set: then they skip.
package interop
