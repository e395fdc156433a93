// Package conformance is the suite every nfslock backend must pass, in the
// manner of testing/fstest.TestFS: a backend author describes the backend
// in a Backend and calls Run from an ordinary test,
//
//	func TestConformance(t *testing.T) { conformance.Run(t, backend) }
//
// and gets scenarios for each rule of the algorithm, a state machine and
// interleavings of several lockers checked against the lock's guarantees,
// fencing, and multi-process stress in a real directory. OnDisk describes a
// backend that works on real directories.
//
// The rules and guarantees the suite checks are written in full in
// docs/algorithm.md in the repository; running the suite on a filesystem
// of your own (TestDirectory with -dir and -dir2) or on a backend of your
// own is described in docs/conformance.md.
package conformance
