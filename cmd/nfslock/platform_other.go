//go:build !(linux || darwin || freebsd || netbsd || openbsd || windows)

package main

// nfslock has filesystem backends for Linux, macOS, the BSDs and Windows
// only. On any other system the build fails here, saying so.
var _ = nfslock_has_backends_for_linux_macos_bsd_and_windows_only
