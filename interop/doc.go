// Package interop tests nfslock against the real Python flufl.lock: a Go
// process and flufl.lock processes share lock files in a temporary
// directory, see each other's locks, agree on their state, break each
// other's expired locks and contend for one lock without losing an update.
//
// The tests need /usr/bin/python3 with flufl.lock (on Debian and Ubuntu:
// apt-get install python3-flufl.lock). Without it they skip, saying what to
// install. Environment variables:
//
//   - NFSLOCK_INTEROP=required makes a missing flufl.lock a failure instead
//     of a skip (CI sets it);
//   - NFSLOCK_PYTHON names another interpreter (an absolute path, or a name
//     looked up in PATH);
//   - NFSLOCK_PYTHONPATH lists absolute directories put ahead of PYTHONPATH
//     for the Python processes: a flufl.lock unpacked there is tested
//     instead of the installed one. .ci/flufl9.sh runs the tests this way
//     with flufl.lock 9.x from Debian unstable.
//
// go test -v -run Version names the flufl.lock under test. The contract
// with flufl.lock, and its caveats, are in docs/python-interop.md in the
// repository.
package interop
