// Package probe finds out what a filesystem does of what nfslock's lock
// relies on: whether link is exclusive and how a losing link fails, whether
// link counts are reported, how finely file times are kept, the file
// server's clock offset, whether rename replaces a name atomically, what a
// network client does with a file removed while open, how late one client
// sees another's change, and how long one call through the mount takes.
//
// Probe measures; it passes no verdict. The conformance suite adapts its
// tests to the Capabilities it returns, and `nfslock check` judges from them
// whether the locks are safe there (see docs/cli.md). The package needs only
// the standard library and locker, so a program can probe a mount without
// linking the suite.
package probe
