// Package faultfs wraps any nfslock backend (a locker.FS) and makes chosen
// calls fail, as a network filesystem can: before the call reaches the
// filesystem (Fail), or after it was performed, its reply lost (LoseReply).
// A hook called at the start of every call (SetHook) lets a test pause a
// lock at a chosen step, or change the filesystem under it there.
//
// The conformance suite injects its faults through it on every backend;
// unit tests of code that takes locks can do the same over the in-memory
// backend or any other.
package faultfs
